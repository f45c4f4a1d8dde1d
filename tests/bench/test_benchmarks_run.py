"""Every `make bench*` target still runs: each benchmark once with a tiny load (seconds), its figures printed and
not judged — judging them is what the benchmarks are for. They share fixed ports of their own, so they run one
after another on one worker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, TEST_ENV

# make target -> the module it runs, with a smoke-sized load
SMOKES = {
    "bench": ("webhook_load", "--rate", "20", "--duration", "2", "--workers", "1"),
    "bench-page": ("page_latency", "--count", "3", "--interval", "0.1"),
    "bench-sync": ("sync_load", "--scale", "0.01"),
    "bench-reminders": ("reminders_load", "--scale", "0.01"),
    "bench-ai": ("ai_turns", "--rounds", "1"),
    "bench-sessions/host": ("session_host_load", "--salons", "3", "--storm-seconds", "1"),
    "bench-sessions/neonize": ("neonize_many", "--clients", "3", "--wait-s", "20"),
    "bench-sessions/held": ("neonize_many", "--clients", "3", "--hold"),
    "bench-sessions/pacing": ("send_pacing", "--runs", "5"),
    "bench-reply": ("reply_time", "--rounds", "1"),
}

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("benchmarks")]


def test_every_make_bench_target_is_covered():
    targets = {line.split(":")[0] for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("bench")}
    assert targets == {name.split("/")[0] for name in SMOKES}
    make = (ROOT / "Makefile").read_text()
    assert all(f"bench.{module}" in make for module, *_ in SMOKES.values())


@pytest.mark.parametrize("target", list(SMOKES))
def test_a_benchmark_runs_with_a_tiny_load(target: str):
    module, *args = SMOKES[target]
    env = {k: v for k, v in os.environ.items() if k not in TEST_ENV}  # a benchmark sets up its own world
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert any(ch.isdigit() for ch in done.stdout), f"no figure printed:\n{out[-2000:]}"
