"""`make dev` as a newcomer runs it: the launcher starts everything, prints a link that works, Ctrl-C stops."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import DEV_PORT_BASE

ROOT = Path(__file__).resolve().parents[2]


def test_dev_stack_prints_a_working_onboarding_link_and_stops_cleanly(firestore_emulator, tmp_path):
    ours = ("YCLIENTS_", "TASKS_", "BASE_URL", "SESSION_HOST_", "WHATSAPP_", "WA_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update(
        {
            "FIRESTORE_EMULATOR_HOST": firestore_emulator,
            "GOOGLE_CLOUD_PROJECT": "demo-aiadmin-devcheck",
            "DEV_PORT_BASE": str(DEV_PORT_BASE),
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 90
        link = None
        while time.monotonic() < deadline and link is None:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if re.match(r"\s+http://\S+/auth/yclients/redirect\?", line):
                link = line.strip()
        assert link, "no link printed:\n" + "".join(output)
        resp = requests.get(link, allow_redirects=False, timeout=30)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/marketplace/onboarding?token=")
        gateway_url = link.split("/auth/")[0]
        page = requests.get(gateway_url + resp.headers["Location"], timeout=10)
        bundle = re.search(r'src="(/assets/onboarding-\w+\.js)"', page.text)
        assert page.status_code == 200 and bundle, "the built onboarding page is served"
        assert requests.get(gateway_url + bundle.group(1), timeout=10).status_code == 200
        init = requests.get(f"{gateway_url}/__/firebase/init.json", timeout=10).json()
        assert init["firestoreEmulatorHost"] == firestore_emulator, "the page listens to the local emulator"
        phone = requests.get(f"{gateway_url}/simulator/", timeout=10)
        assert phone.status_code == 200 and "Симулятор телефона салона" in phone.text
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
    gateway = re.search(r"Gateway \(Hosting \+ functions\)\s+(\S+)", "".join(output)).group(1)
    try:
        requests.get(gateway, timeout=1)
        raise AssertionError("the gateway still answers after Ctrl-C")
    except requests.ConnectionError:
        pass
