"""The one YCLIENTS client: rate-limited, retrying with jittered backoff, v2 envelope unwrapped, typed."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import requests

from aiadmin.errors import UpstreamError
from aiadmin.rate_limiter import SlidingWindowLimiter
from aiadmin.settings import Settings, get_settings
from aiadmin.yclients_models import YcCompany

log = logging.getLogger("aiadmin.yclients")

ACCEPT = "application/vnd.yclients.v2+json"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
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
    ) -> requests.Response:
        """Send with retries on 429/5xx/timeouts (and HTML bodies when asked); return the last response.

        Raises YclientsUnavailable when no usable answer came within the attempts.
        """
        url = f"{self.base_url}{path}"
        attempts = max_attempts or self.max_attempts
        last_problem = "no attempt made"
        for attempt in range(1, attempts + 1):
            self._limiter.acquire()
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
                retry = resp.status_code in RETRYABLE_STATUS or html_instead
                last_problem = f"HTTP {resp.status_code}" + (" with an HTML page" if html_instead else "")
            else:
                retry = True
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
