"""YCLIENTS `user_data_sign`: hex HMAC-SHA256 keyed by the partner token over the DECODED `user_data`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from aiadmin.core.errors import Forbidden


def decode_user_data(user_data: str) -> bytes:
    """Tolerant base64: URL-safe or standard alphabet, padding optional, '+' possibly turned into ' '."""
    s = user_data.strip().replace(" ", "+").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Forbidden("user_data is not valid base64", code="bad_signature") from exc


def sign(raw: bytes, partner_token: str) -> str:
    return hmac.new(partner_token.encode(), raw, hashlib.sha256).hexdigest()


def verify_user_data(user_data: str, user_data_sign: str, partner_token: str) -> dict[str, Any]:
    raw = decode_user_data(user_data)
    if not hmac.compare_digest(sign(raw, partner_token).encode(), user_data_sign.strip().lower().encode()):
        raise Forbidden("user_data_sign does not match", code="bad_signature")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise Forbidden("user_data is not JSON", code="bad_signature") from exc
    if not isinstance(data, dict):
        raise Forbidden("user_data is not a JSON object", code="bad_signature")
    data.setdefault("id", data.get("user_id"))
    return data


def encode_user_data(payload: dict[str, Any], partner_token: str) -> tuple[str, str]:
    """What YCLIENTS does: compact UTF-8 JSON, base64url with padding, HMAC over the raw JSON."""
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode(), sign(raw, partner_token)
