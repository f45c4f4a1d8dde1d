"""Start the Cloud Firestore emulator from gcloud's jar on fixed ports (the `gcloud` wrapper leaves orphan
JVMs and opens a random WebSocket port), wait until it answers, wipe a project's data."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import requests

# On a 2-core machine the JIT's C2 compiler threads compete with everything else for the CPU: C1 only and the
# serial collector roughly halved the emulator's tail latency under load (bench/webhook_load.py).
DEFAULT_JAVA_OPTS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"
JAR_SUFFIX = Path("platform/cloud-firestore-emulator/cloud-firestore-emulator.jar")


def find_jar() -> Path:
    roots = [Path(os.environ["CLOUDSDK_ROOT_DIR"])] if os.environ.get("CLOUDSDK_ROOT_DIR") else []
    gcloud = shutil.which("gcloud")
    if gcloud:
        roots.append(Path(os.path.realpath(gcloud)).parent.parent)
    roots += [
        Path("/usr/lib/google-cloud-sdk"),
        Path("/usr/share/google-cloud-sdk"),
        Path("/opt/google-cloud-sdk"),
    ]
    for root in roots:
        if (root / JAR_SUFFIX).is_file():
            return root / JAR_SUFFIX
    raise FileNotFoundError("cloud-firestore-emulator.jar not found: install gcloud's cloud-firestore-emulator")


def start(port: int, log_path: Path, rules: Path | None = None) -> subprocess.Popen:
    cmd = [
        "java",
        *os.environ.get("FIRESTORE_EMULATOR_JAVA_OPTS", DEFAULT_JAVA_OPTS).split(),
        "-Duser.language=en",
        "-cp",
        str(find_jar()),
        "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
        "start",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--websocket_port={port + 1}",
        f"--webchannel_port={port + 2}",
    ]
    if rules is not None:
        cmd.append(f"--rules={rules.resolve()}")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = open(log_path, "ab")  # noqa: SIM115 - the child process owns it
    return subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(host: str, timeout_s: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Firestore emulator exited with {proc.returncode}")
        try:
            if requests.get(f"http://{host}/", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"Firestore emulator at {host} not ready after {timeout_s}s")


def wipe(host: str, project: str) -> None:
    url = f"http://{host}/emulator/v1/projects/{project}/databases/(default)/documents"
    requests.delete(url, timeout=10).raise_for_status()


def load_rules(host: str, project: str, rules: Path) -> None:
    """Apply security rules to one project at runtime (as @firebase/rules-unit-testing does); without rules the
    emulator allows every browser request, so the page would be tested against an open database."""
    body = {"rules": {"files": [{"name": "firestore.rules", "content": rules.read_text()}]}}
    url = f"http://{host}/emulator/v1/projects/{project}:securityRules"
    requests.put(url, json=body, timeout=10).raise_for_status()
