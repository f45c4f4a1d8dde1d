"""The onboarding API (JWT) and the simulator, through the gateway, with a running session host."""

from __future__ import annotations

import time

import pytest
import requests

from aiadmin.whatsapp.onboarding_view import ONBOARDING_VIEWS
from aiadmin.whatsapp.session_status import SessionState
from tests.conftest import GATEWAY, HOST_PORT, running_session_host, wait_for
from tests.integration.helpers import activate, company, register, token_with

St = SessionState
SID = "company_962302"


@pytest.fixture
def host(stack, db, tmp_path):
    with running_session_host(db, tmp_path, "host-api", qr_ttl_s=20, pairing_ttl_s=160) as host:
        yield host


def api(method: str, path: str, token: str | None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{GATEWAY}{path}", headers=headers, timeout=15, **kwargs)


def test_qr_then_simulated_scan_then_status_connected_then_activation(host, db):
    token = register()
    resp = api("POST", "/marketplace/api/qr", token)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "qr" and body["qr"].startswith("data:image/png;base64,")
    assert body["session_id"] == SID and 0 < body["expires_in"] <= 20

    scan = requests.post(f"{GATEWAY}/simulator/sessions/{SID}/scan", json={"phone": "79161234567"}, timeout=10)
    assert scan.status_code == 200, scan.text
    status = wait_for(
        lambda: (r := api("GET", f"/marketplace/api/status/{SID}", token).json())["connected"] and r, 5, "connected"
    )
    assert status["status"] == "connected" and status["success"] is True
    assert company(db).whatsapp_connected
    assert activate(token).status_code == 200, "activation follows a linked WhatsApp"


def test_pairing_code_for_a_valid_phone_and_400_for_a_bad_one(host, db):
    token = register()
    bad = api("POST", "/marketplace/api/pairing-code", token, json={"phone_number": "12345"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_phone"
    resp = api("POST", "/marketplace/api/pairing-code", token, json={"phone_number": "+7 (916) 123-45-67"})
    assert resp.status_code == 200, resp.text
    code = resp.json()["code"]
    assert len(code) == 9 and code[4] == "-" and resp.json()["expires_in"] > 100
    paired = requests.post(f"{GATEWAY}/simulator/sessions/{SID}/pair", json={"code": code}, timeout=10)
    assert paired.status_code == 200
    wait_for(lambda: company(db).whatsapp_phone == "79161234567", 5, "the company linked")


def test_no_bad_or_foreign_tokens_are_refused(host, db):
    token = register()
    assert api("POST", "/marketplace/api/qr", None).status_code == 401
    assert api("POST", "/marketplace/api/qr", "garbage").status_code == 401
    assert api("GET", f"/marketplace/api/status/{SID}", None).status_code == 401
    assert api("GET", "/marketplace/api/status/company_962303", token).status_code == 403
    other_salon = token_with(salon_id=962303, sub="962303")
    assert api("GET", f"/marketplace/api/status/{SID}", other_salon).status_code == 403


def test_a_connected_salon_is_not_offered_a_second_link(host, db):
    token = register()
    api("POST", "/marketplace/api/qr", token)
    requests.post(f"{GATEWAY}/simulator/sessions/{SID}/scan", json={"phone": "79161234567"}, timeout=10)
    wait_for(lambda: company(db).whatsapp_connected, 5, "connected")
    again = api("POST", "/marketplace/api/qr", token).json()
    assert again["status"] == "connected" and "qr" not in again


def test_the_simulator_refuses_what_the_phone_cannot_do_and_needs_the_secret(host, db):
    register()
    refused = requests.post(f"{GATEWAY}/simulator/sessions/{SID}/scan", json={}, timeout=10)
    assert refused.status_code == 409, "no QR is showing"
    direct = requests.post(f"http://127.0.0.1:{HOST_PORT}/simulator/sessions/{SID}/scan", json={}, timeout=10)
    assert direct.status_code == 401, "the host accepts nothing unauthenticated"


def view(db, view_id: str) -> dict:
    return db.collection(ONBOARDING_VIEWS).document(view_id).get().to_dict() or {}


def test_every_open_page_gets_the_status_including_one_that_joins_late(host, db):
    first = register()
    first_view = api("GET", "/marketplace/api/session", first).json()["view_id"]
    assert api("POST", "/marketplace/api/qr", first).json()["status"] == "qr"
    shown = wait_for(lambda: view(db, first_view).get("qr"), 5, "the first page's QR")
    assert view(db, first_view)["state"] == "qr"

    second = register()  # the owner opens the app from YCLIENTS again: a new registration, a new view
    session = api("GET", "/marketplace/api/session", second).json()
    assert session["view_id"] != first_view and session["salon"]["title"] == company(db).title
    assert db.collection(ONBOARDING_VIEWS).document(session["view_id"]).get().exists, "the rules let the page listen"
    wait_for(lambda: view(db, session["view_id"]).get("qr") == shown, 5, "the late page follows without asking")
    assert api("POST", "/marketplace/api/qr", second).json()["status"] == "qr"  # the QR already showing

    requests.post(f"{GATEWAY}/simulator/sessions/{SID}/scan", json={"phone": "79161234567"}, timeout=10)
    for view_id in (first_view, session["view_id"]):
        wait_for(lambda v=view_id: view(db, v).get("state") == "connected", 5, "both pages see connected")
        assert view(db, view_id)["phone_masked"] != "79161234567", "the phone is masked"
        assert "views" not in view(db, view_id) and "session_id" not in view(db, view_id), "only the projection"


def test_the_session_api_refuses_what_the_page_must_not_trust(host, db):
    assert api("GET", "/marketplace/api/session", None).status_code == 401
    assert api("GET", "/marketplace/api/session", token_with(secret="x" * 40)).status_code == 401
    now = int(time.time())
    long_lived = api("GET", "/marketplace/api/session", token_with(iat=now, exp=now + 30 * 86400))
    assert long_lived.status_code == 401, "a token's lifetime counts, not only its exp (as /activate checks)"
    expired = api("GET", "/marketplace/api/session", token_with(iat=1, exp=2))
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "registration_expired"
    unknown = api("GET", "/marketplace/api/session", token_with(salon_id=999, sub="999"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "salon_not_registered"


# --- a relink never destroys a link that may come back ------------------------------------------------------


def _linked_and_active(token: str) -> None:
    assert api("POST", "/marketplace/api/qr", token).json()["status"] == "qr"
    requests.post(f"{GATEWAY}/simulator/sessions/{SID}/scan", json={"phone": "79161234567"}, timeout=10)
    wait_for(lambda: api("GET", f"/marketplace/api/status/{SID}", token).json()["connected"], 5, "connected")
    assert activate(token).status_code == 200


def _state(token: str) -> str:
    return api("GET", f"/marketplace/api/status/{SID}", token).json()["status"]


def _simulator() -> dict:
    return requests.get(f"{GATEWAY}/simulator/sessions/{SID}", timeout=10).json()


def test_a_relink_during_a_reconnect_is_refused_and_the_stored_link_comes_back(stack, db, tmp_path):
    with running_session_host(db, tmp_path, "host-blip", host_opts={"reconnect_delays": (3.0,)}):
        token = register()
        _linked_and_active(token)
        requests.post(f"{GATEWAY}/simulator/sessions/{SID}/drop", timeout=10)  # a network blip
        wait_for(lambda: _state(token) == "reconnecting", 5, "reconnecting")
        for path, body in (
            ("/marketplace/api/qr", {}),
            ("/marketplace/api/pairing-code", {"phone_number": "79160000000", "confirm_relink": True}),
        ):
            refused = api("POST", path, token, json=body)
            assert refused.status_code == 409 and refused.json()["error"]["code"] == "reconnecting", refused.text
        assert _simulator()["linked_phone"] == "79161234567", "the stored credentials are kept"
        wait_for(lambda: _state(token) == "connected", 10, "the link back by itself")


def test_a_relink_during_a_temporary_ban_is_refused_with_its_end_and_the_link_resumes(stack, db, tmp_path):
    with running_session_host(db, tmp_path, "host-ban"):
        token = register()
        _linked_and_active(token)
        ban = {"kind": "temporary_ban", "expire_s": 2}
        requests.post(f"{GATEWAY}/simulator/sessions/{SID}/event", json=ban, timeout=10).raise_for_status()
        wait_for(lambda: _state(token) == "temporarily_banned", 5, "banned")
        refused = api("POST", "/marketplace/api/qr", token, json={"confirm_relink": True})
        error = refused.json()["error"]
        assert refused.status_code == 409 and error["code"] == "temporarily_banned" and error["details"]["until"]
        assert _simulator()["linked_phone"] == "79161234567", "the stored credentials are kept"
        wait_for(lambda: _state(token) == "connected", 10, "the link back when the ban ends")


def test_an_active_salons_link_is_replaced_only_on_the_owners_word_and_only_once_the_new_one_works(stack, db, tmp_path):
    opts = {"host_opts": {"reconnect_delays": ()}, "qr_ttl_s": 1.0, "qr_rotations": 1}
    with running_session_host(db, tmp_path, "host-relink", **opts):
        token = register()
        _linked_and_active(token)
        requests.post(f"{GATEWAY}/simulator/sessions/{SID}/drop", timeout=10)  # no retries configured: failed
        wait_for(lambda: _state(token) == "failed", 5, "failed")

        asked = api("POST", "/marketplace/api/qr", token)
        assert asked.status_code == 409 and asked.json()["error"]["code"] == "relink_needs_confirmation"
        confirmed = api("POST", "/marketplace/api/qr", token, json={"confirm_relink": True})
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "qr", confirmed.text
        assert _simulator()["linked_phone"] == "79161234567", "nothing is deleted before the new link works"

        # Nobody scans: the QR expires and the stored link is resumed instead of being lost.
        wait_for(lambda: _state(token) == "connected", 10, "the old link resumed")
        assert company(db).whatsapp_phone == "79161234567"

        requests.post(f"{GATEWAY}/simulator/sessions/{SID}/drop", timeout=10)
        wait_for(lambda: _state(token) == "failed", 5, "failed again")
        assert api("POST", "/marketplace/api/qr", token, json={"confirm_relink": True}).json()["status"] == "qr"
        requests.post(f"{GATEWAY}/simulator/sessions/{SID}/scan", json={"phone": "79169999999"}, timeout=10)
        wait_for(lambda: _state(token) == "connected", 5, "the new link")
        assert _simulator()["linked_phone"] == "79169999999", "replaced once the new link connected"


def test_a_salon_whose_phone_removed_us_relinks_without_being_asked(host, db):
    token = register()
    _linked_and_active(token)
    requests.post(f"{GATEWAY}/simulator/sessions/{SID}/logout", timeout=10)
    wait_for(lambda: _state(token) == "logged_out", 5, "logged out")
    assert api("POST", "/marketplace/api/qr", token).json()["status"] == "qr"
