"""The ``stylecast`` command line: thin subcommands over the Python API.

Each subcommand parses its flags, calls one API function and prints the result. A
:class:`~stylecast.errors.StylecastError` becomes one line on stderr and exit code 1;
tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from stylecast import __version__
from stylecast.errors import StylecastError

__all__ = ["main", "build_parser"]

# Each module defines ``register(subparsers)``; one module per group of subcommands.
COMMAND_MODULES = (
    "stylecast.cli.core",
    "stylecast.cli.data",
    "stylecast.cli.tune",
    "stylecast.cli.insight",
    "stylecast.cli.trends",
    "stylecast.cli.export",
    "stylecast.cli.palette",
    "stylecast.cli.serve",
    "stylecast.cli.ensemble",
)


class Parser(argparse.ArgumentParser):
    """argparse with stylecast's error contract: one ``error:`` line, exit code 1.

    No usage block: ``stylecast train``'s runs to 30 lines and buried the one line that
    says what went wrong (``stylecast COMMAND --help`` shows it).
    """

    def error(self, message: str) -> NoReturn:
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2))
            close = difflib.get_close_matches(match.group(1), choices, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean {close[0]!r}?"
        self.exit(1, f"{self.prog}: error: {message}\n")


def _suggest(parser: argparse.ArgumentParser, unknown: list[str]) -> str:
    """``--epoch`` -> ``--epochs``: the closest flag of the subcommand, if one is close."""
    flags = [s for a in parser._actions for s in a.option_strings]  # noqa: SLF001
    hints = []
    for token in unknown:
        name = token.split("=", 1)[0]
        if name.startswith("-"):
            close = difflib.get_close_matches(name, flags, n=1, cutoff=0.6)
            if close:
                hints.append(f"{name} -> did you mean {close[0]}?")
    return ("; " + "; ".join(hints)) if hints else ""


def _command_parser(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.ArgumentParser:
    """The (sub)parser a command line reached: ``stylecast model summary`` -> its parser."""
    current = parser
    for token in argv:
        subs = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
        if subs and token in subs[0].choices:
            current = subs[0].choices[token]
    return current


def build_parser() -> argparse.ArgumentParser:
    """The ``stylecast`` parser with every subcommand (imports no torch, timm or optuna)."""
    parser = Parser(
        prog="stylecast",
        description="Fashion images in folders -> a season classifier you can trust: "
        "check data, train, tune, evaluate and report.",
        epilog="Run `stylecast COMMAND --help` for a command's options. "
        "Start with `stylecast demo`.",
    )
    parser.add_argument("--version", action="version", version=f"stylecast {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks instead of one-line errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 user error, 2 internal error)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # Reported by the subcommand that was given, with its usage and the closest flag
        # (argparse alone shows the top-level usage and no suggestion).
        command = _command_parser(parser, argv)
        command.error(f"unrecognized arguments: {' '.join(unknown)}{_suggest(command, unknown)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    debug = args.debug or os.environ.get("STYLECAST_DEBUG") == "1"
    try:
        return int(args.func(args) or 0)
    except StylecastError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of ours or the user's.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        if debug:
            raise
        print(
            "interrupted; a training run continues with `stylecast train --resume RUN`",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        if debug:
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback "
            "and please report it)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
