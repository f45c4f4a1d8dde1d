"""Build the functions' source archive for Cloud Functions gen2: `main.py` at the root, the `aiadmin` package
beside it, and a `requirements.txt` the buildpack installs.

The buildpack cannot take a constraints file, so the archive's requirements pin every runtime dependency to the
version in `constraints.txt`, and leave out what only the session host needs (neonize).

    python infra/package_functions.py [--out build/functions.zip]
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST_ONLY = {"neonize"}
# Fixed timestamps: the same sources give the same archive bytes.
EPOCH = (2020, 1, 1, 0, 0, 0)


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>~! ;]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def pinned_requirements(root: Path = ROOT) -> list[str]:
    pins = {}
    for line in (root / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "==" in line:
            pins[_name(line)] = line.split("==", 1)[1].strip()
    lines = []
    for line in (root / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-") or _name(line) in HOST_ONLY:
            continue
        spec = re.split(r"[=<>~!]", line, maxsplit=1)[0].strip()
        version = pins.get(_name(line))
        if version is None:
            raise SystemExit(f"{_name(line)} is not pinned in constraints.txt")
        lines.append(f"{spec}=={version}")
    return lines


def sources(root: Path = ROOT) -> list[tuple[Path, str]]:
    files = [(root / "functions" / "main.py", "main.py")]
    for path in sorted((root / "aiadmin").rglob("*.py")):
        files.append((path, path.relative_to(root).as_posix()))
    return files


def build(out: Path, root: Path = ROOT) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in sources(root):
            archive.writestr(zipfile.ZipInfo(name, EPOCH), path.read_bytes())
        requirements = "\n".join(pinned_requirements(root)) + "\n"
        archive.writestr(zipfile.ZipInfo("requirements.txt", EPOCH), requirements)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "functions.zip")
    args = parser.parse_args(argv)
    out = build(args.out)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
