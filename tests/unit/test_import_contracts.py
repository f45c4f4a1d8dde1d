"""The package reads as the architecture only while imports go one way: `lint-imports` (pyproject.toml's
contracts) passes on the tree, and fails on a copy of it with one forbidden import added."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The packages at the root of a scratch folder, found there before the installed (editable) ones."""
    for package in ("aiadmin", "devstack"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "session-host" / "session_host", tmp_path / "session_host")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("aiadmin/core/settings.py", "from aiadmin.marketplace import health", "layers below them"),
        ("aiadmin/yclients/client.py", "from aiadmin.sync import runner", "layers below them"),
        ("aiadmin/sync/writer.py", "from aiadmin.whatsapp import chat", "layers below them"),  # siblings
        ("aiadmin/ai/english.py", "from aiadmin.marketplace import registration", "layers below them"),  # siblings
        ("aiadmin/core/logs.py", "import session_host.sessions", "deployables"),
        ("aiadmin/whatsapp/qr_image.py", "from devstack import yclients_salon", "deployables"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tree_copy: Path, module: str, line: str, contract: str):
    path = tree_copy / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0, result.stdout[-2000:]
    broken = [ln for ln in result.stdout.splitlines() if ln.endswith("BROKEN")]
    assert broken and contract in " ".join(result.stdout.split()), result.stdout[-2000:]
