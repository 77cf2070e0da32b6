"""scripts/install_torch.py: the CPU build of PyTorch where there is no NVIDIA GPU."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "install_torch.py"


@pytest.fixture(scope="module")
def install():  # noqa: ANN201 - the script as a module
    spec = importlib.util.spec_from_file_location("install_torch", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["install_torch"] = module
    spec.loader.exec_module(module)
    return module


def test_the_route_follows_the_gpu_and_the_index(install) -> None:  # noqa: ANN001
    assert install.choose("auto", gpu=False, index_up=True)[0] == "cpu"
    assert install.choose("auto", gpu=True, index_up=True)[0] == "default"
    assert install.choose("gpu", gpu=False, index_up=True)[0] == "default"
    assert install.choose("cpu", gpu=False, index_up=True)[0] == "cpu"
    kind, why = install.choose("auto", gpu=False, index_up=False)
    assert kind == "default" and "does not answer" in why
    with pytest.raises(SystemExit, match="TORCH=cpu, but"):
        install.choose("cpu", gpu=False, index_up=False)


def test_the_pins_are_pyprojects(install, tmp_path: Path) -> None:  # noqa: ANN001
    assert install.pins() == ["torch==2.14.1", "torchvision==0.29.1"]
    bad = tmp_path / "pyproject.toml"
    bad.write_text('dependencies = ["torch>=2"]\n')
    with pytest.raises(SystemExit, match="should pin torch and torchvision"):
        install.pins(bad)


def test_an_unreachable_index_is_seen_quickly(install) -> None:  # noqa: ANN001
    assert install.reachable("http://127.0.0.1:9", timeout=2) is False
