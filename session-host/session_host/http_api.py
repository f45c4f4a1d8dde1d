"""The host's HTTP side: /healthz, and with the simulated driver the /simulator/ API a person (through the local
gateway) or a test uses to play the salon's phone. Everything but /healthz needs the shared secret."""

from __future__ import annotations

import base64
import binascii
import hmac
from pathlib import Path

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError

from aiadmin.core import repositories
from aiadmin.core.caller_auth import verify_caller
from aiadmin.core.errors import AppError
from aiadmin.core.models import salon_id_from_session
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TASK_SECRET_HEADER
from aiadmin.whatsapp.chat import MEDIA_KINDS, SendRequest
from session_host.drivers.simulated import SimulatedWhatsApp, SimulatorError
from session_host.outbound import Sender
from session_host.sessions import SessionHost


def create_app(host: SessionHost, secret: str, sender: Sender | None = None, deployed: Settings | None = None) -> Flask:
    """`deployed`: the host's settings when it runs in the cloud; every call but /healthz must then carry an OIDC
    token of our invoker account (checked here too, not only by Cloud Run's IAM). Locally the shared secret."""
    app = Flask("session_host")

    @app.before_request
    def authenticate():
        if request.path == "/healthz":
            return None
        try:
            if deployed is not None:
                verify_caller(request.headers, deployed, deployed.session_host_url)
                return None
        except AppError as exc:
            return jsonify({"error": {"code": exc.code, "message": exc.message}}), exc.status
        given = request.headers.get(TASK_SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return jsonify({"error": {"code": "unauthenticated", "message": "missing or wrong secret"}}), 401
        return None

    @app.post("/send")
    def send():
        if sender is None:
            return jsonify({"error": {"code": "unavailable", "message": "sending is not enabled"}}), 503
        try:
            req = SendRequest.model_validate(request.get_json(silent=True) or {})
        except ValidationError as exc:
            return jsonify({"error": {"code": "invalid_fields", "message": str(exc)}}), 400
        attempt = request.headers.get("X-CloudTasks-TaskRetryCount", "0")
        status, body, headers = sender.send(req, int(attempt) if attempt.isdigit() else 0)
        return jsonify(body), status, headers

    @app.get("/healthz")
    def healthz():
        ready = host.listening.is_set()
        body = {
            "status": "ok" if ready else "starting",
            "holder": host.holder,
            "sessions": len(host.owned),
            "connected": host.sockets_up,
            "statuses_decided": host.writer.submitted,
            "statuses_written": host.writer.written,
        }
        return jsonify(body), 200 if ready else 503

    driver = host.driver
    if isinstance(driver, SimulatedWhatsApp):

        def act(fn, *args):
            try:
                message_id = fn(*args)
            except SimulatorError as exc:
                return jsonify({"error": {"code": "simulator_refused", "message": str(exc)}}), 409
            return jsonify({"success": True, **({"message_id": message_id} if message_id else {})})

        def fields(*names: str) -> dict | None:
            body = request.get_json(silent=True) or {}
            return body if all(body.get(n) for n in names) else None

        def missing(*names: str):
            message = f"{' and '.join(names)} are required"
            return jsonify({"error": {"code": "bad_request", "message": message}}), 400

        @app.get("/simulator/")
        def simulator_page():
            return Response((Path(__file__).parent / "simulator.html").read_bytes(), mimetype="text/html")

        @app.post("/simulator/sessions/<sid>/scan")
        def scan(sid: str):
            body = request.get_json(silent=True) or {}
            return act(driver.scan, sid, str(body.get("phone") or "79990000000"), body.get("name"))

        @app.post("/simulator/sessions/<sid>/pair")
        def pair(sid: str):
            body = request.get_json(silent=True) or {}
            return act(driver.pair, sid, str(body.get("code", "")), body.get("name"))

        @app.post("/simulator/sessions/<sid>/logout")
        def logout(sid: str):
            return act(driver.unlink_from_phone, sid)

        @app.post("/simulator/sessions/<sid>/react")
        def react(sid: str):
            """{from, message_id, emoji}: the customer reacts to one of the salon's messages."""
            if (body := fields("from", "message_id", "emoji")) is None:
                return missing("from", "message_id", "emoji")
            return act(driver.customer_reacts, sid, str(body["from"]), str(body["message_id"]), str(body["emoji"]))

        @app.post("/simulator/refuse")
        def refuse():
            """{phone}: WhatsApp refuses the first message to this number (error 463) until the customer writes."""
            if (body := fields("phone")) is None:
                return missing("phone")
            driver.refusing.add(str(body["phone"]))
            return jsonify({"success": True})

        @app.post("/simulator/stall")
        def stall():
            """{phone}: WhatsApp takes messages to this number but never answers the send (the driver times out)."""
            if (body := fields("phone")) is None:
                return missing("phone")
            driver.stalling.add(str(body["phone"]))
            return jsonify({"success": True})

        @app.post("/simulator/sessions/<sid>/event")
        def library_event(sid: str):
            """{kind: client_outdated | keepalive_timeout | temporary_ban | stream_replaced, expire_s}: the library
            event, as whatsmeow reports it."""
            if (body := fields("kind")) is None:
                return missing("kind")
            expire_s = body.get("expire_s", 3600)
            if not isinstance(expire_s, int | float) or not 0 < expire_s <= 30 * 86400:
                return jsonify({"error": {"code": "bad_request", "message": "expire_s must be 1 s – 30 days"}}), 400
            return act(driver.library_event, sid, str(body["kind"]), float(expire_s))

        @app.post("/simulator/sessions/<sid>/drop")
        def drop(sid: str):
            """{for_s}: optional, an outage of that many seconds during which every reconnect fails."""
            for_s = (request.get_json(silent=True) or {}).get("for_s", 0)
            if not isinstance(for_s, int | float) or not 0 <= for_s <= 86400:
                return jsonify({"error": {"code": "bad_request", "message": "for_s must be 0–86400 seconds"}}), 400
            return act(driver.drop, sid, float(for_s))

        @app.get("/simulator/sessions/<sid>")
        def show(sid: str):
            return jsonify(driver.snapshot(sid))

        @app.post("/simulator/sessions/<sid>/inbound")
        def inbound(sid: str):
            """{from, text} or {from, media: voice|image|video|sticker|document[, text as its caption]}; a voice note
            may carry its sound: `audio` (base64), `seconds`, `audio_after_s` (the download's time), `audio_fails`;
            `lid` instead of (or with) `from`: a sender WhatsApp shows by LID only; `sent_s_ago`: written that long
            before WhatsApp delivers it (the salon's phone was offline)."""
            body = request.get_json(silent=True) or {}
            media, unreadable = body.get("media"), body.get("undecryptable") is True
            if not (body.get("from") or body.get("lid")) or not (body.get("text") or media or unreadable):
                return missing("from (or lid)", "text (or media, or undecryptable)")
            if media is not None and media not in MEDIA_KINDS:
                message = f"media must be one of {', '.join(MEDIA_KINDS)}"
                return jsonify({"error": {"code": "bad_request", "message": message}}), 400
            name = body.get("name")  # the customer's WhatsApp profile name, as WhatsApp sends it with each message
            if name is not None and not isinstance(name, str):
                return jsonify({"error": {"code": "bad_request", "message": "name must be a string"}}), 400
            text = str(body.get("text") or "")
            audio, seconds = None, body.get("seconds")
            if body.get("audio") is not None:  # a voice note's sound, base64, with its length
                try:
                    audio = base64.b64decode(str(body["audio"]), validate=True)
                except (binascii.Error, ValueError):
                    return jsonify({"error": {"code": "bad_request", "message": "audio must be base64"}}), 400
                if media != "voice" or not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 1:
                    message = "audio comes with media: voice and its length in whole seconds (seconds ≥ 1)"
                    return jsonify({"error": {"code": "bad_request", "message": message}}), 400
            after = body.get("audio_after_s", 0)
            if not isinstance(after, int | float) or isinstance(after, bool) or not 0 <= after <= 60:
                return jsonify({"error": {"code": "bad_request", "message": "audio_after_s: 0–60 seconds"}}), 400
            ago = body.get("sent_s_ago", 0)
            if not isinstance(ago, int | float) or isinstance(ago, bool) or not 0 <= ago <= 30 * 86400:
                return jsonify({"error": {"code": "bad_request", "message": "sent_s_ago: seconds, 0 to 30 days"}}), 400
            return act(
                driver.customer_writes,
                sid,
                str(body.get("from") or ""),
                text,
                body.get("message_id"),
                name or None,
                media,
                unreadable,
                str(body["lid"]) if body.get("lid") else None,
                float(ago),
                audio,
                seconds if audio else None,
                float(after),
                body.get("audio_fails") is True,
            )

        @app.post("/simulator/sessions/<sid>/from-owner")
        def from_owner(sid: str):
            if (body := fields("to", "text")) is None:
                return missing("to", "text")
            return act(driver.staff_writes, sid, str(body["to"]), str(body["text"]))

        @app.get("/simulator/sessions/<sid>/outbox")
        def outbox(sid: str):
            """What the salon's WhatsApp sent; `to_owner` marks the notices to the owner's number."""
            try:
                company = repositories.get_company(host.db, salon_id_from_session(sid))
            except ValueError:
                company = None
            owner = company.owner_phone() if company else None
            return jsonify([{**m, "to_owner": m["to"] == owner} for m in driver.outbox.get(sid, [])])

    return app
