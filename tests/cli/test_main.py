"""The ``stylecast`` entry point: commands, help, and what ``--help`` must not import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import run_cli

HEAVY = ("torch", "timm", "optuna")


def test_help_lists_the_commands() -> None:
    res = run_cli("--help")
    assert res.returncode == 0
    for command in ("demo", "train", "evaluate", "report", "model"):
        assert command in res.stdout
    res = run_cli("train", "--help")
    for flag in (
        "--epochs",
        "--lr",
        "--batch-size",
        "--weight-decay",
        "--freeze",
        "--img-size",
        "--out",
        "--seed",
        "--config",
        "--resume",
        "--mode",
    ):
        assert flag in res.stdout


def _imported(stderr: str) -> set[str]:
    """Top-level module names in ``python -X importtime`` output."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the header line
                names.add(name.split(".")[0])
    return names


@pytest.mark.parametrize(
    "args",
    [
        ["-c", "import stylecast"],
        ["-m", "stylecast", "--help"],
        ["-m", "stylecast", "train", "--help"],
        ["-m", "stylecast", "tune", "--help"],
    ],
    ids=["import", "help", "train-help", "tune-help"],
)
def test_import_and_help_load_no_torch_timm_or_optuna(args: list[str]) -> None:
    res = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr[-2000:]
    imported = _imported(res.stderr)
    assert "stylecast" in imported  # the output was read: it names what was imported
    if "--help" in args:
        assert {"argparse", "yaml"} <= imported  # the parser and the config were built
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_a_missing_command_module_is_an_error_not_a_missing_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import stylecast.cli

    monkeypatch.setattr(
        stylecast.cli, "COMMAND_MODULES", (*stylecast.cli.COMMAND_MODULES, "stylecast.cli.nope")
    )
    with pytest.raises(ModuleNotFoundError, match="stylecast.cli.nope"):
        stylecast.cli.build_parser()


def test_every_command_module_registers_its_commands() -> None:
    from stylecast.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    assert sorted(sub.choices) == [
        "compare",
        "data",
        "demo",
        "distill",
        "ensemble",
        "evaluate",
        "explain",
        "export",
        "model",
        "palette",
        "predict",
        "report",
        "serve",
        "train",
        "trends",
        "tune",
    ]
    assert parser.parse_args(["--debug", "model", "list"]).debug is True


def test_no_command_prints_help_and_version_works() -> None:
    res = run_cli()
    assert res.returncode == 0 and res.stdout.startswith("usage: stylecast")
    res = run_cli("--version")
    assert res.returncode == 0 and res.stdout.strip().startswith("stylecast 0.")


def test_a_mistyped_flag_is_one_line_with_a_suggestion() -> None:
    # Issue 25.9: no 30 lines of usage before the "did you mean".
    res = run_cli("train", "data", "--epohcs", "3")
    assert res.returncode == 1
    assert res.stderr.splitlines() == [
        "stylecast train: error: unrecognized arguments: --epohcs 3; "
        "--epohcs -> did you mean --epochs?"
    ]
    res = run_cli("model", "summary", "--img-sise", "64")
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1
    assert "did you mean --img-size?" in res.stderr and "usage:" not in res.stderr
    res = run_cli("train", "--help")  # help itself is unchanged
    assert res.returncode == 0 and res.stdout.startswith("usage: stylecast train ")


def test_a_mistyped_command_gets_a_suggestion() -> None:
    res = run_cli("evalute", "runs/x")
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1
    assert "invalid choice: 'evalute'" in res.stderr and "did you mean 'evaluate'?" in res.stderr
