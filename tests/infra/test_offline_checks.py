"""The checks Terraform allows without its Google provider: formatting, syntax, and checkov's static policies."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.infra.conftest import INFRA, ROOT, load_tf

TF_FILES = sorted(INFRA.rglob("*.tf"))
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def _terraform() -> str:
    found = shutil.which("terraform")
    if found is None:
        pytest.fail("terraform is not on PATH: the offline checks need the terraform binary (no provider)")
    return found


def test_terraform_files_are_formatted():
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull}  # the image names a config file that does not exist
    run = subprocess.run(
        [_terraform(), "fmt", "-check", "-recursive", "-diff", str(INFRA)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert run.returncode == 0, f"run `terraform fmt -recursive infra`:\n{run.stdout}{run.stderr}"


def test_there_is_terraform_for_both_environments():
    roots = {p.parent.name for p in TF_FILES if p.parent.parent.name == "envs"}
    assert roots == {"dev", "prod"}
    assert len(TF_FILES) >= 20


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_tf_file_parses(path):
    parsed = load_tf(path)  # lark raises on a syntax error
    assert parsed, f"{path} declares nothing"


def test_checkov_finds_no_failing_policy():
    if not CHECKOV.exists():
        pytest.fail("checkov is not installed: `make test` creates .venv-checkov from infra/checkov-constraints.txt")
    run = subprocess.run(
        [str(CHECKOV), "-d", str(INFRA), "--framework", "terraform", "--skip-download", "--soft-fail", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    reports = json.loads(run.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range']}): {c['check_name']}"
        for report in reports
        for c in report["results"]["failed_checks"]
    ]
    summary = reports[0]["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 40, summary  # checkov saw the modules through the roots
    assert summary["passed"] > 0
    assert not failed, "\n".join(failed)


def test_every_checkov_skip_says_why():
    skips = []
    for path in TF_FILES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = SKIP.search(line)
            if match:
                skips.append((f"{path.relative_to(INFRA)}:{number}", match.group(1), (match.group(2) or "").strip()))
    assert skips, "no skips found: the pattern no longer matches checkov's syntax"
    unexplained = [where for where, _, reason in skips if len(reason.split()) < 5]
    assert not unexplained, f"a checkov skip needs a reason after the colon: {unexplained}"
