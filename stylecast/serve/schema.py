"""The JSON the API answers, as pydantic models: they document it in the OpenAPI schema
(``/openapi.json``, ``/docs``) and check every answer before it leaves."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "ErrorAnswer",
    "Familiarity",
    "Health",
    "Limits",
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


class Familiarity(BaseModel):
    distance: float = Field(
        description="mean cosine distance of the image's features (the served model's, in "
        "front of its classifier) to its k nearest reference images of the run"
    )
    threshold: float = Field(
        description="the 99th percentile of the reference images' own leave-one-out distances"
    )
    percentile: float = Field(
        description="share (0-100) of reference images whose own distance is at most this "
        "image's: 100 means farther out than all of them"
    )


class Prediction(BaseModel):
    filename: str = Field(description="the name the client gave the file (never used on disk)")
    format: str = Field(description="the format found in the bytes, e.g. JPEG")
    width: int
    height: int
    predicted: str
    confidence: float = Field(
        description="probability of the predicted class (after the run's temperature, when "
        "one was kept: see the card's model.calibration)"
    )
    probabilities: dict[str, float] = Field(description="every class; they sum to 1")
    unusual: bool | None = Field(
        None,
        description="true when the image is farther from the run's own photos than 99% of "
        "them are from each other (likely not what the model was trained on: treat its "
        "prediction with caution); null when the server has no reference (the card's "
        "familiarity.reason says why)",
    )
    familiarity: Familiarity | None = Field(
        None, description="the numbers behind unusual (null when unusual is null)"
    )
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


class Limits(BaseModel):
    max_upload_bytes: int = Field(description="largest file, in bytes")
    max_pixels: int = Field(description="largest width x height")
    max_files: int = Field(description="images in one request")
    min_side: int = Field(description="smallest width or height, in pixels")
    timeout_s: int | float = Field(
        description="seconds for an upload to arrive and again for its analysis (an integer "
        "unless set with a fraction)"
    )


class ModelCard(BaseModel):
    run: str = Field(description="the run folder's name")
    model: dict[str, Any] = Field(
        description="name, timm_name, img_size, temperature, calibration ('calibrated "
        "(temperature 1.37, ...)' or 'not recalibrated (temperature 1)'), backend, "
        "description (e.g. 'ensemble of 3 x efficientnet_lite0'), members (an ensemble's "
        "count, else null)"
    )
    classes: list[str]
    test: dict[str, Any] | None = Field(
        description="the run's evaluation.json: split, n, accuracy, accuracy_ci (95% Wilson), "
        "balanced_accuracy(_ci), majority_class, majority_share, beats_majority, log_loss, ece"
    )
    data: dict[str, Any] | None = Field(description="the data source's name and kind")
    trained: str | None = Field(description="when the run was made (run.json)")
    stylecast_version: str | None
    limits: Limits = Field(description="the server's upload limits")
    api_key_required: bool
    familiarity: dict[str, Any] | None = Field(
        None,
        description="the out-of-domain signal: available, reason (why not, when not), "
        "features, reference_images, k, threshold, percentile",
    )


class Health(BaseModel):
    status: str
    api_key_required: bool
    queue: dict[str, int] = Field(description="workers, capacity, pending, served, refused")
