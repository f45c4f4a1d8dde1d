"""A Gemini-compatible server that plays scripted model outputs: `POST …/models/{model}:generateContent` answers
with the next scripted step (a JSON object for Stage 1, text for Stage 2, or a failure), and records every
request. Tests and the AI benchmark run the real google-genai client against it (GEMINI_BASE_URL).

Control: POST /_script {"steps": [...]} replaces the script; each step is one of
  {"json": {...}}  {"text": "..."}  {"status": 503}  {"raw": "not json"}  {"delay_s": 3, "json": {...}}
  {"draft": true}: Stage 2 as a faithful model writes it, the draft it was given (the text after «Черновик:»)
GET /_requests lists what was asked; POST /_reset clears both. With no step left it answers 500.
Audio in a request (inline data) is heard as the model would: a known voice fixture (devstack.voice_fixtures) as its
words, any other sound as nothing; a JSON step that does not say what was heard gets `heard` filled so."""

from __future__ import annotations

import argparse
import base64
import json
import threading
import time
from collections import deque
from typing import Any

from flask import Flask, Response, jsonify, request

from devstack import voice_fixtures


class Script:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.steps: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []

    def play(self, *steps: dict[str, Any]) -> None:
        with self.lock:
            self.steps = deque(steps)
            self.requests.clear()

    def next(self) -> dict[str, Any] | None:
        with self.lock:
            return self.steps.popleft() if self.steps else None


def _answer(text: str) -> Response:
    body = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 10, "totalTokenCount": 20},
        "modelVersion": "scripted",
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def _draft_in(body: dict[str, Any]) -> str:
    parts = [p.get("text", "") for c in body.get("contents") or [] for p in c.get("parts") or []]
    prompt = "\n".join(parts)
    return prompt.split("Черновик:", 1)[1].strip() if "Черновик:" in prompt else ""


def _heard(body: dict[str, Any]) -> list[str]:
    parts = [p for c in body.get("contents") or [] for p in c.get("parts") or []]
    inline = [p.get("inlineData") or p.get("inline_data") for p in parts]
    sounds = [i for i in inline if i and str(i.get("mimeType") or i.get("mime_type") or "").startswith("audio/")]
    return [voice_fixtures.words_in(_bytes(str(i.get("data") or ""))) for i in sounds]


def _bytes(data: str) -> bytes:
    """google-genai sends inline data URL-safe and unpadded; the REST docs show the standard alphabet."""
    return base64.urlsafe_b64decode(data.replace("+", "-").replace("/", "_") + "=" * (-len(data) % 4))


def create_app(script: Script | None = None) -> Flask:
    app = Flask("gemini_standin")
    sc = script or Script()
    app.config["SCRIPT"] = sc

    @app.post("/<path:path>")
    def generate(path: str):
        if path.startswith("_"):
            return control(path)
        if not path.endswith(":generateContent"):
            return jsonify({"error": {"code": 404, "message": "unknown method", "status": "NOT_FOUND"}}), 404
        with sc.lock:
            sc.requests.append({"path": "/" + path, "json": request.get_json(silent=True), "at": time.time()})
        step = sc.next()
        if step is None:
            return jsonify({"error": {"code": 500, "message": "no scripted answer left", "status": "INTERNAL"}}), 500
        if step.get("delay_s"):
            time.sleep(float(step["delay_s"]))
        if "status" in step:
            status = int(step["status"])
            return jsonify({"error": {"code": status, "message": "scripted failure", "status": "UNAVAILABLE"}}), status
        if "raw" in step:
            return _answer(str(step["raw"]))
        if "json" in step:
            heard = _heard(request.get_json(silent=True) or {})
            answer = {**step["json"], "heard": heard} if heard and "heard" not in step["json"] else step["json"]
            return _answer(json.dumps(answer, ensure_ascii=False))
        if step.get("draft"):
            return _answer(_draft_in(request.get_json(silent=True) or {}))
        return _answer(str(step.get("text", "")))

    def control(path: str):
        if path == "_script":
            sc.play(*(request.get_json(force=True).get("steps") or []))
            return jsonify({"steps": len(sc.steps)})
        if path == "_reset":
            sc.play()
            return jsonify({"reset": True})
        return jsonify({"error": "unknown control"}), 404

    @app.get("/_requests")
    def requests_made():
        with sc.lock:
            return jsonify(sc.requests)

    return app


def main() -> None:
    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5040)
    args = parser.parse_args()
    make_server("127.0.0.1", args.port, create_app(), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
