"""Real headless Chromium (Debian's package, driven by Playwright) against the full local stack: the gateway
serving the built page, the functions, the Firestore emulator with the rules, the session host with the simulated
WhatsApp and the YCLIENTS stand-in. Every test keeps a screenshot of each screen it passes."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devstack import chromium
from tests.conftest import ROOT, running_session_host

SHOTS = ROOT / "test-output" / "browser"


@pytest.fixture(scope="session")
def web_bundle() -> Path:
    from devstack import web_build

    return web_build.ensure_built()


@pytest.fixture(scope="session")
def browser(web_bundle: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium.executable(), headless=True, args=chromium.ARGS)
        yield browser
        browser.close()


@dataclass
class Browsing:
    """One page in a fresh browser context, with what its console said and a screenshot per screen."""

    page: Any
    shots_dir: Path
    console: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        path = self.shots_dir / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def screen(self, name: str, timeout_ms: int = 15000, shot: str | None = None) -> None:
        """Wait until the page shows this screen, then photograph it."""
        self.page.wait_for_selector(f"[data-screen-id={name}]:not([hidden])", timeout=timeout_ms)
        self.shot(shot or name)

    def console_errors(self, expected_statuses: tuple[int, ...] = ()) -> list[str]:
        """Errors in the console, except resource failures with a status the test expects the API to answer."""
        allowed = [re.compile(rf"status of {s}\b") for s in expected_statuses]
        return [m for m in self.console if not any(rx.search(m) for rx in allowed)]


def _open(browser: Any, request: pytest.FixtureRequest, shots_suffix: str = "", **context: Any) -> Iterator[Browsing]:
    ctx = browser.new_context(locale="ru-RU", **context)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    shots = SHOTS / (re.sub(r"[^\w.-]+", "_", request.node.name) + (f"-{shots_suffix}" if shots_suffix else ""))
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    browsing = Browsing(page, shots)
    page.on("console", lambda m: m.type == "error" and browsing.console.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: browsing.console.append(f"pageerror: {e}"))
    yield browsing
    ctx.close()


@pytest.fixture
def desktop(browser: Any, request: pytest.FixtureRequest, stack: Any) -> Iterator[Browsing]:
    yield from _open(browser, request, viewport={"width": 1280, "height": 860})


@pytest.fixture
def second_desktop(browser: Any, request: pytest.FixtureRequest, stack: Any) -> Iterator[Browsing]:
    """Another browser on a computer: the owner who clicked «Подключить» again, or a colleague."""
    yield from _open(browser, request, viewport={"width": 1280, "height": 860}, shots_suffix="second")


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest, stack: Any) -> Iterator[Browsing]:
    yield from _open(
        browser,
        request,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    )


@pytest.fixture
def host(stack: Any, db: Any, tmp_path: Path) -> Iterator[Any]:
    """The session host; QR codes rotate every 2 s so a test sees one rotation without waiting long."""
    with running_session_host(db, tmp_path, "host-browser", qr_ttl_s=2, qr_rotations=30, pairing_ttl_s=160) as h:
        yield h
