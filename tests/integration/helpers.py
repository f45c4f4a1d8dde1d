"""Small helpers the integration tests share: signed links, tokens, Firestore reads."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import requests

from aiadmin.core import repositories
from aiadmin.core.models import Company
from aiadmin.marketplace import registration_token
from aiadmin.marketplace.user_data_signature import encode_user_data
from devstack import yclients_demo_data as demo
from tests.conftest import GATEWAY, JWT_SECRET, PARTNER_TOKEN

OWNER = {
    "id": 1234567,
    "name": "Анна Иванова",
    "phone": "79001234567",
    "email": "anna@example.com",
    "is_approved": True,
    "salon_name": "Салон красоты «Лилия»",
}


def redirect_params(salon_id: int = 962302, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """What YCLIENTS sends: the user data it signs names the salon the link is for."""
    user = user or {**OWNER, "salon_name": demo.company(salon_id)["title"]}
    user_data, sign = encode_user_data(user, PARTNER_TOKEN)
    return {"salon_id": salon_id, "user_data": user_data, "user_data_sign": sign}


def follow_registration(params: Any) -> requests.Response:
    return requests.get(f"{GATEWAY}/auth/yclients/redirect", params=params, allow_redirects=False, timeout=30)


def owner_token(salon_id: int = 962302) -> str:
    """The owner opens the app from YCLIENTS once the salon works: the link leads to the owner page with a token."""
    location = urlparse(follow_registration(redirect_params(salon_id)).headers["Location"])
    assert location.path == "/marketplace/owner", location
    return parse_qs(location.query)["token"][0]


def owner_api(method: str, path: str, token: str, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, f"{GATEWAY}/marketplace/owner/api/{path}", headers=headers, timeout=15, **kw)


def register(salon_id: int = 962302) -> str:
    resp = follow_registration(redirect_params(salon_id))
    assert resp.status_code == 302, resp.text
    return parse_qs(urlparse(resp.headers["Location"]).query)["token"][0]


def company(db: Any, salon_id: int = 962302) -> Company | None:
    return repositories.get_company(db, salon_id)


def event_types(db: Any, salon_id: int = 962302) -> list[str]:
    return [e.type for e in repositories.list_events(db, salon_id)]


def connect_whatsapp(db: Any, salon_id: int = 962302) -> None:
    """What the session host writes when the salon's WhatsApp links."""
    repositories.company_ref(db, salon_id).update({"whatsapp_connected": True, "whatsapp_phone": "79001112233"})


def activate(token: str) -> requests.Response:
    return requests.post(f"{GATEWAY}/marketplace/activate", json={"token": token}, timeout=30)


def token_with(secret: str = JWT_SECRET, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "962302",
        "salon_id": 962302,
        "type": registration_token.TOKEN_TYPE,
        "jti": "j1",
        "iat": now,
        "exp": now + 3600,
        "branches": [962302],
    }
    claims.update(overrides)
    return jwt.encode(claims, secret, algorithm="HS256")


def collection_size(db: Any, name: str) -> int:
    return len(list(db.collection(name).stream()))
