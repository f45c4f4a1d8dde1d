"""The host's HTTP side: /healthz, and with the simulated driver the /simulator/ API a person (through the local
gateway) or a test uses to play the salon's phone. Everything but /healthz needs the shared secret."""

from __future__ import annotations

import hmac

from flask import Flask, jsonify, request

from aiadmin.task_queue import TASK_SECRET_HEADER
from session_host.drivers.simulated import SimulatedWhatsApp, SimulatorError
from session_host.sessions import SessionHost


def create_app(host: SessionHost, secret: str) -> Flask:
    app = Flask("session_host")

    @app.before_request
    def authenticate():
        if request.path == "/healthz":
            return None
        given = request.headers.get(TASK_SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return jsonify({"error": {"code": "unauthenticated", "message": "missing or wrong secret"}}), 401
        return None

    @app.get("/healthz")
    def healthz():
        ready = host.listening.is_set()
        body = {"status": "ok" if ready else "starting", "holder": host.holder, "sessions": len(host.owned)}
        return jsonify(body), 200 if ready else 503

    driver = host.driver
    if isinstance(driver, SimulatedWhatsApp):

        def act(fn, *args):
            try:
                fn(*args)
            except SimulatorError as exc:
                return jsonify({"error": {"code": "simulator_refused", "message": str(exc)}}), 409
            return jsonify({"success": True})

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

        @app.post("/simulator/sessions/<sid>/drop")
        def drop(sid: str):
            return act(driver.drop, sid)

        @app.get("/simulator/sessions/<sid>")
        def show(sid: str):
            return jsonify(driver.snapshot(sid))

    return app
