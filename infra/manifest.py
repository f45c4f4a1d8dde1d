"""What the code asks of a deployment, written to `infra/app.json` for Terraform to read.

`python infra/manifest.py` rewrites the file; `--check` exits 1 when it is stale (the tests run the same
comparison). Terraform declares one function per entry point, one queue per queue spec, one Scheduler job per
timetable job and one Secret Manager secret per secret setting from this file, so adding any of them to the code
without regenerating fails the tests, and regenerating is what declares them.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from aiadmin.core.queues import QUEUES  # noqa: E402
from aiadmin.core.settings import LOCAL_ONLY_SECRETS, Settings  # noqa: E402
from aiadmin.sync.timetable import JOBS, TIME_ZONE  # noqa: E402

MANIFEST = ROOT / "infra" / "app.json"
FUNCTIONS_MAIN = ROOT / "functions" / "main.py"
# A handler that authenticates its caller as a task or scheduler call is deployed private (IAM + internal ingress).
TASK_AUTH_CALLS = {"task_payload", "require_task_caller"}


def _is_http_entry_point(fn: ast.FunctionDef) -> bool:
    return any(ast.unparse(d) == "functions_framework.http" for d in fn.decorator_list)


def entry_points(source: str) -> dict[str, dict[str, Any]]:
    """Every `@functions_framework.http` function of `functions/main.py`, and whether only tasks may call it."""
    functions: dict[str, dict[str, Any]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and _is_http_entry_point(node):
            called = {c.func.id for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
            functions[node.name] = {"entry_point": node.name, "private": bool(called & TASK_AUTH_CALLS)}
    return functions


def secrets() -> dict[str, str]:
    """Env var name -> Secret Manager secret id, for every secret setting a deployment must provide."""
    names = [
        name
        for name, field in Settings.model_fields.items()
        if SecretStr in getattr(field.annotation, "__args__", (field.annotation,)) and name not in LOCAL_ONLY_SECRETS
    ]
    return {name.upper(): name.replace("_", "-") for name in sorted(names)}


def build() -> dict[str, Any]:
    return {
        "_generated": "by `make infra-manifest` (infra/manifest.py) from the code; do not edit",
        "functions": entry_points(FUNCTIONS_MAIN.read_text()),
        "queues": {
            q.name: {
                "max_dispatches_per_second": q.max_dispatches_per_second,
                "max_concurrent_dispatches": q.max_concurrent_dispatches,
                "max_attempts": q.max_attempts,
                "min_backoff": f"{q.min_backoff_s:g}s",
                "max_backoff": f"{q.max_backoff_s:g}s",
            }
            for q in QUEUES.values()
        },
        "schedule": {
            "time_zone": TIME_ZONE,
            "jobs": {job.name: {"schedule": job.schedule, "description": job.description} for job in JOBS},
        },
        "secrets": secrets(),
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not MANIFEST.exists() or MANIFEST.read_text() != text:
            print(f"{MANIFEST.relative_to(ROOT)} is stale: run `make infra-manifest`", file=sys.stderr)
            return 1
        return 0
    MANIFEST.write_text(text)
    print(f"wrote {MANIFEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
