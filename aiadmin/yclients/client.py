"""The one YCLIENTS client: rate-limited, retrying with jittered backoff, v2 envelope unwrapped, typed."""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import requests

from aiadmin.core.errors import UpstreamError
from aiadmin.core.settings import Settings, get_settings
from aiadmin.yclients.models import (
    YcCategory,
    YcClient,
    YcCompany,
    YcRecord,
    YcScheduleDay,
    YcService,
    YcSlot,
    YcStaff,
    YcUser,
)
from aiadmin.yclients.rate_limiter import SlidingWindowLimiter

log = logging.getLogger("aiadmin.yclients")

ACCEPT = "application/vnd.yclients.v2+json"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
CLIENTS_PAGE = 200  # the maximum page size of clients/search
RECORDS_PAGE = 200
CLIENT_FIELDS = ("id", "name", "phone", "email", "visits_count", "sold_amount", "first_visit_date", "last_visit_date")
ALREADY_INSTALLED = "уже установил"  # 403 "Пользователь уже установил это приложение"


class YclientsError(UpstreamError):
    """YCLIENTS answered, or failed to answer, in a way we cannot use (upstream_status None: no answer)."""

    code = "yclients_error"

    def __init__(self, message: str, *, upstream_status: int | None = None, code: str | None = None):
        super().__init__(message, code=code, details={"yclients_status": upstream_status})
        self.upstream_status = upstream_status


class YclientsNotFound(YclientsError):
    code = "yclients_not_found"


class YclientsUnavailable(YclientsError):
    """5xx, timeouts, connection errors or unusable bodies, after the retries ran out."""

    code = "yclients_unavailable"


class YclientsRejected(YclientsError):
    """A 4xx (or `success: false`) carrying YCLIENTS's own message."""

    code = "yclients_rejected"


@dataclass(frozen=True)
class CallbackResult:
    status: int
    location: str | None
    already_installed: bool = False


def _is_html(resp: requests.Response) -> bool:
    ctype = resp.headers.get("Content-Type", "")
    head = resp.text.lstrip()[:20].lower()
    return "text/html" in ctype or head.startswith(("<!doctype", "<html"))


