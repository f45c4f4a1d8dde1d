"""web/firestore.rules in the emulator, asked the way a browser asks (the Firestore REST API without the admin
bypass): a page reads its own live view and nothing else, lists nothing and writes nothing."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest
import requests

from aiadmin.core.models import utcnow
from aiadmin.whatsapp.onboarding_view import ONBOARDING_VIEWS
from tests.conftest import GATEWAY, PROJECT, TEST_ENV
from tests.integration.helpers import register

DOCS = f"http://{TEST_ENV['FIRESTORE_EMULATOR_HOST']}/v1/projects/{PROJECT}/databases/(default)/documents"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def firebase_user(uid: str, **claims: object) -> dict[str, str]:
    """A signed-in Firebase user as the emulator sees one (it does not check signatures)."""
    now = int(time.time())
    payload = {
        "iss": f"https://securetoken.google.com/{PROJECT}",
        "aud": PROJECT,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "sub": uid,
        "user_id": uid,
        "firebase": {"sign_in_provider": "custom", "identities": {}},
        **claims,
    }
    return {"Authorization": "Bearer " + _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(payload) + "."}


def browser_get(path: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(f"{DOCS}/{path}", headers=headers or {}, timeout=10)


def own_view(salon_id: int = 962302) -> str:
    token = register(salon_id)
    resp = requests.get(f"{GATEWAY}/marketplace/api/session", headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert resp.status_code == 200, resp.text
    return resp.json()["view_id"]


@pytest.fixture
def view_id(stack):
    return own_view()


def test_the_page_reads_its_own_live_view(view_id):
    resp = browser_get(f"{ONBOARDING_VIEWS}/{view_id}")
    assert resp.status_code == 200, resp.text
    assert "expires_at" in resp.json()["fields"]


def test_no_credentials_no_private_documents(view_id, db):
    # The session status and the company are behind guessable ids: browsers never read them, signed in or not.
    for path in ("wa_sessions/company_962302", "companies/962302", "wa_commands/x", "webhook_receipts/x"):
        assert browser_get(path).status_code == 403, path
        assert browser_get(path, firebase_user("962302", salon_id=962302)).status_code == 403, path


def test_another_salons_view_is_not_reachable_from_mine(view_id, db):
    other = own_view(962303)
    assert other != view_id
    assert browser_get(f"{ONBOARDING_VIEWS}/{view_id}").status_code == 200
    # Knowing one's own view id gives nothing about another salon: its id is an HMAC only the server computes,
    # and an id that does not exist is denied like a foreign one (no probing for existence).
    near = view_id[:-1] + ("1" if view_id.endswith("0") else "0")  # one hex digit off, never the id itself
    assert browser_get(f"{ONBOARDING_VIEWS}/{near}").status_code == 403
    assert browser_get(f"{ONBOARDING_VIEWS}/company_962303").status_code == 403


def test_an_expired_view_is_denied(view_id, db):
    db.collection(ONBOARDING_VIEWS).document(view_id).update({"expires_at": utcnow() - timedelta(seconds=1)})
    assert browser_get(f"{ONBOARDING_VIEWS}/{view_id}").status_code == 403


def test_every_write_is_denied(view_id, db):
    fields = {"fields": {"state": {"stringValue": "connected"}}}
    for headers in ({}, firebase_user("962302", salon_id=962302)):
        patch = requests.patch(f"{DOCS}/{ONBOARDING_VIEWS}/{view_id}", json=fields, headers=headers, timeout=10)
        assert patch.status_code == 403, patch.text
        create = requests.post(f"{DOCS}/{ONBOARDING_VIEWS}", json=fields, headers=headers, timeout=10)
        assert create.status_code == 403, create.text
        delete = requests.delete(f"{DOCS}/{ONBOARDING_VIEWS}/{view_id}", headers=headers, timeout=10)
        assert delete.status_code == 403, delete.text
        company = requests.patch(f"{DOCS}/companies/962302", json=fields, headers=headers, timeout=10)
        assert company.status_code == 403, company.text
    assert "state" not in db.collection(ONBOARDING_VIEWS).document(view_id).get().to_dict(), "nothing was written"


def test_listing_and_queries_are_denied(view_id):
    assert browser_get(ONBOARDING_VIEWS).status_code == 403
    query = {"structuredQuery": {"from": [{"collectionId": ONBOARDING_VIEWS}], "limit": 5}}
    resp = requests.post(f"{DOCS}:runQuery", json=query, timeout=10)
    assert resp.status_code == 403, resp.text
