"""Fixtures of the AI tests: a linked, activated, synced salon whose bot answers in the simulator."""

from __future__ import annotations

import base64
import re
import time

import pytest
import requests

from aiadmin.core import repositories
from aiadmin.sync import runner
from tests.conftest import GATEWAY, running_session_host, wait_for
from tests.integration.helpers import activate, register

SALON, SID, OWNER, CUSTOMER = 962302, "company_962302", "79161234567", "79035557788"  # OWNER: the salon's WhatsApp
NOTICES_TO = "79001234567"  # where owner notices go: the installer's phone in the signed user_data (helpers.OWNER)


class Chat:
    """A customer writing to the salon from `phone`, or from `lid:<digits>`: a customer WhatsApp shows by LID only."""

    def __init__(self, stack, phone: str = CUSTOMER):
        self.stack, self.phone = stack, phone
        self.seen = len(self.replies())

    def outbox(self) -> list[dict]:
        return requests.get(f"{GATEWAY}/simulator/sessions/{SID}/outbox", timeout=10).json()

    def replies(self, to: str | None = None) -> list[str]:
        return [m["text"] for m in self.outbox() if m["to"] == (to or self.phone)]

    def say(
        self,
        text: str,
        *,
        expect_reply: bool = True,
        message_id: str | None = None,
        name: str | None = None,
        media: str | None = None,
        sent_s_ago: float = 0,
        audio: bytes | None = None,
        seconds: int | None = None,
        audio_after_s: float = 0,
        audio_fails: bool = False,
    ) -> str | None:
        """`name`: the customer's WhatsApp profile name, which WhatsApp sends with every message; `media`: a voice
        note, picture, … sent with `text` as its caption (or none); `audio`, `seconds`: a voice note's sound."""
        sender = {"lid": self.phone.removeprefix("lid:")} if self.phone.startswith("lid:") else {"from": self.phone}
        body = {**sender, "text": text, **({"message_id": message_id} if message_id else {})}
        if name:
            body["name"] = name
        if media:
            body["media"] = media
        if sent_s_ago:
            body["sent_s_ago"] = sent_s_ago
        if audio is not None:
            body |= {"media": "voice", "audio": base64.b64encode(audio).decode(), "seconds": seconds or 1}
            body |= {"audio_after_s": audio_after_s, "audio_fails": audio_fails}
        assert requests.post(f"{GATEWAY}/simulator/sessions/{SID}/inbound", json=body, timeout=10).status_code == 200
        if not expect_reply:
            time.sleep(2.0)
            assert len(self.replies()) == self.seen, f"the bot answered: {self.replies()[self.seen :]}"
            return None
        wait_for(lambda: len(self.replies()) > self.seen, 15, f"a reply to {text!r}")
        self.seen = len(self.replies())
        return self.replies()[-1]


@pytest.fixture
def bot(stack, db, tmp_path):
    """Salon 962302 linked, activated and synced; the bot answering in the simulator."""
    with running_session_host(db, tmp_path, "host-ai", sender_opts={"interval_s": 0.05, "jitter_s": 0.0}):
        token = register()
        headers = {"Authorization": f"Bearer {token}"}
        requests.post(f"{GATEWAY}/marketplace/api/qr", headers=headers, timeout=15)
        requests.post(f"{GATEWAY}/simulator/sessions/{SID}/scan", json={"phone": OWNER}, timeout=10)
        wait_for(lambda: repositories.get_company(db, SALON).whatsapp_connected, 5, "linked")
        assert activate(token).status_code == 200
        for module in ("services", "staff", "clients", "schedules_30d", "bookings_full"):
            wait_for(lambda m=module: runner.load_state(db, SALON, m).state == "ok", 20, f"{module} synced")
        stack.data = stack.standin_state.salon(SALON)
        yield Chat(stack)


def offered_times(reply: str) -> list[str]:
    """The times a reply offers or names («в 14:30»), in order."""
    return re.findall(r"в (\d{2}:\d{2})", reply)


def records_by_us(stack) -> list[dict]:
    return [r for r in stack.data.records.values() if r.get("api_id")]
