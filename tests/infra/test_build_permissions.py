"""The build account can plan and apply what Cloud Build deploys. No `terraform plan` runs here, so the permissions
each resource type needs (infra/permissions/resources.json, read from the provider's source) are held against what
the build account's grants in modules/foundation give (infra/permissions/predefined_roles.json, the roles'
includedPermissions, and the custom roles written out in the module)."""

from __future__ import annotations

import json
import re

import pytest

from tests.infra.conftest import ENVS, INFRA, MODULES, TfDir, block, load_dir

PERMISSIONS = INFRA / "permissions"
NEEDS = json.loads((PERMISSIONS / "resources.json").read_text())["resources"]
PREDEFINED = json.loads((PERMISSIONS / "predefined_roles.json").read_text())["roles"]
BUILD = '${google_service_account.account["build"].member}'
CUSTOM_ROLE = re.compile(r"^\$\{google_project_iam_custom_role\.(\w+)\.name\}$")
# A condition IAM evaluates for project IAM grants. Conditions on `resource.name` are not evaluated for service
# accounts (IAM docs, "Resource attributes for IAM Conditions": IAM is not among the services that recognise
# them), so such a grant is counted as giving nothing.
EVALUATED = ("iam.googleapis.com/modifiedGrantsByRole",)


def _types_in_infra() -> set[str]:
    dirs = [p for p in MODULES.iterdir() if p.is_dir()] + [INFRA / "envs" / name for name in ENVS]
    found = set()
    for tf in map(load_dir, dirs):
        found |= {rtype for rtype, _ in tf.resources()}
        found |= {f"data.{dtype}" for block_ in tf.all("data") for dtype in block_}
    return found


def build_grants(foundation: TfDir) -> tuple[set[str], set[str]]:
    """The build account's project permissions, and the service accounts it may act as."""
    roles = list(foundation.locals["project_roles"]["build"])
    for block_ in foundation.all("resource"):
        for member in block_.get("google_project_iam_member", {}).values():
            if member.get("member") != BUILD:
                continue
            condition = block(member["condition"])["expression"] if "condition" in member else None
            if condition is not None and not any(attr in condition for attr in EVALUATED):
                continue
            roles.append(member["role"])
    permissions: set[str] = set()
    for role in roles:
        if custom := CUSTOM_ROLE.match(role):
            permissions |= set(foundation.resource("google_project_iam_custom_role", custom.group(1))["permissions"])
        else:
            assert role in PREDEFINED, f"{role}: add its permissions to {PERMISSIONS / 'predefined_roles.json'}"
            permissions |= set(PREDEFINED[role])
    acts_as: set[str] = set()
    if "roles/iam.serviceAccountUser" in roles:
        acts_as = set(foundation.locals["accounts"])  # project-wide: every account of the project
    for block_ in foundation.all("resource"):
        for grant in block_.get("google_service_account_iam_member", {}).values():
            if grant.get("member") == BUILD and grant["role"] == "roles/iam.serviceAccountUser":
                assert grant["for_each"] == "${local.accounts}", "read which accounts this grant covers"
                acts_as |= set(foundation.locals["accounts"])
    return permissions, acts_as


@pytest.fixture(scope="module")
def grants(modules) -> tuple[set[str], set[str]]:
    return build_grants(modules["foundation"])


def test_every_resource_type_under_infra_has_its_permissions_written_down():
    in_infra = _types_in_infra()
    assert in_infra - set(NEEDS) == set(), "add a row to infra/permissions/resources.json (from the provider source)"
    assert set(NEEDS) - in_infra == set(), "a row for a type infra/ no longer uses"
    for rtype, row in NEEDS.items():
        assert row["source"] and row["applied_by"] in ("build", "owner"), rtype


def test_the_build_account_can_read_everything_terraform_plans(grants):
    """Every Cloud Build run plans the whole stack: one refused read stops the deploy with a 403."""
    permissions, _ = grants
    refused = {t: sorted(set(row["read"]) - permissions) for t, row in NEEDS.items() if set(row["read"]) - permissions}
    assert refused == {}, f"the build account cannot read: {refused}"


