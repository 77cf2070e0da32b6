"""Install the pinned PyTorch before stylecast: the CPU build where there is no NVIDIA GPU.

PyPI's torch for Linux is the CUDA build: with its ~15 nvidia-* wheels a laptop's .venv
grows to about 6.6 GB. PyTorch's own CPU wheels (https://download.pytorch.org/whl/cpu) hold
the same torch without CUDA: about 2 GB. ``make demo`` and ``make test`` run this first:

    python scripts/install_torch.py [--route auto|cpu|gpu]

``auto`` (the default) takes the CPU build when ``nvidia-smi`` finds no GPU and PyTorch's
CPU index answers; ``gpu`` (or a machine with an NVIDIA GPU) leaves torch to ``pip install
-e .``, which takes PyPI's CUDA build. The versions are the pins of pyproject.toml.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
ROOT = Path(__file__).resolve().parent.parent


def pins(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The ``torch==`` and ``torchvision==`` requirements of pyproject.toml."""
    text = pyproject.read_text()
    found = re.findall(r'"((?:torch|torchvision)==[^"]+)"', text)
    if len(found) != 2:
        raise SystemExit(f"error: {pyproject} should pin torch and torchvision, found {found}")
    return found


def has_nvidia_gpu() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def reachable(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=timeout):
            return True
    except OSError:
        return False


def choose(route: str, gpu: bool, index_up: bool) -> tuple[str, str]:
    """``("cpu" or "default", why)`` for a route, a GPU and whether the CPU index answers."""
    if route == "gpu":
        return "default", "TORCH=gpu: PyPI's CUDA build"
    if route == "auto" and gpu:
        return "default", "an NVIDIA GPU is here: PyPI's CUDA build (TORCH=cpu for the CPU one)"
    if not index_up:
        if route == "cpu":
            raise SystemExit(f"error: TORCH=cpu, but {CPU_INDEX} does not answer")
        return "default", f"{CPU_INDEX} does not answer: PyPI's build, with CUDA libraries"
    return "cpu", "no NVIDIA GPU here: PyTorch's CPU build (TORCH=gpu for the CUDA one)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--route", choices=["auto", "cpu", "gpu"], default="auto")
    ap.add_argument("--index", default=CPU_INDEX, help="PyTorch's CPU wheel index")
    args = ap.parse_args(argv)
    gpu = args.route == "auto" and has_nvidia_gpu()
    index_up = args.route != "gpu" and not gpu and reachable(args.index)
    kind, why = choose(args.route, gpu, index_up)
    print(f"torch: {why}", flush=True)
    if kind == "default":
        return 0
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--index-url", args.index]
    return subprocess.call([*cmd, *pins()])


if __name__ == "__main__":
    sys.exit(main())
