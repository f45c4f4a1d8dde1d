"""Terraform read as data (python-hcl2), for the offline infra checks: no provider can be downloaded here, so
`terraform init/validate/plan` are impossible; these tests hold the configuration against the code instead."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MODULES = INFRA / "modules"
ENVS = ("dev", "prod")
OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


def load_tf(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        return hcl2.load(fh, serialization_options=OPTIONS)


@dataclass
class TfDir:
    """Every block of one directory's .tf files, merged by type and label."""

    path: Path
    blocks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return self.blocks.get(kind, [])

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        for block in self.all("resource"):
            if rtype in block and name in block[rtype]:
                return block[rtype][name]
        raise KeyError(f"{self.path.name}: no resource {rtype}.{name}")

    def resources(self) -> list[tuple[str, str]]:
        return [(t, n) for block in self.all("resource") for t, named in block.items() for n in named]

    def module(self, name: str) -> dict[str, Any]:
        for block in self.all("module"):
            if name in block:
                return block[name]
        raise KeyError(f"{self.path.name}: no module {name}")

    @property
    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for block in self.all("locals"):
            merged.update(block)
        return merged


def load_dir(path: Path) -> TfDir:
    tf = TfDir(path)
    for file in sorted(path.glob("*.tf")):
        for kind, blocks in load_tf(file).items():
            tf.blocks.setdefault(kind, []).extend(blocks if isinstance(blocks, list) else [blocks])
    return tf


@pytest.fixture(scope="session")
def modules() -> dict[str, TfDir]:
    return {p.name: load_dir(p) for p in sorted(MODULES.iterdir()) if p.is_dir()}


@pytest.fixture(scope="session")
def envs() -> dict[str, TfDir]:
    return {name: load_dir(INFRA / "envs" / name) for name in ENVS}


def load_script(name: str) -> ModuleType:
    """infra/*.py are scripts, not a package."""
    spec = importlib.util.spec_from_file_location(f"infra_{name}", INFRA / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def app() -> dict[str, Any]:
    return json.loads((INFRA / "app.json").read_text())


def block(value: Any) -> dict[str, Any]:
    """A nested block comes back as a one-element list."""
    assert isinstance(value, list) and len(value) == 1, value
    return value[0]
