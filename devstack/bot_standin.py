"""What the Telegram and MAX stand-ins share: the bots they know (any well-formed token is a bot), the chats that
wrote to each (a bot may answer only those), what each bot sent, and delivering a simulated customer's update to
the registered webhook with its secret, as the messenger does."""

from __future__ import annotations

import argparse
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, jsonify, request


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


def add_simulator_routes(app: Flask, state: StandinState, channel: str, bot_of: Callable[[str], StandinBot]) -> None:
    """What both simulators offer besides delivering an update: what a bot sent, a customer blocking it, the bots
    with a webhook (for the simulator page's list; local only: the stand-in's own tokens), and a health check."""

    @app.get(f"/simulator/{channel}/<token>/sent")
    def sent(token: str):
        return jsonify(bot_of(token).sent)

    @app.post(f"/simulator/{channel}/<token>/block")
    def block(token: str):
        bot_of(token).blocked.add(int((request.get_json(silent=True) or {}).get("chat_id") or 0))
        return jsonify({"ok": True})

    @app.get(f"/simulator/{channel}/bots")
    def bots():
        with state.lock:
            known = [b for b in state.bots.values() if b.webhook_url and f"/channels/{channel}/" in b.webhook_url]
            return jsonify([{"token": b.token, "username": b.username} for b in known])

    @app.get("/_standin/healthz")
    def healthz():
        return jsonify({"ok": True})


def serve(create_app: Callable[[], Flask], default_port: int) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=default_port)
    create_app().run("127.0.0.1", parser.parse_args().port, threaded=True)
