"""A local Telegram Bot API (`TELEGRAM_API_BASE`), a real HTTP server with the real paths (`/bot{token}/getMe`,
`/setWebhook`, `/deleteWebhook`, `/getWebhookInfo`, `/sendMessage`) and the real envelopes (`{"ok": true,
"result": …}`, `{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}`).

The simulator (local only, reached through the gateway): `POST /simulator/telegram/{token}/updates` with
`{"from": {"id": 1001, "first_name": "Анна"}, "text": "…"}` or `{"from": …, "contact": {"phone_number": "+7…"}}`
(the contact button shares the sender's own card) is delivered to the bot's webhook with its secret (`"times": 3`
redelivers the same update); `GET …/sent` lists what the bot sent (chat id, text, keyboard); `POST …/block`
{"chat_id"} makes a customer block the bot; `POST /_standin/revoke/{token}` makes a token unknown.

Not imitated: rate limits (30 messages/s, 1/s per chat), message entities and formatting, files, groups."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from flask import Flask, jsonify, request

from devstack.bot_standin import StandinState, add_simulator_routes, deliver, serve

TOKEN = re.compile(r"^(\d{5,20}):[A-Za-z0-9_-]{30,80}$")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def _params() -> dict[str, Any]:
    """Bot API clients send JSON, a form, or a query; nested values in a form are JSON text."""
    if request.is_json:
        return dict(request.get_json(silent=True) or {})
    params: dict[str, Any] = {**request.args.to_dict(), **request.form.to_dict()}
    for key in ("reply_markup", "allowed_updates"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _error(code: int, description: str):
    return jsonify({"ok": False, "error_code": code, "description": description}), code


def create_app(state: StandinState | None = None) -> Flask:
    state = state or StandinState()
    app = Flask("telegram-standin")
    app.config["STATE"] = state

    def bot_of(token: str):
        found = TOKEN.match(token)
        return state.bot(token, int(found.group(1)) if found else None)

    @app.route("/bot<token>/<method>", methods=["GET", "POST"])
    def api(token: str, method: str):
        found = TOKEN.match(token)
        if not found or token in state.revoked:
            return _error(401, "Unauthorized")
        bot = bot_of(token)
        params = _params()
        with state.lock:
            state.calls.append({"path": f"/bot…/{method}", "params": params})
        match method.lower():
            case "getme":
                user = {"id": bot.id, "is_bot": True, "first_name": "Салон", "username": bot.username}
                return jsonify({"ok": True, "result": user})
            case "setwebhook":
                bot.webhook_url, bot.secret = params.get("url") or None, params.get("secret_token") or None
                return jsonify({"ok": True, "result": True, "description": "Webhook was set"})
            case "deletewebhook":
                bot.webhook_url = bot.secret = None
                return jsonify({"ok": True, "result": True, "description": "Webhook was deleted"})
            case "getwebhookinfo":
                info = {"url": bot.webhook_url or "", "has_custom_certificate": False, "pending_update_count": 0}
                return jsonify({"ok": True, "result": info})
            case "sendmessage":
                chat_id = int(params.get("chat_id") or 0)
                if chat_id in bot.blocked:
                    return _error(403, "Forbidden: bot was blocked by the user")
                if chat_id not in bot.written:
                    return _error(400, "Bad Request: chat not found")
                text = str(params.get("text") or "")
                if not text or len(text) > 4096:
                    return _error(400, "Bad Request: message text is empty" if not text else "message is too long")
                message_id = state.new_id()
                sent = {"message_id": message_id, "chat_id": chat_id, "text": text}
                sent["reply_markup"] = params.get("reply_markup")
                bot.sent.append(sent)
                chat = {"id": chat_id, "type": "private", "first_name": "Клиент"}
                result = {"message_id": message_id, "date": int(time.time()), "chat": chat, "text": text}
                return jsonify({"ok": True, "result": result})
        return _error(404, "Not Found: method not found")

    @app.post("/simulator/telegram/<token>/updates")
    def simulate(token: str):
        body = request.get_json(silent=True) or {}
        sender = body.get("from") or {}
        if not isinstance(sender.get("id"), int) or not (body.get("text") or body.get("contact")):
            return jsonify({"error": {"code": "bad_update", "message": "from.id and text or contact"}}), 400
        bot = bot_of(token)
        user = {"id": sender["id"], "is_bot": False, "first_name": sender.get("first_name") or "Клиент"}
        chat = {"id": sender["id"], "type": "private", "first_name": user["first_name"]}
        message: dict[str, Any] = {"message_id": state.new_id(), "date": int(time.time()), "chat": chat, "from": user}
        if body.get("contact"):
            contact = body["contact"]
            message["contact"] = {
                "phone_number": str(contact.get("phone_number") or ""),
                "first_name": user["first_name"],
                "user_id": contact.get("user_id", sender["id"]),
            }
        else:
            message["text"] = str(body["text"])
        update = {"update_id": body.get("update_id") or state.new_id(), "message": message}
        bot.written.add(sender["id"])
        try:
            statuses = deliver(bot, SECRET_HEADER, update, int(body.get("times") or 1))
        except LookupError as exc:
            return jsonify({"error": {"code": "no_webhook", "message": str(exc)}}), 409
        return jsonify({"update_id": update["update_id"], "statuses": statuses})

    @app.post("/_standin/revoke/<token>")
    def revoke(token: str):
        state.revoked.add(token)
        return jsonify({"ok": True})

    add_simulator_routes(app, state, "telegram", bot_of)
    return app


def main() -> None:
    serve(create_app, 5050)


if __name__ == "__main__":
    main()
