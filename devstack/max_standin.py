"""A local MAX Bot API (`MAX_API_BASE`), a real HTTP server with the paths and shapes of dev.max.ru/docs-api: the
token in the `Authorization` header, `GET /me`, `POST|GET|DELETE /subscriptions`, `POST /messages?user_id=`
(answered `{"message": {…, "body": {"mid": …}}}`), errors as `{"code": "chat.denied", "message": …}` with 403.

The simulator (local only, through the gateway): `POST /simulator/max/{token}/updates` with `{"from": {"id": 2001,
"first_name": "Анна"}, "text": "…"}`, `{"from": …, "contact": {"phone_number": "+7…"}}` (the request_contact
button: the sender's own card with its hash) or `{"from": …, "start": "<payload>"}` (a deep link: `bot_started`),
delivered to the subscription's URL with `X-Max-Bot-Api-Secret` (`"times": 3` redelivers it); `GET …/sent`;
`POST …/block` {"chat_id"}.

Not imitated: the 30 requests/s limit, the Russian Trusted Root CA of the real host, callbacks and their answers,
message formatting, uploads, group chats."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, jsonify, request

from devstack.bot_standin import StandinState, add_simulator_routes, deliver, serve

SECRET_HEADER = "X-Max-Bot-Api-Secret"  # noqa: S105 - a header name


def _error(status: int, code: str, message: str):
    return jsonify({"code": code, "message": message}), status


def create_app(state: StandinState | None = None) -> Flask:
    state = state or StandinState()
    app = Flask("max-standin")
    app.config["STATE"] = state

    def token_bot():
        token = request.headers.get("Authorization", "")
        if request.args.get("access_token"):
            return None, _error(401, "verify.token", "passing the token in the query is not supported")
        if len(token) < 20 or token in state.revoked:
            return None, _error(401, "verify.token", "Invalid access_token")
        return state.bot(token), None

    @app.get("/me")
    def me():
        bot, err = token_bot()
        if err:
            return err
        return jsonify({"user_id": bot.id, "first_name": "Салон", "username": bot.username, "is_bot": True})

    @app.route("/subscriptions", methods=["GET", "POST", "DELETE"])
    def subscriptions():
        bot, err = token_bot()
        if err:
            return err
        if request.method == "POST":
            body = request.get_json(silent=True) or {}
            if not str(body.get("url") or "").startswith(("http://", "https://")):
                return _error(400, "proto.payload", "url is required")
            bot.webhook_url, bot.secret = body["url"], body.get("secret") or None
            return jsonify({"success": True})
        if request.method == "DELETE":
            if request.args.get("url") == bot.webhook_url:
                bot.webhook_url = bot.secret = None
            return jsonify({"success": True})
        subs = [{"url": bot.webhook_url, "time": int(time.time() * 1000)}] if bot.webhook_url else []
        return jsonify({"subscriptions": subs})

    @app.post("/messages")
    def messages():
        bot, err = token_bot()
        if err:
            return err
        user_id = int(request.args.get("user_id") or 0)
        body = request.get_json(silent=True) or {}
        if user_id in bot.blocked:
            return _error(403, "chat.denied", "Key: error.dialog.suspended")
        if user_id not in bot.written:
            return _error(404, "chat.not.found", "Chat not found")
        text = str(body.get("text") or "")
        if len(text) > 4000:
            return _error(400, "proto.payload", "text is longer than 4000")
        mid = f"mid.{state.new_id():016x}"
        bot.sent.append({"mid": mid, "chat_id": user_id, "text": text, "attachments": body.get("attachments") or []})
        recipient = {"chat_id": user_id, "chat_type": "dialog", "user_id": user_id}
        message = {"recipient": recipient, "timestamp": int(time.time() * 1000), "body": {"mid": mid, "text": text}}
        return jsonify({"message": message})

    @app.post("/simulator/max/<token>/updates")
    def simulate(token: str):
        body = request.get_json(silent=True) or {}
        sender = body.get("from") or {}
        if not isinstance(sender.get("id"), int) or not (body.get("text") or body.get("contact") or "start" in body):
            return jsonify({"error": {"code": "bad_update", "message": "from.id and text, contact or start"}}), 400
        bot = state.bot(token)
        user = {"user_id": sender["id"], "first_name": sender.get("first_name") or "Клиент", "is_bot": False}
        now = int(time.time() * 1000)
        update: dict[str, Any]
        if "start" in body:
            update = {"update_type": "bot_started", "timestamp": now, "chat_id": sender["id"], "user": user}
            update["payload"] = body.get("start")
        else:
            attachments = []
            if body.get("contact"):
                phone = str(body["contact"].get("phone_number") or "")
                vcf = f"BEGIN:VCARD\nVERSION:3.0\nFN:{user['first_name']}\nTEL;TYPE=cell:{phone}\nEND:VCARD"
                owner = {**user, "user_id": body["contact"].get("user_id", sender["id"])}
                attachments.append({"type": "contact", "payload": {"vcf_info": vcf, "hash": "h", "max_info": owner}})
            message = {
                "sender": user,
                "recipient": {"chat_id": sender["id"], "chat_type": "dialog", "user_id": bot.id},
                "timestamp": now,
                "body": {"mid": body.get("mid") or f"mid.{state.new_id():016x}", "seq": 0, "text": body.get("text")},
            }
            if attachments:
                message["body"]["attachments"] = attachments
            update = {"update_type": "message_created", "timestamp": now, "message": message, "user_locale": "ru"}
        bot.written.add(sender["id"])
        try:
            statuses = deliver(bot, SECRET_HEADER, update, int(body.get("times") or 1))
        except LookupError as exc:
            return jsonify({"error": {"code": "no_webhook", "message": str(exc)}}), 409
        return jsonify({"statuses": statuses})

    add_simulator_routes(app, state, "max", state.bot)
    return app


def main() -> None:
    serve(create_app, 5055)


if __name__ == "__main__":
    main()
