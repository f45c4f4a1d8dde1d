"""Per-salon data-webhook URLs carry a token derived from a server secret, so only YCLIENTS knows them."""

from __future__ import annotations

import hashlib
import hmac

from aiadmin.core.errors import Unauthorized


def token_for(secret: str, salon_id: int) -> str:
    return hmac.new(secret.encode(), f"yclients-data-webhook:{salon_id}".encode(), hashlib.sha256).hexdigest()[:40]


def webhook_url(base_url: str, secret: str, salon_id: int) -> str:
    return f"{base_url}/webhook/yclients/{salon_id}/{token_for(secret, salon_id)}"


def check(secret: str, salon_id: int, token: str) -> None:
    if not hmac.compare_digest(token_for(secret, salon_id).encode(), token.encode()):
        raise Unauthorized("unknown webhook URL", code="bad_webhook_token")
