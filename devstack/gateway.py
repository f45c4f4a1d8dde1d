"""The local stand-in for Firebase Hosting: serves web/public and routes by the rewrites in web/firebase.json,
the same file production Hosting uses. Every function is also reachable at /_fn/<name> for the local task
dispatcher (in production task handlers are private functions with their own URLs)."""

from __future__ import annotations

import ast
import json
import mimetypes
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import functions_framework
import requests

from aiadmin.core.task_queue import TASK_SECRET_HEADER

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_SOURCE = ROOT / "functions" / "main.py"
WEB_DIR = ROOT / "web"

# Firebase Hosting serves the project's web-app config here; the page reads it instead of a baked-in config.
FIREBASE_INIT_PATH = "/__/firebase/init.json"

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def discover_entry_points(source: Path = FUNCTIONS_SOURCE) -> list[str]:
    """Names of the functions decorated with @functions_framework.http in functions/main.py."""
    tree = ast.parse(source.read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                if (
                    isinstance(dec, ast.Attribute)
                    and dec.attr == "http"
                    and getattr(dec.value, "id", "") == ("functions_framework")
                ):
                    names.append(node.name)
    return names


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Firebase Hosting globs: `**` spans segments, `*` stays inside one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(f"^{out}$")


def _local_csp(key: str, value: str) -> str:
    """The deployed CSP lets the page talk to Firestore only; locally it talks to the emulator as well."""
    emulator = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if key.lower() != "content-security-policy" or not emulator:
        return value
    return value.replace("connect-src 'self'", f"connect-src 'self' http://{emulator}", 1)


def load_hosting_config(web_dir: Path = WEB_DIR) -> dict[str, Any]:
    return json.loads((web_dir / "firebase.json").read_text())["hosting"]


class Gateway:
    def __init__(self, web_dir: Path = WEB_DIR, source: Path = FUNCTIONS_SOURCE):
        # The simulated WhatsApp's API lives on the session host; people reach it here, under /simulator/.
        self.session_host_url = os.environ.get("SESSION_HOST_URL", "").rstrip("/")
        # Several local hosts: a session's simulated phone is on the host holding it (its lease names the URL).
        self.host_urls = [u.rstrip("/") for u in os.environ.get("SESSION_HOST_URLS", "").split(",") if u]
        self.host_secret = os.environ.get("TASK_SHARED_SECRET", "")
        local = os.environ.get("ENV") == "local"  # never proxy a real messenger's API
        self.bot_standins = {
            "/simulator/telegram/": os.environ.get("TELEGRAM_API_BASE", "").rstrip("/") if local else "",
            "/simulator/max/": os.environ.get("MAX_API_BASE", "").rstrip("/") if local else "",
        }
        config = load_hosting_config(web_dir)
        self.public = (web_dir / config["public"]).resolve()
        self.clean_urls = bool(config.get("cleanUrls"))
        self.rewrites = [(glob_to_regex(r["source"]), r) for r in config.get("rewrites", [])]
        self.headers = [
            (glob_to_regex(h["source"]), [(x["key"], _local_csp(x["key"], x["value"])) for x in h["headers"]])
            for h in config.get("headers", [])
        ]
        self.functions: dict[str, WSGIApp] = {
            name: functions_framework.create_app(target=name, source=str(source))
            for name in discover_entry_points(source)
        }
        for _, rule in self.rewrites:
            fid = rule.get("function", {}).get("functionId") if isinstance(rule.get("function"), dict) else None
            if fid and fid not in self.functions:
                raise ValueError(f"firebase.json routes to {fid!r}, which functions/main.py does not define")

    def _static(self, path: str) -> Path | None:
        candidates = [path]
        if self.clean_urls and not path.endswith(".html"):
            candidates.append(path + ".html")
        if path.endswith("/"):
            candidates.append(path + "index.html")
        for candidate in candidates:
            try:
                target = (self.public / candidate.lstrip("/")).resolve()
                if target.is_file() and target.is_relative_to(self.public):
                    return target
            except (OSError, ValueError):  # a name too long or with a NUL byte is no file of ours
                continue
        return None

    def _serve_file(self, target: Path, start_response: Callable, status: str = "200 OK") -> list[bytes]:
        body = target.read_bytes()
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
            ctype += "; charset=utf-8"
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        extra = [kv for rx, kvs in self.headers if rx.match(path) for kv in kvs]

        def respond(status: str, headers: list, exc_info: Any = None):
            return start_response(status, headers + extra, exc_info)

        if path == FIREBASE_INIT_PATH:
            return self._firebase_init(respond)
        for prefix, base in self.bot_standins.items():  # the Telegram and MAX stand-ins' simulators
            if path.startswith(prefix) and base:
                return self._proxy_simulator(environ, path, start_response, base)
        if path.startswith("/simulator/") and self.session_host_url:
            return self._proxy_simulator(environ, path, start_response)  # local only: not under the pages' CSP
        if path.startswith("/_fn/"):
            name, _, rest = path[len("/_fn/") :].partition("/")
            app = self.functions.get(name)
            if app is None:
                return self._not_found(respond)
            environ["PATH_INFO"] = "/" + rest
            return app(environ, respond)
        kind, target = self.resolve(path)
        if kind == "static":
            return self._serve_file(target, respond)
        if kind == "function":
            return self.functions[target](environ, respond)
        return self._not_found(respond)

    def resolve(self, path: str) -> tuple[str, Any]:
        """What Hosting does with a path: existing static content first, then the first matching rewrite."""
        static = self._static(path)
        if static is not None:
            return "static", static
        for rx, rule in self.rewrites:
            if not rx.match(path):
                continue
            if "function" in rule:
                return "function", rule["function"]["functionId"]
            target = self._static(rule.get("destination", ""))
            if target is not None:
                return "static", target
        return "none", None

    def _proxy_simulator(
        self, environ: dict, path: str, start_response: Callable, base: str | None = None
    ) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        try:
            resp = requests.request(
                environ["REQUEST_METHOD"],
                f"{base or self._simulator_host(path)}{path}",
                data=body,
                timeout=30,  # a simulated update waits for its webhook's answer
                headers={
                    "Content-Type": environ.get("CONTENT_TYPE") or "application/json",
                    TASK_SECRET_HEADER: self.host_secret,
                },
            )
        except requests.RequestException:
            start_response("502 Bad Gateway", [("Content-Type", "application/json")])
            return [b'{"error": {"code": "session_host_down", "message": "the session host is not running"}}']
        start_response(f"{resp.status_code} {resp.reason}", [("Content-Type", resp.headers.get("Content-Type", ""))])
        return [resp.content]

    def _simulator_host(self, path: str) -> str:
        """The host holding the session a /simulator/sessions/{sid}/… path names; the first host otherwise."""
        found = re.match(r"^/simulator/sessions/([^/]+)", path)
        if len(self.host_urls) < 2 or not found:
            return self.session_host_url
        from aiadmin.core.firestore_db import get_db
        from aiadmin.whatsapp import session_lease

        try:
            holder = session_lease.live_holder(get_db(), found.group(1))
        except Exception:  # the first host answers for a session nobody can look up
            return self.session_host_url
        url = holder.url.rstrip("/") if holder and holder.url else None
        return url if url in self.host_urls else self.session_host_url

    def _firebase_init(self, start_response: Callable) -> list[bytes]:
        """Hosting's reserved init.json, as the page reads it in production, plus where the emulator listens."""
        project = os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-aiadmin")
        config = {"projectId": project, "apiKey": "local-demo-key", "appId": "local-demo-app"}
        if os.environ.get("FIRESTORE_EMULATOR_HOST"):
            config["firestoreEmulatorHost"] = os.environ["FIRESTORE_EMULATOR_HOST"]
        body = json.dumps(config).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _not_found(self, start_response: Callable) -> list[bytes]:
        page = self.public / "404.html"
        if page.is_file():
            return self._serve_file(page, start_response, "404 Not Found")
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not Found"]


def __getattr__(name: str) -> Any:
    # `gunicorn devstack.gateway:app` builds the gateway on first access, after the env is set.
    if name == "app":
        globals()["app"] = Gateway()
        return globals()["app"]
    raise AttributeError(name)
