"""The dialogue set's pass shares printed at the end of the run, gathered from the rows each test wrote (a
parallel run's workers write their own) into test-output/dialogue-report.json. The hooks are registered by the
root conftest: with xdist only the controller prints, and it loads no conftest below tests/."""

from __future__ import annotations

import json
import shutil
from typing import Any


def clear_rows(worker: str) -> None:
    from tests.dialogues.test_dialogue_set import REPORT_DIR

    if not worker:  # the controller (or a plain run): last run's rows are not this run's
        shutil.rmtree(REPORT_DIR, ignore_errors=True)


def print_summary(terminalreporter: Any) -> None:
    from tests.dialogues.test_dialogue_set import REPORT_DIR

    rows = {p.stem.replace("-", "/", 1): json.loads(p.read_text()) for p in sorted(REPORT_DIR.glob("*.json"))}
    if not rows:
        return
    (REPORT_DIR.parent / "dialogue-report.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2))
    terminalreporter.section("dialogue set: share passed per set and provider")
    for key, row in sorted(rows.items()):
        failed = ", ".join(row["failed"]) or "none"
        terminalreporter.write_line(
            f"{key:22} {row['passed']}/{row['dialogues']} = {row['share']:.0%}   failed: {failed}"
        )
        if "model_calls_per_turn" in row:
            terminalreporter.write_line(
                f"{'':22} model calls per turn {row['model_calls_per_turn']}, "
                f"turn {row['turn_ms_p50']:.0f} ms median, {row['turn_ms_p95']:.0f} ms p95, "
                f"{row.get('fallbacks_to_rules', 0)} model calls answered by the rules instead"
            )
        if row.get("by_class"):
            classes = "  ".join(f"{k} {v}" for k, v in row["by_class"].items())
            terminalreporter.write_line(f"{'':22} per class: {classes}")
