"""What the Telegram and MAX stand-ins share: the bots they know (any well-formed token is a bot), the chats that
wrote to each (a bot may answer only those), what each bot sent, and delivering a simulated customer's update to
the registered webhook with its secret, as the messenger does."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass
class StandinBot:
    token: str
    id: int
    username: str
    webhook_url: str | None = None
    secret: str | None = None
    written: set[int] = field(default_factory=set)  # chats (users) that wrote to the bot
    blocked: set[int] = field(default_factory=set)  # chats that blocked the bot
    sent: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # each webhook call and its HTTP status


@dataclass
class StandinState:
    lock: threading.RLock = field(default_factory=threading.RLock)
    bots: dict[str, StandinBot] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    next_id: int = 1000
    calls: list[dict[str, Any]] = field(default_factory=list)

    def bot(self, token: str, bot_id: int | None = None) -> StandinBot:
        with self.lock:
            if token not in self.bots:
                number = bot_id or int(hashlib.sha256(token.encode()).hexdigest()[:8], 16)
                self.bots[token] = StandinBot(token, number, f"salon{number % 100000}_bot")
            return self.bots[token]

    def new_id(self) -> int:
        with self.lock:
            self.next_id += 1
            return self.next_id

    def reset(self) -> None:
        with self.lock:
            self.bots.clear()
            self.revoked.clear()
            self.calls.clear()


def deliver(bot: StandinBot, header: str, body: dict[str, Any], times: int = 1) -> list[int]:
    """POST the update to the bot's webhook `times` times (a messenger redelivers until it gets a 200)."""
    if not bot.webhook_url:
        raise LookupError("this bot has no webhook")
    statuses = []
    for _ in range(times):
        headers = {header: bot.secret} if bot.secret else {}
        try:
            status = requests.post(bot.webhook_url, json=body, headers=headers, timeout=10).status_code
        except requests.RequestException:
            status = 0
        bot.deliveries.append({"status": status, "at": time.time()})
        statuses.append(status)
    return statuses