def test_the_build_account_can_apply_what_cloud_build_applies_and_no_more(modules, grants):
    permissions, acts_as = grants
    if set(modules["foundation"].locals["accounts"]) <= acts_as:  # what the stack deploys as (held below)
        permissions = permissions | {"iam.serviceAccounts.actAs"}
    for rtype, row in NEEDS.items():
        needed = set(row["create"]) | set(row["update"]) | set(row["delete"])
        if row["applied_by"] == "build":
            assert needed <= permissions, f"{rtype}: the build account lacks {sorted(needed - permissions)}"
        else:  # an owner applies it: the build account must not be able to (or the table is wrong)
            assert needed - permissions, f"{rtype} is marked owner-applied, yet the build account could apply it"


def test_the_build_account_acts_only_as_the_stacks_own_accounts(modules, grants):
    """Deploying a function or the host as an account, or a job carrying its token, needs actAs on that account.
    Project-wide it would also reach the default compute account (an Editor) and any other account."""
    foundation = modules["foundation"]
    assert "roles/iam.serviceAccountUser" not in foundation.locals["project_roles"]["build"]
    _, acts_as = grants
    deployed_as = set(foundation.locals["accounts"]) - {"build"}
    assert deployed_as | {"build"} <= acts_as, "functions' builds run as the build account itself"


def test_the_build_account_never_reads_or_grants_a_secret_value(grants):
    permissions, _ = grants
    assert not {p for p in permissions if p.startswith("secretmanager.versions.")}
    assert "secretmanager.secrets.setIamPolicy" not in permissions, "else it could grant itself a value"
    assert "iam.roles.update" not in permissions, "else it could widen its own custom roles"


def test_the_check_fails_for_a_build_account_that_cannot_read_a_custom_role(tmp_path):
    """What broke every deploy after bootstrap: the plan reads google_project_iam_custom_role (iam.roles.get)."""
    source = (MODULES / "foundation" / "main.tf").read_text()
    without = source.replace('    "iam.roles.get",\n', "")
    assert without != source
    (tmp_path / "main.tf").write_text(without)
    permissions, _ = build_grants(load_dir(tmp_path))
    assert not set(NEEDS["google_project_iam_custom_role"]["read"]) <= permissions


def test_conditions_iam_cannot_evaluate_grant_nothing(tmp_path):
    source = (MODULES / "foundation" / "main.tf").read_text()
    conditioned = source + (
        '\nresource "google_project_iam_member" "named" {\n'
        '  project = var.project_id\n  role = "roles/iam.serviceAccountAdmin"\n'
        '  member = google_service_account.account["build"].member\n'
        '  condition {\n    title = "t"\n'
        '    expression = "resource.name.startsWith(\\"projects/p/serviceAccounts/aiadmin-\\")"\n  }\n}\n'
    )
    (tmp_path / "main.tf").write_text(conditioned)
    permissions, _ = build_grants(load_dir(tmp_path))
    assert "iam.serviceAccounts.create" not in permissions


def test_environments_pin_the_exact_provider_versions_the_table_was_read_against():
    pinned = {}
    for name in ENVS:
        text = (INFRA / "envs" / name / "main.tf").read_text()
        versions = dict(re.findall(r'source\s*=\s*"hashicorp/([\w-]+)"\s*\n\s*version\s*=\s*"([^"]+)"', text))
        assert set(versions) == {"google", "google-beta", "time"}, name
        assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in versions.values()), f"{name}: exact, not {versions}"
        pinned[name] = versions
    assert pinned["dev"] == pinned["prod"]
    about = json.loads((PERMISSIONS / "resources.json").read_text())["provider"]
    assert pinned["dev"]["google"] in about and pinned["dev"]["google-beta"] in about, "re-read the table on upgrade"
