"""cloudbuild.yaml deploys in the issue's order to the names Terraform declares, and the functions' archive is
a self-contained Cloud Functions source: main.py at the root, aiadmin beside it, pinned requirements."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile

import pytest
import yaml

from tests.infra.conftest import INFRA, ROOT, load_script

package = load_script("package_functions")
BUILD = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
STEPS = {step["id"]: step for step in BUILD["steps"]}
ORDER = [
    "lint",
    "unit-tests",
    "emulator-tests",
    "session-host-image",
    "push-session-host-image",
    "package-functions",
    "upload-functions",
    "terraform-plan",
    "terraform-apply",
    "deploy-hosting",
]


def _command(step: dict) -> str:
    return " ".join([step.get("entrypoint", ""), *step.get("args", [])])


def test_build_steps_run_in_order():
    ids = [step["id"] for step in BUILD["steps"]]
    assert [i for i in ids if i in ORDER] == ORDER
    assert not [s for s in BUILD["steps"] if "waitFor" in s], "steps must run one after another"


@pytest.mark.parametrize(("release", "fails"), [("", True), ("a1b2c3d", False)])
def test_a_build_without_a_release_stops_before_anything_is_built_or_tagged(release, fails):
    first = BUILD["steps"][0]
    assert first["id"] == "release-named" and first["entrypoint"] == "bash"
    script = first["args"][-1].replace("${_RELEASE}", release)
    done = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", script], capture_output=True, text=True, check=False
    )
    assert (done.returncode != 0) == fails
    if fails:
        assert "_RELEASE is empty" in done.stdout


def test_checks_are_the_makefile_targets():
    makefile = (ROOT / "Makefile").read_text()
    for step_id, target in [("lint", "lint"), ("unit-tests", "test-unit"), ("emulator-tests", "test-emulator")]:
        step = STEPS[step_id]
        assert step["entrypoint"] == "make" and step["args"] == [target]
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_apply_applies_the_saved_plan_of_the_chosen_environment(envs):
    plan, apply = STEPS["terraform-plan"], STEPS["terraform-apply"]
    assert plan["dir"] == apply["dir"] == "infra/envs/${_ENV}"
    assert BUILD["substitutions"]["_ENV"] in envs
    plan_cmd = _command(plan)
    saved = re.search(r"-out=(\S+)", plan_cmd).group(1)
    assert '-var "release=${_RELEASE}"' in plan_cmd
    assert apply["args"][-1] == saved and "apply" in apply["args"]


def test_build_uploads_to_the_names_terraform_deploys(modules, envs):
    foundation, stack = modules["foundation"], modules["stack"]
    subs = BUILD["substitutions"]
    repo = foundation.resource("google_artifact_registry_repository", "images")["repository_id"]
    assert subs["_IMAGE"] == f"${{_REGION}}-docker.pkg.dev/${{PROJECT_ID}}/{repo}/session-host:${{_RELEASE}}"
    assert stack.module("session_host")["image"] == "${module.foundation.image_repository}/session-host:${var.release}"
    assert STEPS["push-session-host-image"]["args"] == ["push", "${_IMAGE}"]

    bucket = foundation.resource("google_storage_bucket", "sources")["name"]
    upload = STEPS["upload-functions"]["args"]
    assert upload[-1] == f"gs://{bucket.replace('${var.project_id}', '${PROJECT_ID}')}/functions/${{_RELEASE}}.zip"
    assert stack.module("functions")["source_object"] == "functions/${var.release}.zip"
    for env in envs.values():
        assert env.module("aiadmin")["region"] == subs["_REGION"]


def test_hosting_is_deployed_from_the_built_page_only():
    command = _command(STEPS["deploy-hosting"])
    assert STEPS["deploy-hosting"]["dir"] == "web"
    assert "node build.mjs" in command
    assert "deploy --only hosting" in command  # rules and indexes belong to Terraform


def test_ci_image_has_what_make_test_needs():
    dockerfile = (INFRA / "ci.Dockerfile").read_text()
    for need in ("python3-venv", "openjdk-17", "chromium", "google-cloud-cli-firestore-emulator", "terraform"):
        assert need in dockerfile


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = package.build(tmp_path_factory.mktemp("pkg") / "functions.zip")
    extracted = out.parent / "src"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(extracted)
    return out, extracted


def test_archive_holds_main_the_package_and_pinned_requirements(archive):
    out, extracted = archive
    names = set(zipfile.ZipFile(out).namelist())
    assert "main.py" in names and "aiadmin/core/settings.py" in names and "aiadmin/sync/runner.py" in names
    assert not [n for n in names if n.startswith(("tests/", "devstack/", "session-host/", "web/"))]
    requirements = (extracted / "requirements.txt").read_text().split()
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][^=]*", r) for r in requirements), requirements
    names_only = {r.split("==")[0].split("[")[0] for r in requirements}
    assert "functions-framework" in names_only and "google-cloud-firestore" in names_only
    assert "neonize" not in names_only  # only the session host holds WhatsApp sockets
    assert package.build(out.parent / "again.zip").read_bytes() == out.read_bytes()  # reproducible


def test_archive_imports_on_its_own(archive, app):
    _, extracted = archive
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import main, aiadmin; "
        "assert aiadmin.__file__.startswith(sys.argv[1]), aiadmin.__file__; "
        "print(' '.join(n for n in sys.argv[2:] if callable(getattr(main, n, None))))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe, str(extracted), *app["functions"]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=extracted,
        env={"PATH": "/usr/bin:/bin", "ENV": "local"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert set(run.stdout.split()) == set(app["functions"])


def test_the_image_build_context_leaves_out_local_environments():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert {".venv", ".venv-checkov", "web/node_modules", ".git"} <= set(ignored)
    dockerfile = (ROOT / "session-host" / "Dockerfile").read_text()
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY")}
    assert not copied & set(ignored)
