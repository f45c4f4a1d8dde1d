"""A local YCLIENTS: the real envelope, status codes and auth checks for every endpoint AI Admin calls,
the marketplace install flow, fault switches and a call log. A person can use it from a browser or curl.

Control API (under /_standin):
  GET  /_standin/connect?salon_id=962302[&user_id=2345678]  -> 302 to our registration URL, signed for the salon's
       owner or another of its accounts (the "Connect" click)
  GET  /_standin/signed-link?salon_id=...  -> {"url": ...}
  POST /_standin/faults {"path": "callback/redirect", "mode": M, "times": 2}
       M: an HTTP status (500, 503, 429, 422…), "timeout", "html", "accept_html" (do it, answer HTML),
          or "slow" (do it, answer after slow_fault_s)
  POST /_standin/lifecycle {"salon_id": 962302, "event": "uninstall"}  -> POSTs to our Callback URL
  POST /_standin/salons/962302/large {"clients": 5000, "staff": 25, "services": 200, "records": 3000}
  POST /_standin/salons/962302/records {"id": 1, "staff_id": .., "service_id": .., "datetime": "..", "client_id": ..}
  DELETE /_standin/salons/962302/records/<id>   (both send the record webhook to the salon's webhook_urls,
       as YCLIENTS does: once, no retries; add "?notify=0" to change YCLIENTS silently)
  GET  /_standin/calls[?path=substring]  ; POST /_standin/reset ; GET /_standin/installs
"""

from __future__ import annotations

import argparse
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Flask, Response, g, jsonify, redirect, request

from aiadmin.marketplace.user_data_signature import encode_user_data
from aiadmin.yclients.models import parse_yc_datetime
from devstack import yclients_demo_data as demo
from devstack.yclients_salon import Salon, public

UNAUTHORIZED = "Необходима авторизация"


@dataclass
class StandinConfig:
    partner_token: str
    user_token: str
    application_id: str
    registration_url: str  # our GET /auth/yclients/redirect
    callback_url: str  # our POST /webhook/yclients
    known_salons: set[int] = field(default_factory=lambda: {demo.DEMO_SALON_ID, 962303})
    rate_limit: bool = True
    callback_answer: int = 301
    timeout_fault_s: float = 15.0
    slow_fault_s: float = 0.5


@dataclass
class Fault:
    path: str
    mode: str
    times: int
    retry_after: int = 1


class StandinState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.installs: dict[int, dict[str, Any]] = {}
        self.hits: deque[float] = deque()
        self.salons: dict[int, Salon] = {}
        self.throttled = 0  # requests answered 429 by the rate limit

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.faults.clear()
            self.installs.clear()
            self.hits.clear()
            self.salons.clear()
            self.throttled = 0

    def salon(self, salon_id: int) -> Salon:
        with self.lock:
            if salon_id not in self.salons:
                self.salons[salon_id] = Salon.demo(salon_id)
            return self.salons[salon_id]

    def notify(self, salon_id: int, resource: str, resource_id: int, status: str, data: Any) -> list[int]:
        """A data-change webhook to every URL the install registered; once, no retries (as YCLIENTS)."""
        with self.lock:
            urls = list((self.installs.get(salon_id) or {}).get("webhook_urls") or [])
        body = {
            "company_id": salon_id,
            "resource": resource,
            "resource_id": resource_id,
            "status": status,
            "data": data,
        }
        answers = []
        for url in urls:
            try:
                answers.append(requests.post(url, json=body, timeout=10).status_code)
            except requests.RequestException:
                answers.append(0)
        return answers

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path in path and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None


def envelope(data: Any, meta: Any = None, status: int = 200) -> Response:
    resp = jsonify({"success": True, "data": data, "meta": [] if meta is None else meta})
    resp.status_code = status
    return resp


def failure(status: int, message: str, extra_meta: dict[str, Any] | None = None) -> Response:
    resp = jsonify({"success": False, "data": None, "meta": {"message": message, **(extra_meta or {})}})
    resp.status_code = status
    return resp


