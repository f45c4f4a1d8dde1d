"""Who may call a private endpoint (task and scheduler handlers, the session host's API). Checked in the app, not
only by the platform, so one stray `allUsers` grant opens nothing:

- deployed (`ENV` dev or prod): a Google-signed OIDC token (signature against Google's certificates, issuer,
  expiry) of our invoker service account (not marked unverified), for one of our own URLs (the audience);
- locally (`ENV=local`): the shared secret the local dispatcher sends, since nothing signs tokens here."""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from google.auth import exceptions as gauth_exc
from google.auth import jwt as google_jwt

from aiadmin.core.errors import ConfigurationError, Forbidden, ServiceUnavailable, Unauthorized
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TASK_SECRET_HEADER

log = logging.getLogger("aiadmin.caller_auth")

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
CERTS_TTL_S = 3600.0
_certs: dict[str, Any] = {"url": None, "at": 0.0, "certs": None}
_certs_lock = threading.Lock()


def _google_certs(url: str, attempts: int = 3) -> Mapping[str, str]:
    """Google's token-signing certificates, cached for an hour (they rotate over days)."""
    with _certs_lock:
        if _certs["url"] == url and _certs["certs"] and time.monotonic() - _certs["at"] < CERTS_TTL_S:
            return _certs["certs"]
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                resp = requests.get(url, timeout=5)
                resp.raise_for_status()
                certs = resp.json()
                _certs.update(url=url, at=time.monotonic(), certs=certs)
                log.info("oidc certificates fetched", extra={"ms": round((time.monotonic() - started) * 1000)})
                return certs
            except (requests.RequestException, ValueError) as exc:
                log.warning("oidc certificates fetch failed", extra={"attempt": attempt, "error": str(exc)[:200]})
                if attempt < attempts:
                    time.sleep(0.2 * 2**attempt)
        raise ServiceUnavailable("cannot check the caller now (certificates unavailable)", code="auth_unavailable")


def verify_caller(headers: Mapping[str, str], settings: Settings, audience_prefix: str | None) -> dict[str, Any]:
    """Return the caller's verified claims (empty locally); raise 401/403 (503 when certificates cannot be had)."""
    if settings.env == "local":
        secret = settings.task_shared_secret.get_secret_value() if settings.task_shared_secret else ""
        if not secret:
            raise ConfigurationError("TASK_SHARED_SECRET must be set when ENV=local")
        given = headers.get(TASK_SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise Unauthorized("task caller not authenticated", code="task_unauthenticated")
        return {}
    if not audience_prefix:  # a token for any of Google's services would do: never accept that
        raise ConfigurationError("the service's own URL (the tokens' audience) is not configured")
    scheme, _, token = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("an OIDC token of our invoker account is required", code="task_unauthenticated")
    certs = _google_certs(settings.oidc_certs_url)
    try:
        claims = google_jwt.decode(token.strip(), certs=certs, verify=True, clock_skew_in_seconds=10)
    except (ValueError, gauth_exc.GoogleAuthError) as exc:
        raise Unauthorized(f"the OIDC token does not verify: {str(exc)[:120]}", code="task_unauthenticated") from exc
    invoker = settings.require("tasks_service_account")
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise Unauthorized("the OIDC token was not issued by Google", code="task_unauthenticated")
    # Google's service-account tokens carry email_verified=true; one that says false is refused, one that omits it
    # is still Google-signed for that e-mail (refusing it could stop every task in production).
    if claims.get("email") != invoker or claims.get("email_verified") is False:
        raise Forbidden("the caller is not our invoker account", code="task_forbidden")
    audience = str(claims.get("aud") or "")
    if not (audience == audience_prefix or audience.startswith(audience_prefix.rstrip("/") + "/")):
        raise Forbidden("the OIDC token is for another service", code="task_forbidden")
    return claims
