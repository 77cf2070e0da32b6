"""The JSON the API answers, as pydantic models: they document it in the OpenAPI schema
(``/openapi.json``, ``/docs``) and check every answer before it leaves."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "ErrorAnswer",
    "Health",
    "ModelCard",
    "PaletteColour",
    "PredictAnswer",
    "Prediction",
]


class ErrorAnswer(BaseModel):
    error: str = Field(description="a short code, e.g. file_too_large, not_an_image, busy")
    detail: Any = Field(description="what was wrong, in a sentence (or a list of problems)")
    filename: str | None = Field(None, description="the uploaded file at fault, when one is")


class PaletteColour(BaseModel):
    hex: str = Field(description="#rrggbb")
    name: str = Field(description="XKCD colour name (colornamer)")
    common: str
    family: str = Field(description="one of colornamer's 26 families")
    neutral: bool
    share: float = Field(description="share of the garment; an image's shares sum to 1")


class Prediction(BaseModel):
    filename: str = Field(description="the name the client gave the file (never used on disk)")
    format: str = Field(description="the format found in the bytes, e.g. JPEG")
    width: int
    height: int
    predicted: str
    confidence: float = Field(description="calibrated probability of the predicted class")
    probabilities: dict[str, float] = Field(description="every class; they sum to 1")
    palette: list[PaletteColour] | None = Field(None, description="absent with ?palette=0")
    cam: str | None = Field(None, description="Grad-CAM overlay, a PNG data URI (?cam=1)")
    cam_class: str | None = Field(None, description="the class whose evidence cam shows")
    disagreement: float | None = Field(
        None, description="an ensemble: the share of its members whose top class is another"
    )
    member_std: float | None = Field(
        None,
        description="an ensemble: the spread (standard deviation) of its members' probability "
        "of the predicted class",
    )


class PredictAnswer(BaseModel):
    model: str
    classes: list[str]
    results: list[Prediction]
    seconds: float = Field(description="time spent on the request, upload read excluded")


class ModelCard(BaseModel):
    run: str = Field(description="the run folder's name")
    model: dict[str, Any] = Field(
        description="name, timm_name, img_size, temperature, backend, description (e.g. "
        "'ensemble of 3 x efficientnet_lite0'), members (an ensemble's count, else null)"
    )
    classes: list[str]
    test: dict[str, Any] | None = Field(
        description="the run's evaluation.json: split, n, accuracy, accuracy_ci (95% Wilson), "
        "balanced_accuracy(_ci), majority_class, majority_share, beats_majority, log_loss, ece"
    )
    data: dict[str, Any] | None = Field(description="the data source's name and kind")
    trained: str | None = Field(description="when the run was made (run.json)")
    stylecast_version: str | None
    limits: dict[str, float] = Field(description="the server's upload limits")
    api_key_required: bool


class Health(BaseModel):
    status: str
    api_key_required: bool
    queue: dict[str, int] = Field(description="workers, capacity, pending, served, refused")