def create_app(config: StandinConfig, state: StandinState | None = None) -> Flask:
    app = Flask("yclients_standin")
    app.url_map.strict_slashes = False
    st = state or StandinState()
    app.config["STATE"] = st

    def auth() -> tuple[bool, bool]:
        header = request.headers.get("Authorization", "")
        partner, user = None, None
        for part in header.split(","):
            words = part.strip().split(None, 1)
            if len(words) == 2 and words[0].lower() == "bearer":
                partner = words[1].strip()
            elif len(words) == 2 and words[0].lower() == "user":
                user = words[1].strip()
        ok_p = partner is not None and hmac.compare_digest(partner.encode(), config.partner_token.encode())
        ok_u = user is not None and hmac.compare_digest(user.encode(), config.user_token.encode())
        return ok_p, ok_u

    @app.before_request
    def guard():
        if request.path.startswith("/_standin"):
            return None
        now = time.monotonic()
        ok_p, ok_u = auth()
        with st.lock:
            st.calls.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.args.to_dict(flat=False),
                    "json": request.get_json(silent=True),
                    "partner_ok": ok_p,
                    "user_ok": ok_u,
                    "at": time.time(),
                }
            )
            if config.rate_limit:
                while st.hits and now - st.hits[0] >= 60:
                    st.hits.popleft()
                last_second = sum(1 for t in st.hits if now - t < 1)
                if last_second >= 5 or len(st.hits) >= 200:
                    st.throttled += 1
                    resp = failure(429, "Too many requests")
                    resp.headers["Retry-After"] = "1"
                    return resp
                st.hits.append(now)
        fault = st.take_fault(request.path)
        if fault and fault.mode == "accept_html":  # YCLIENTS did the work but answered with an HTML page
            g.answer_html = True
            fault = None
        if fault and fault.mode == "slow":
            time.sleep(config.slow_fault_s)
            fault = None
        if fault:
            if fault.mode == "timeout":
                time.sleep(config.timeout_fault_s)
                return failure(504, "Gateway Timeout")
            if fault.mode == "html":
                return Response("<!DOCTYPE html><html><body>YCLIENTS</body></html>", 200, mimetype="text/html")
            status = int(fault.mode)
            resp = failure(status, "Too many requests" if status == 429 else f"Ошибка {status}")
            if status == 429:
                resp.headers["Retry-After"] = str(fault.retry_after)
            return resp
        if not ok_p:
            return failure(401, UNAUTHORIZED)
        return None

    @app.after_request
    def html_instead(resp: Response) -> Response:
        if g.get("answer_html"):
            return Response("<!DOCTYPE html><html><body>YCLIENTS</body></html>", 200, mimetype="text/html")
        return resp

    def needs_user() -> Response | None:
        return None if auth()[1] else failure(401, UNAUTHORIZED)

    def known(salon_id: int) -> Response | None:
        if salon_id not in config.known_salons:
            resp = jsonify(
                {
                    "errors": {"code": 404, "message": "Компания не найдена"},
                    "meta": {"message": "Компания не найдена"},
                }
            )
            resp.status_code = 404
            return resp
        return None

    # --- B2B ---------------------------------------------------------------------------------------------

    def one(salon_id: int, pick: Any, missing: str) -> Response:
        """One object by id, as YCLIENTS answers it: auth and salon checks, then the object or a 404."""
        problem = needs_user() or known(salon_id)
        if problem:
            return problem
        found = pick(st.salon(salon_id))
        return envelope(found, {}) if found else failure(404, missing)

    def listing(salon_id: int, pick: Any) -> Response:
        """A whole collection, as YCLIENTS answers it: auth and salon checks, then the list and its count."""
        problem = needs_user() or known(salon_id)
        if problem:
            return problem
        data = list(pick(st.salon(salon_id)))
        return envelope(data, {"total_count": len(data)})

    @app.get("/api/v1/company/<int:salon_id>")
    def company(salon_id: int):
        return needs_user() or known(salon_id) or envelope(st.salon(salon_id).company, {})

    @app.get("/api/v1/company/<int:salon_id>/users")
    def company_users(salon_id: int):
        problem = needs_user() or known(salon_id)
        if problem:
            return problem
        users = [dict(u) for u in st.salon(salon_id).users]
        return envelope(users, {"count": len(users)})

    @app.get("/api/v1/company/<int:salon_id>/services")
    def services(salon_id: int):
        return listing(salon_id, lambda salon: salon.services.values())

    @app.get("/api/v1/company/<int:salon_id>/services/<int:service_id>")
    def service(salon_id: int, service_id: int):
        return one(salon_id, lambda salon: salon.services.get(service_id), "Услуга не найдена")

    @app.get("/api/v1/company/<int:salon_id>/staff")
    def staff(salon_id: int):
        return listing(salon_id, lambda salon: salon.staff.values())

    @app.get("/api/v1/company/<int:salon_id>/staff/<int:staff_id>")
    def staff_member(salon_id: int, staff_id: int):
        return one(salon_id, lambda salon: salon.staff.get(staff_id), "Сотрудник не найден")

    @app.get("/api/v1/company/<int:salon_id>/service_categories")
    def service_categories(salon_id: int):
        return needs_user() or known(salon_id) or envelope(st.salon(salon_id).categories, {})

    @app.get("/api/v1/client/<int:salon_id>/<int:client_id>")
    def client(salon_id: int, client_id: int):
        return one(salon_id, lambda salon: salon.clients.get(client_id), "Клиент не найден")

    @app.get("/api/v1/record/<int:salon_id>/<int:record_id>")
    def record(salon_id: int, record_id: int):
        return one(salon_id, lambda salon: (rec := salon.records.get(record_id)) and public(rec), "Запись не найдена")

    @app.post("/api/v1/company/<int:salon_id>/clients/search")
    def clients_search(salon_id: int):
        problem = needs_user() or known(salon_id)
        if problem:
            return problem
        body = request.get_json(silent=True) or {}
        page, size = int(body.get("page", 1)), min(int(body.get("page_size", 25)), 200)
        data = sorted(st.salon(salon_id).clients.values(), key=lambda c: c["id"])
        fields = body.get("fields") or ["id"]
        chunk = [{k: c[k] for k in fields if k in c} for c in data[(page - 1) * size : page * size]]
        return envelope(chunk, {"total_count": len(data)})

    @app.get("/api/v1/company/<int:salon_id>/staff/schedule")
    def staff_schedule(salon_id: int):
        problem = needs_user() or known(salon_id)
        if problem:
            return problem
        try:
            start = date.fromisoformat(request.args["start_date"])
            end = date.fromisoformat(request.args["end_date"])
        except (KeyError, ValueError):
            return failure(422, "start_date and end_date are required", {"errors": ["start_date", "end_date"]})
        data = st.salon(salon_id).schedule(start, end)
        return envelope(data, {"count": len(data)})

    @app.get("/api/v1/records/<int:salon_id>")
    def records(salon_id: int):
        problem = needs_user() or known(salon_id)
        if problem:
            return problem
        page, count = int(request.args.get("page", 1)), min(int(request.args.get("count", 50)), 1000)
        args = request.args
        try:
            data = st.salon(salon_id).find_records(
                start=date.fromisoformat(args["start_date"]) if args.get("start_date") else None,
                end=date.fromisoformat(args["end_date"]) if args.get("end_date") else None,
                changed_after=parse_yc_datetime(args["changed_after"]) if args.get("changed_after") else None,
                with_deleted=args.get("with_deleted") in ("1", "true"),
            )
        except ValueError as exc:
            return failure(422, f"bad filter: {exc}")
        chunk = [public(r) for r in data[(page - 1) * count : page * count]]
        return envelope(chunk, {"page": page, "total_count": len(data)})

    # --- online booking and record changes (what the bot does) ---------------------------------------------

    @app.get("/api/v1/book_times/<int:salon_id>/<int:staff_id>/<day>")
    def book_times(salon_id: int, staff_id: int, day: str):
        problem = known(salon_id)
        if problem:
            return problem
        salon = st.salon(salon_id)
        ids = [int(x) for x in request.args.getlist("service_ids[]") or request.args.getlist("service_ids")]
        length = sum(int(salon.services[i].get("duration") or 3600) for i in ids if i in salon.services) or 3600
        try:
            return envelope(salon.free_times(staff_id, date.fromisoformat(day), length))
        except ValueError:
            return failure(422, "bad date")

    @app.post("/api/v1/book_record/<int:salon_id>")
    def book_record(salon_id: int):
        problem = known(salon_id)
        if problem:
            return problem
        body = request.get_json(silent=True) or {}
        salon = st.salon(salon_id)
        out = []
        for appt in body.get("appointments") or []:
            try:
                rid = salon.book(
                    int(appt["staff_id"]),
                    int(appt["services"][0]),
                    parse_yc_datetime(appt["datetime"]).replace(tzinfo=None),
                    str(body.get("phone", "")).lstrip("+"),
                    str(body.get("fullname") or ""),
                    body.get("api_id"),
                )
            except ValueError:
                return failure(422, "Выбранное время уже занято", {"code": 433})
            except (KeyError, TypeError, IndexError):
                return failure(422, "appointments: id, services, staff_id, datetime are required")
            out.append({"id": appt.get("id", 1), "record_id": rid, "record_hash": f"h{rid}"})
            st.notify(salon_id, "record", rid, "create", public(salon.records[rid]))
        return envelope(out, [], status=201)

    @app.put("/api/v1/record/<int:salon_id>/<int:record_id>")
    def update_record(salon_id: int, record_id: int):
        problem = needs_user() or known(salon_id)
        if problem:
            return problem
        salon = st.salon(salon_id)
        rec = salon.records.get(record_id)
        if rec is None or rec["deleted"]:
            return failure(404, "Запись не найдена")
        body = request.get_json(silent=True) or {}
        when = parse_yc_datetime(body.get("datetime") or rec["datetime"]).replace(tzinfo=None)
        staff_id = int(body.get("staff_id") or rec["staff_id"])
        service_id = int(((body.get("services") or rec["services"])[0])["id"])
        with salon.lock:
            saved = dict(rec)
            rec["deleted"] = True  # its own time does not block the move
            free = {s["time"] for s in salon.free_times(staff_id, when.date(), int(rec["seance_length"]))}
            rec.update(deleted=saved["deleted"])
            if f"{when:%H:%M}" not in free:
                return failure(422, "Выбранное время уже занято", {"code": 433})
            client_id = (rec.get("client") or {}).get("id")
            updated = salon.put_record(
                record_id, staff_id, service_id, when, client_id, length=int(rec["seance_length"])
            )
            updated["api_id"] = saved.get("api_id", "")
        st.notify(salon_id, "record", record_id, "update", public(updated))
        return envelope(public(updated), [], status=200)

    @app.put("/api/v1/visits/<int:visit_id>/<int:record_id>")
    def update_visit(visit_id: int, record_id: int):
        problem = needs_user()
        if problem:
            return problem
        body = request.get_json(silent=True) or {}
        if "attendance" not in body or "comment" not in body:
            return failure(422, "attendance and comment are required")
        for salon in st.salons.values():
            rec = salon.records.get(record_id)
            if rec is not None and rec.get("visit_id") == visit_id and not rec["deleted"]:
                with salon.lock:
                    rec["attendance"] = int(body["attendance"])
                st.notify(salon.salon_id, "record", record_id, "update", public(rec))
                return envelope({"attendance": rec["attendance"], "records": [public(rec)]}, [], status=200)
        return failure(404, "Визит не найден")

    @app.delete("/api/v1/record/<int:salon_id>/<int:record_id>")
    def remove_record(salon_id: int, record_id: int):
        problem = needs_user() or known(salon_id)
        if problem:
            return problem
        salon = st.salon(salon_id)
        if record_id not in salon.records or salon.records[record_id]["deleted"]:
            return failure(404, "Запись не найдена")
        salon.delete_record(record_id)
        st.notify(salon_id, "record", record_id, "delete", {"id": record_id})
        return Response(status=204)

    # --- marketplace -------------------------------------------------------------------------------------

    @app.post("/marketplace/partner/callback/redirect")
    @app.post("/marketplace/partner/callback")
    def marketplace_callback():
        body = request.get_json(silent=True) or {}
        if str(body.get("application_id")) != config.application_id:
            return failure(400, "Агрегатор не найден")
        try:
            salon_id = int(body["salon_id"])
        except (KeyError, TypeError, ValueError):
            return failure(422, "salon_id is required", {"errors": ["salon_id"]})
        if salon_id not in config.known_salons:
            return failure(404, "Салон не найден")
        with st.lock:
            current = st.installs.get(salon_id)
            if current and current["status"] == "active":
                return failure(403, "Пользователь уже установил это приложение")
            st.installs[salon_id] = {
                "status": "active",
                "api_key": body.get("api_key"),
                "webhook_urls": body.get("webhook_urls") or [],
                "at": time.time(),
            }
        if request.path.endswith("/redirect") and config.callback_answer == 301:
            return redirect(f"https://yclients.com/appstore/setup?salon_id={salon_id}", code=301)
        return envelope(None, {"message": "Сохранено"}, status=201 if not request.path.endswith("/redirect") else 200)

    @app.get("/marketplace/salon/<int:salon_id>/application/<app_id>")
    def connection_status(salon_id: int, app_id: str):
        install = st.installs.get(salon_id)
        if install is None or app_id != config.application_id:
            return failure(404, "Приложение не установлено в салоне")
        return envelope(
            {
                "logs": [],
                "payments": [],
                "connection_status": {"status": install["status"], "created_at": install["at"]},
            }
        )

    # --- control API for people and tests ----------------------------------------------------------------

    def signed_link(salon_ids: list[int], user_id: int | None = None) -> str:
        """Signed for the salon's owner, or for another of its accounts (`user_id`)."""
        accounts = st.salon(salon_ids[0]).users
        account = next((u for u in accounts if u["id"] == user_id), accounts[0] if accounts else demo.OWNER_USER)
        user = {
            **{k: account[k] for k in ("id", "name", "phone", "email")},
            "is_approved": True,
            "avatar": "",
            "salon_name": st.salon(salon_ids[0]).company["title"],
        }
        user_data, sign = encode_user_data(user, config.partner_token)
        if len(salon_ids) == 1:
            params: list[tuple[str, Any]] = [("salon_id", salon_ids[0])]
        else:
            params = [(f"salon_ids[{i}]", sid) for i, sid in enumerate(salon_ids)]
        params += [("user_data", user_data), ("user_data_sign", sign)]
        return f"{config.registration_url}?{urlencode(params)}"

    def requested_salons() -> list[int]:
        return [int(x) for x in (request.args.getlist("salon_id") or [str(demo.DEMO_SALON_ID)])]

    def requested_user() -> int | None:
        return int(request.args["user_id"]) if request.args.get("user_id", "").isdigit() else None

    @app.get("/_standin/connect")
    def connect():
        return redirect(signed_link(requested_salons(), requested_user()), code=302)

    @app.get("/_standin/signed-link")
    def signed_link_json():
        return jsonify({"url": signed_link(requested_salons(), requested_user())})

    @app.post("/_standin/faults")
    def add_fault():
        body = request.get_json(force=True)
        with st.lock:
            st.faults.append(
                Fault(
                    path=body["path"],
                    mode=str(body["mode"]),
                    times=int(body.get("times", 1)),
                    retry_after=int(body.get("retry_after", 1)),
                )
            )
        return jsonify({"faults": [vars(f) for f in st.faults]}), 201

    @app.post("/_standin/lifecycle")
    def lifecycle():
        body = request.get_json(force=True)
        payload = {
            "salon_id": int(body["salon_id"]),
            "application_id": int(config.application_id) if config.application_id.isdigit() else config.application_id,
            "event": body["event"],
            "partner_token": config.partner_token,
        }
        resp = requests.post(config.callback_url, json=payload, timeout=10)
        if body["event"] == "uninstall":
            with st.lock:
                st.installs.pop(int(body["salon_id"]), None)
        return jsonify({"status": resp.status_code, "body": resp.text[:500]})

    @app.post("/_standin/salons/<int:salon_id>/large")
    def large_salon(salon_id: int):
        body = request.get_json(silent=True) or {}
        sizes = {k: int(v) for k, v in body.items() if k in ("clients", "staff", "services", "records", "days")}
        with st.lock:
            st.salons[salon_id] = Salon.large(salon_id, **sizes)
        return jsonify({"salon_id": salon_id, **sizes}), 201

    @app.post("/_standin/salons/<int:salon_id>/records")
    def put_record(salon_id: int):
        body = request.get_json(force=True)
        salon = st.salon(salon_id)
        created = int(body["id"]) not in salon.records
        rec = salon.put_record(
            int(body["id"]),
            int(body["staff_id"]),
            int(body["service_id"]),
            datetime.fromisoformat(body["datetime"]),
            int(body["client_id"]) if body.get("client_id") else None,
            length=int(body.get("seance_length", 3600)),
        )
        sent = []
        if request.args.get("notify", "1") != "0":
            sent = st.notify(salon_id, "record", rec["id"], "create" if created else "update", public(rec))
        return jsonify({"record": public(rec), "webhooks": sent}), 201 if created else 200

    @app.delete("/_standin/salons/<int:salon_id>/records/<int:record_id>")
    def delete_record(salon_id: int, record_id: int):
        rec = st.salon(salon_id).delete_record(record_id)
        sent = []
        if request.args.get("notify", "1") != "0":
            sent = st.notify(salon_id, "record", record_id, "delete", {"id": record_id})
        return jsonify({"record": public(rec), "webhooks": sent})

    @app.get("/_standin/calls")
    def calls():
        needle = request.args.get("path", "")
        with st.lock:
            return jsonify([c for c in st.calls if needle in c["path"]])

    @app.get("/_standin/installs")
    def installs():
        with st.lock:
            return jsonify({str(k): v for k, v in st.installs.items()})

    @app.post("/_standin/reset")
    def reset():
        st.reset()
        return jsonify({"reset": True})

    @app.get("/_standin/healthz")
    def healthz():
        return jsonify(
            {
                "status": "ok",
                "today": date.today().isoformat(),
                "schedule_until": (date.today() + timedelta(days=30)).isoformat(),
            }
        )

    return app


def main() -> None:
    import os

    from werkzeug.serving import make_server

    from aiadmin.core.logs import configure_logging

    parser = argparse.ArgumentParser(description="YCLIENTS stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5010)
    args = parser.parse_args()
    configure_logging("INFO")
    base = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    config = StandinConfig(
        partner_token=os.environ["YCLIENTS_PARTNER_TOKEN"],
        user_token=os.environ["YCLIENTS_USER_TOKEN"],
        application_id=os.environ["YCLIENTS_APP_ID"],
        registration_url=f"{base}/auth/yclients/redirect",
        callback_url=f"{base}/webhook/yclients",
        rate_limit=os.environ.get("STANDIN_RATE_LIMIT", "1") == "1",
    )
    make_server(args.host, args.port, create_app(config), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
