"""The Reproduce section: the exact commands that reproduce the run, its numbers and figures."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from stylecast.records import EvaluationRecord
from stylecast.report.registry import ReportRun, Section, register_section
from stylecast.run import RunFolder, RunInfo

__all__ = ["reproduce_commands"]


def _pretty_command(command: str) -> str:
    """run.json's argv with the interpreter's script path written as ``stylecast``."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return command
    if argv and (argv[0].endswith(("__main__.py", "/stylecast")) or argv[0] == "stylecast"):
        argv[0] = "stylecast"
    return shlex.join(argv)


def reproduce_commands(
    run: RunFolder,
    info: RunInfo | None,
    evaluation: EvaluationRecord | Mapping[str, Any] | None,
) -> list[dict[str, str]]:
    """The exact commands that reproduce this run, its numbers and its figures."""
    q = shlex.quote
    source = str(info.data) if info is not None else "DATA"
    if isinstance(evaluation, EvaluationRecord):
        split, data = evaluation.split, evaluation.data
    else:  # the JSON's split and data (or nothing: the run was never evaluated)
        split, data = (evaluation or {}).get("split"), (evaluation or {}).get("data")
    cmds = []
    if info is not None and info.command:
        cmds.append(
            {"what": "the command that made this run", "cmd": _pretty_command(info.command)}
        )
    what = "train again with the same data, split settings and configuration"
    if info is not None and info.extra.get("tuned"):
        what = (
            "train the best configuration again (on a fresh train/val/test split; the "
            "retrain above used the study's train + validation images)"
        )
    cmds.append(
        {
            "what": what,
            "cmd": f"stylecast train {q(source)} --config {q(str(run.config_file))} --out NEW_RUN",
        }
    )
    evaluate = f"stylecast evaluate {q(str(run.path))}"
    if split == "external" and data:
        evaluate += f" {q(str(data))}"
    cmds.append({"what": "metrics, calibration, galleries and Grad-CAM", "cmd": evaluate})
    cmds.append(
        {
            "what": "explain one image (Grad-CAM)",
            "cmd": f"stylecast explain {q(str(run.path))} IMAGE",
        }
    )
    cmds.append({"what": "this report", "cmd": f"stylecast report {q(str(run.path))}"})
    return cmds


def _build(run: ReportRun) -> dict[str, Any]:
    return {"commands": reproduce_commands(run.folder, run.run_info, run.evaluation)}


register_section(Section("reproduce", "Reproduce", 100, _build, "section_reproduce.html.j2"))