def _message_of(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()[:200] or resp.reason or f"HTTP {resp.status_code}"
    if isinstance(body, dict):
        meta = body.get("meta")
        if isinstance(meta, dict) and meta.get("message"):
            return str(meta["message"])
        errors = body.get("errors")
        if isinstance(errors, dict) and errors.get("message"):
            return str(errors["message"])
        if body.get("message"):
            return str(body["message"])
    return f"HTTP {resp.status_code}"


class YclientsClient:
    def __init__(
        self,
        base_url: str,
        partner_token: str,
        user_token: str | None = None,
        *,
        timeout_s: float = 10.0,
        max_attempts: int = 4,
        limiter: SlidingWindowLimiter | None = None,
        retry_after_cap_s: float = 30.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self._partner = partner_token
        self._user = user_token
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self._limiter = limiter or SlidingWindowLimiter(5, 200)
        self._retry_after_cap = retry_after_cap_s
        self._session = session or requests.Session()
        self._sleep = sleep
        self.requests_sent = 0  # every attempt, for benchmarks
        self._per_thread = threading.local()  # every attempt of this thread, for one sync run's statistics

    def thread_requests(self) -> int:
        return getattr(self._per_thread, "count", 0)

    # --- transport ------------------------------------------------------------------------------------

    def _headers(self, with_user: bool) -> dict[str, str]:
        auth = f"Bearer {self._partner}"
        if with_user and self._user:
            auth += f", User {self._user}"
        return {"Authorization": auth, "Accept": ACCEPT, "Content-Type": "application/json"}

    def _backoff(self, attempt: int, resp: requests.Response | None) -> float:
        if resp is not None and resp.headers.get("Retry-After"):
            try:
                return min(float(resp.headers["Retry-After"]), self._retry_after_cap)
            except ValueError:
                pass
        return min(0.25 * 2 ** (attempt - 1), 8.0) * random.uniform(0.5, 1.5)  # noqa: S311 - jitter

    def request(
        self,
        method: str,
        path: str,
        *,
        with_user: bool = True,
        params: dict[str, Any] | None = None,
        json: Any = None,
        timeout_s: float | None = None,
        max_attempts: int | None = None,
        retry_html: bool = False,
        retry_statuses: frozenset[int] = RETRYABLE_STATUS,
        retry_network: bool = True,
    ) -> requests.Response:
        """Send with retries on 429/5xx/timeouts (and HTML bodies when asked); return the last response.

        Raises YclientsUnavailable when no usable answer came within the attempts.
        """
        url = f"{self.base_url}{path}"
        attempts = max_attempts or self.max_attempts
        last_problem = "no attempt made"
        for attempt in range(1, attempts + 1):
            self._limiter.acquire()
            self.requests_sent += 1
            self._per_thread.count = self.thread_requests() + 1
            started = time.perf_counter()
            resp: requests.Response | None = None
            try:
                resp = self._session.request(
                    method,
                    url,
                    headers=self._headers(with_user),
                    params=params,
                    json=json,
                    timeout=timeout_s or self.timeout_s,
                    allow_redirects=False,
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                last_problem = "timeout" if isinstance(exc, requests.Timeout) else "connection error"
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            if resp is not None:
                # A 2xx HTML page is a proxy or login page, not an answer; a 3xx may carry HTML legitimately.
                html_instead = retry_html and 200 <= resp.status_code < 300 and _is_html(resp)
                retry = resp.status_code in retry_statuses or html_instead
                last_problem = f"HTTP {resp.status_code}" + (" with an HTML page" if html_instead else "")
            else:
                retry = retry_network
            final = not retry or attempt == attempts
            log.log(
                logging.WARNING if retry else logging.INFO,
                "yclients %s %s -> %s",
                method,
                path,
                last_problem if retry else resp.status_code,
                extra={
                    "yclients_path": path,
                    "method": method,
                    "status": resp.status_code if resp is not None else None,
                    "duration_ms": duration_ms,
                    "attempt": attempt,
                    "will_retry": not final,
                },
            )
            if not retry:
                if resp is None:
                    raise YclientsUnavailable(f"YCLIENTS gave no answer ({last_problem}); not retried")
                return resp
            if final:
                break
            self._sleep(self._backoff(attempt, resp))
        raise YclientsUnavailable(
            f"YCLIENTS did not answer usefully after {attempts} attempts ({last_problem})",
            upstream_status=resp.status_code if resp is not None else None,
        )

    @staticmethod
    def unwrap(resp: requests.Response) -> tuple[Any, Any]:
        """The v2 envelope: `success: false` is an error whatever the HTTP status."""
        if resp.status_code == 404:
            raise YclientsNotFound(_message_of(resp), upstream_status=404)
        if resp.status_code >= 400:
            raise YclientsRejected(_message_of(resp), upstream_status=resp.status_code)
        try:
            body = resp.json()
        except ValueError as exc:
            raise YclientsUnavailable(
                "YCLIENTS answered with a body that is not JSON", upstream_status=resp.status_code
            ) from exc
        if isinstance(body, dict) and "success" in body:
            if body["success"] is False:
                raise YclientsRejected(_message_of(resp), upstream_status=resp.status_code)
            return body.get("data"), body.get("meta")
        return body, None

    # --- endpoints ------------------------------------------------------------------------------------

    def get_company(self, salon_id: int) -> YcCompany:
        data, _ = self.unwrap(self.request("GET", f"/api/v1/company/{salon_id}"))
        if not isinstance(data, dict):
            raise YclientsUnavailable("company answer has no data object")
        return YcCompany.model_validate(data)

    def _list(self, method: str, path: str, **kwargs: Any) -> tuple[list[Any], Any]:
        data, meta = self.unwrap(self.request(method, path, **kwargs))
        if not isinstance(data, list):
            raise YclientsUnavailable(f"{path}: expected a list in data")
        return data, meta

    def _object(self, path: str, **kwargs: Any) -> dict[str, Any]:
        data, _ = self.unwrap(self.request("GET", path, **kwargs))
        if not isinstance(data, dict):
            raise YclientsUnavailable(f"{path}: expected an object in data")
        return data

    def get_company_users(self, salon_id: int) -> list[YcUser]:
        """The salon's YCLIENTS accounts (partner + user token; our system user needs the right to see users)."""
        data, _ = self._list("GET", f"/api/v1/company/{salon_id}/users")
        return [YcUser.model_validate(x) for x in data]

    def get_services(self, salon_id: int) -> list[YcService]:
        data, _ = self._list("GET", f"/api/v1/company/{salon_id}/services")
        return [YcService.model_validate(x) for x in data]

    def get_service(self, salon_id: int, service_id: int) -> YcService:
        return YcService.model_validate(self._object(f"/api/v1/company/{salon_id}/services/{service_id}"))

    def get_categories(self, salon_id: int) -> list[YcCategory]:
        data, _ = self._list("GET", f"/api/v1/company/{salon_id}/service_categories")
        return [YcCategory.model_validate(x) for x in data]

    def get_staff(self, salon_id: int) -> list[YcStaff]:
        data, _ = self._list("GET", f"/api/v1/company/{salon_id}/staff")
        return [YcStaff.model_validate(x) for x in data]

    def get_staff_member(self, salon_id: int, staff_id: int) -> YcStaff:
        return YcStaff.model_validate(self._object(f"/api/v1/company/{salon_id}/staff/{staff_id}"))

    def search_clients(self, salon_id: int, page: int, page_size: int = CLIENTS_PAGE) -> tuple[list[YcClient], int]:
        body = {"page": page, "page_size": page_size, "fields": list(CLIENT_FIELDS), "order_by": "id"}
        data, meta = self._list("POST", f"/api/v1/company/{salon_id}/clients/search", json=body)
        total = int((meta or {}).get("total_count", 0)) if isinstance(meta, dict) else 0
        return [YcClient.model_validate(x) for x in data], total

    def get_client(self, salon_id: int, client_id: int) -> YcClient:
        return YcClient.model_validate(self._object(f"/api/v1/client/{salon_id}/{client_id}"))

    def get_schedule(self, salon_id: int, start: dt.date, end: dt.date) -> list[YcScheduleDay]:
        params = {"start_date": start.isoformat(), "end_date": end.isoformat(), "include[]": ["busy_intervals"]}
        data, _ = self._list("GET", f"/api/v1/company/{salon_id}/staff/schedule", params=params)
        return [YcScheduleDay.model_validate(x) for x in data]

    def get_records(
        self, salon_id: int, page: int, count: int = RECORDS_PAGE, **filters: Any
    ) -> tuple[list[YcRecord], int]:
        params = {"page": page, "count": count, **{k: v for k, v in filters.items() if v is not None}}
        data, meta = self._list("GET", f"/api/v1/records/{salon_id}", params=params)
        total = int((meta or {}).get("total_count", 0)) if isinstance(meta, dict) else 0
        return [YcRecord.model_validate(x) for x in data], total

    def get_record(self, salon_id: int, record_id: int) -> YcRecord:
        return YcRecord.model_validate(self._object(f"/api/v1/record/{salon_id}/{record_id}"))

    # --- online booking and record changes (the bot's actions) ---------------------------------------------

    def book_times(self, salon_id: int, staff_id: int, day: dt.date, service_ids: list[int]) -> list[YcSlot]:
        params = {"service_ids[]": service_ids}
        path = f"/api/v1/book_times/{salon_id}/{staff_id}/{day.isoformat()}"
        data, _ = self._list("GET", path, params=params, with_user=False)
        return [YcSlot.model_validate(x) for x in data]

    def book_record(
        self, salon_id: int, *, phone: str, name: str, staff_id: int, service_id: int, at: dt.datetime, api_id: str
    ) -> int:
        """Creates the booking; returns the record id. 422 with code 433 (taken) raises YclientsRejected."""
        body = {
            "phone": phone,
            "fullname": name,
            "email": "",
            "comment": "Записано AI Admin в WhatsApp",
            "api_id": api_id,
            "appointments": [
                {"id": 1, "services": [service_id], "staff_id": staff_id, "datetime": at.strftime("%Y-%m-%d %H:%M:%S")}
            ],
        }
        # Only a 429 is retried (nothing was done); after a timeout or a 5xx a retry could book twice, so the
        # caller looks the booking up by its api_id instead.
        resp = self.request(
            "POST",
            f"/api/v1/book_record/{salon_id}",
            json=body,
            with_user=False,
            retry_statuses=frozenset({429}),
            retry_network=False,
        )
        data, _ = self.unwrap(resp)
        if not isinstance(data, list) or not data or "record_id" not in data[0]:
            raise YclientsUnavailable("book_record answered without a record id")
        return int(data[0]["record_id"])

    def move_record(
        self, salon_id: int, record_id: int, *, staff_id: int, service_id: int, at: dt.datetime
    ) -> YcRecord:
        body = {
            "staff_id": staff_id,
            "services": [{"id": service_id}],
            "datetime": at.strftime("%Y-%m-%d %H:%M:%S"),
            "save_if_busy": False,
            "send_sms": True,
        }
        resp = self.request(
            "PUT",
            f"/api/v1/record/{salon_id}/{record_id}",
            json=body,
            retry_statuses=frozenset({429}),
            retry_network=False,
        )
        data, _ = self.unwrap(resp)
        return YcRecord.model_validate(data)

    def set_attendance(self, visit_id: int, record_id: int, attendance: int) -> None:
        """2 confirmed, 1 came, 0 waiting, -1 no-show (`PUT /visits/{visit_id}/{record_id}`; `comment` is required
        by the API). Setting the same value twice is harmless, so a retry may repeat it."""
        resp = self.request(
            "PUT", f"/api/v1/visits/{visit_id}/{record_id}", json={"attendance": attendance, "comment": ""}
        )
        self.unwrap(resp)

    def delete_record(self, salon_id: int, record_id: int) -> None:
        """Idempotent on our side: a record already gone (404) counts as deleted."""
        resp = self.request("DELETE", f"/api/v1/record/{salon_id}/{record_id}")
        if resp.status_code in (200, 204, 404):
            return
        self.unwrap(resp)

    def marketplace_callback(
        self,
        *,
        salon_id: int,
        application_id: str,
        api_key: str,
        webhook_urls: list[str],
        attempts: int,
        timeout_s: float,
    ) -> CallbackResult:
        """`POST /marketplace/partner/callback/redirect`. 2xx and 3xx (not followed) are success."""
        body = {
            "salon_id": salon_id,
            "application_id": int(application_id) if application_id.isdigit() else application_id,
            "api_key": api_key,
            "webhook_urls": webhook_urls,
        }
        resp = self.request(
            "POST",
            "/marketplace/partner/callback/redirect",
            with_user=False,
            json=body,
            timeout_s=timeout_s,
            max_attempts=attempts,
            retry_html=True,
        )
        if 300 <= resp.status_code < 400:
            return CallbackResult(resp.status_code, resp.headers.get("Location"))
        if resp.status_code == 403 and ALREADY_INSTALLED in _message_of(resp).lower():
            # A retry after an answer we could not read (HTML, timeout) that YCLIENTS had in fact accepted.
            log.warning(
                "YCLIENTS says the app is already installed; taking the install as done",
                extra={"salon_id": salon_id},
            )
            return CallbackResult(resp.status_code, None, already_installed=True)
        if resp.status_code >= 400:
            raise YclientsRejected(_message_of(resp), upstream_status=resp.status_code)
        try:
            parsed = resp.json()
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and parsed.get("success") is False:
            raise YclientsRejected(_message_of(resp), upstream_status=resp.status_code)
        return CallbackResult(resp.status_code, None)

    def connection_status(self, salon_id: int, application_id: str) -> str | None:
        """`GET /marketplace/salon/{id}/application/{app}`: `pending`, `active`, `freezed`…; None: not installed."""
        resp = self.request("GET", f"/marketplace/salon/{salon_id}/application/{application_id}", with_user=False)
        if resp.status_code == 404:
            return None
        data, _ = self.unwrap(resp)
        status = (data or {}).get("connection_status") if isinstance(data, dict) else None
        return str(status.get("status")) if isinstance(status, dict) and status.get("status") else None


def client_from_settings(settings: Settings) -> YclientsClient:
    user = settings.yclients_user_token.get_secret_value() if settings.yclients_user_token else None
    return YclientsClient(
        settings.yclients_api_base,
        settings.require("yclients_partner_token"),
        user or None,
        timeout_s=settings.yclients_timeout_s,
        max_attempts=settings.yclients_max_attempts,
        limiter=SlidingWindowLimiter(settings.yclients_rate_per_second, settings.yclients_rate_per_minute),
        retry_after_cap_s=settings.yclients_retry_after_cap_s,
    )


@lru_cache(maxsize=1)
def get_yclients() -> YclientsClient:
    """One client per process, so the rate limit covers every request the process sends."""
    return client_from_settings(get_settings())
