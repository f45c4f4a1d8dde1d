"""Prints the dialogue set's pass shares at the end of the run (the figures the issue asks to report)."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.dialogues.test_dialogue_set import REPORT

    if not REPORT:
        return
    terminalreporter.section("dialogue set: share passed per set and provider")
    for key, row in sorted(REPORT.items()):
        failed = ", ".join(row["failed"]) or "none"
        terminalreporter.write_line(
            f"{key:18} {row['passed']}/{row['dialogues']} = {row['share']:.0%}   failed: {failed}"
        )
