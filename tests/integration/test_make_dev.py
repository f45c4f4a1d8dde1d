"""`make dev` as a newcomer runs it: the launcher starts everything, prints a link that works, Ctrl-C stops. Run
here with two session hosts (`make dev HOSTS=2`): new salons spread over both, and the simulated phone of each
is reached through the one gateway."""

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
    from google.cloud import firestore

    from aiadmin.core.models import WaCommand

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
        [sys.executable, "-m", "devstack.run", "--hosts", "2"],
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

        hosts = re.search(r"Session hosts\s+(\S+), (\S+)", "".join(output))
        assert hosts, "two session hosts are listed"
        db = firestore.Client(project=env["GOOGLE_CLOUD_PROJECT"])
        live = lambda: {d.id for d in db.collection("wa_hosts").stream()}  # noqa: E731
        deadline = time.monotonic() + 30
        while len(live()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(live()) == 2, "both hosts publish their load"
        salons = ("company_962302", "company_962303")
        for sid in salons:  # two new links: one to each host (the emptier one takes the next)
            cmd = WaCommand(session_id=sid, salon_id=int(sid[8:]), command="start_qr", reason="dev check")
            db.collection("wa_commands").document(f"dev-{sid}").set(cmd.to_firestore())
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not (db.collection("wa_leases").document(sid).get().exists):
                time.sleep(0.2)
        holders = {db.collection("wa_leases").document(sid).get().get("url") for sid in salons}
        assert holders == {hosts.group(1), hosts.group(2)}, "one salon on each host"
        for sid in salons:  # the gateway reaches each salon's phone on the host holding it
            shown = requests.get(f"{gateway_url}/simulator/sessions/{sid}", timeout=10).json()
            assert shown["running"] and shown["mode"] == "qr", shown
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
    gateway = re.search(r"Gateway \(Hosting \+ functions\)\s+(\S+)", "".join(output)).group(1)
    try:
        requests.get(gateway, timeout=1)
        raise AssertionError("the gateway still answers after Ctrl-C")
    except requests.ConnectionError:
        pass
