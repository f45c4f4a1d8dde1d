"""Builds the onboarding and owner pages' bundle when its sources changed: `npm ci` on first use, then esbuild through
web/build.mjs. `make dev` and the tests call it, so nobody has to remember a build step."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger("devstack.web_build")

WEB = Path(__file__).resolve().parent.parent / "web"


def _newest(paths: list[Path]) -> float:
    return max(p.stat().st_mtime for p in paths if p.exists())


def ensure_built(web: Path = WEB) -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise RuntimeError("Node.js 20+ with npm is required to build the onboarding page")
    lock = web / "package-lock.json"
    installed = web / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        log.info("installing the page's npm packages")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=web, check=True, timeout=600)
    output = web / "public" / "onboarding.html"
    pages = [output, web / "public" / "owner.html"]
    sources = [*(web / "src").iterdir(), web / "build.mjs", installed]
    if not all(p.exists() for p in pages) or min(p.stat().st_mtime for p in pages) < _newest(sources):
        subprocess.run([node, "build.mjs"], cwd=web, check=True, timeout=300)
    return output


if __name__ == "__main__":
    print(ensure_built())
