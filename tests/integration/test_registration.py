"""GET /auth/yclients/redirect: YCLIENTS's signed link registers the salon and sends the owner on."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import jwt
import requests

from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.marketplace.registration import registration_of
from tests.conftest import JWT_SECRET
from tests.integration.helpers import (
    collection_size,
    company,
    event_types,
    follow_registration,
    redirect_params,
    register,
)


def test_signed_link_registers_salon_and_redirects_to_onboarding_with_token(stack, db):
    resp = follow_registration(redirect_params())
    assert resp.status_code == 302
    location = urlparse(resp.headers["Location"])
    assert location.path == "/marketplace/onboarding"
    claims = jwt.decode(parse_qs(location.query)["token"][0], JWT_SECRET, algorithms=["HS256"])
    assert claims["salon_id"] == 962302 and claims["type"] == "marketplace_registration"
    assert claims["exp"] - claims["iat"] == 3600 and claims["jti"]

    salon = company(db)
    assert salon.title == "Салон красоты «Лилия»" and salon.timezone == "Europe/Moscow"
    assert salon.integration_status == IntegrationStatus.PENDING_WHATSAPP
    assert claims["uid"] == "1234567", "the token names the YCLIENTS user it was signed for"
    record = registration_of(db, claims["jti"])
    assert record.user.id == "1234567" and record.user.phone == "79001234567" and record.salon_id == 962302
    assert salon.marketplace_user is None and salon.installer is None, "a redirect names nobody as the owner"
    assert event_types(db) == ["registration_started"]
    assert stack.calls("/api/v1/company/962302")[0]["user_ok"], "company is fetched with the user token"


def test_following_the_redirect_shows_the_onboarding_page(stack):
    resp = follow_registration(redirect_params())
    page = requests.get(f"{stack.gateway}{resp.headers['Location']}", timeout=10)
    assert page.status_code == 200 and "WhatsApp" in page.text


def test_forged_signature_is_refused_and_nothing_is_written(stack, db):
    params = redirect_params()
    params["user_data_sign"] = "0" * 64
    resp = follow_registration(params)
    assert resp.status_code == 403
    assert "text/html" in resp.headers["Content-Type"] and "Ссылка не подтверждена" in resp.text
    assert company(db) is None and event_types(db) == []
    assert stack.calls("/api/v1/company") == [], "nothing is fetched for a forged link"


def test_user_data_swapped_under_a_valid_signature_is_refused(stack, db):
    genuine = redirect_params()
    other = redirect_params(user={"id": 1, "name": "Злоумышленник"})
    resp = follow_registration({**genuine, "user_data": other["user_data"]})
    assert resp.status_code == 403
    assert company(db) is None


def test_unsigned_link_is_refused_unless_local_dev_allows_it(stack, db, monkeypatch):
    from aiadmin.core.settings import get_settings

    legacy = {"salon_id": 962302, "user_id": "77", "user_name": "Ольга", "user_phone": "79005554433"}
    resp = follow_registration(legacy)
    assert resp.status_code == 403 and "missing_signature" in resp.text
    assert company(db) is None

    monkeypatch.setattr(get_settings(), "allow_unsigned_redirects", True)
    resp = follow_registration(legacy)
    assert resp.status_code == 302
    jti = jwt.decode(parse_qs(urlparse(resp.headers["Location"]).query)["token"][0], JWT_SECRET, algorithms=["HS256"])
    assert registration_of(db, jti["jti"]).user.name == "Ольга" and registration_of(db, jti["jti"]).signed is False


def test_missing_or_non_numeric_salon_id_is_a_400_page(stack, db):
    params = redirect_params()
    del params["salon_id"]
    assert follow_registration(params).status_code == 400
    assert follow_registration({**params, "salon_id": "12ab"}).status_code == 400
    assert collection_size(db, "companies") == 0


def test_multi_branch_install_registers_every_branch_and_onboards_the_first(stack, db):
    params = redirect_params()
    del params["salon_id"]
    params.update({"salon_ids[0]": 962302, "salon_ids[1]": 962303})
    resp = follow_registration(params)
    assert resp.status_code == 302
    token = parse_qs(urlparse(resp.headers["Location"]).query)["token"][0]
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    assert claims["salon_id"] == 962302 and claims["branches"] == [962302, 962303]
    assert company(db, 962303).registration_group == [962302, 962303]
    assert event_types(db, 962303) == ["registration_started"]


def test_salon_unknown_to_yclients_shows_an_error_and_records_an_event_without_a_company(stack, db):
    resp = follow_registration(redirect_params(salon_id=111))
    assert resp.status_code == 404 and "Салон не найден" in resp.text
    assert company(db, 111) is None
    assert event_types(db, 111) == ["registration_failed"]


def test_yclients_down_shows_an_error_and_writes_no_half_registered_branch(stack, db):
    stack.fault("/api/v1/company/962303", "503", times=10)
    params = redirect_params()
    del params["salon_id"]
    params.update({"salon_ids[0]": 962302, "salon_ids[1]": 962303})
    resp = follow_registration(params)
    assert resp.status_code == 502 and "YCLIENTS не отвечает" in resp.text
    assert company(db, 962302) is None and company(db, 962303) is None
    assert event_types(db, 962303) == ["registration_failed"]
    assert len(stack.calls("/api/v1/company/962303")) == 4, "bounded retries (YCLIENTS_MAX_ATTEMPTS=4)"


def test_a_transient_yclients_failure_is_retried(stack, db):
    stack.fault("/api/v1/company/962302", "502", times=1)
    stack.fault("/api/v1/company/962302", "429", times=1, retry_after=1)
    assert follow_registration(redirect_params()).status_code == 302
    calls = [c for c in stack.calls("/api/v1/company/962302") if c["path"] == "/api/v1/company/962302"]
    assert len(calls) == 3
    assert calls[2]["at"] - calls[1]["at"] >= 0.95, "Retry-After is honoured"


def test_reinstall_of_an_uninstalled_salon_returns_it_to_pending(stack, db):
    register()
    repositories.company_ref(db, 962302).update(
        {"integration_status": "uninstalled", "api_key": "old-key", "whatsapp_connected": False}
    )
    register()
    salon = company(db)
    assert salon.integration_status == IntegrationStatus.PENDING_WHATSAPP
    assert salon.api_key is None
    assert repositories.list_events(db, 962302)[-1].data["status_from"] == "uninstalled"


def test_reregistering_an_active_salon_keeps_it_active(stack, db):
    register()
    repositories.company_ref(db, 962302).update({"integration_status": "active", "api_key": "k"})
    register()
    salon = company(db)
    assert salon.integration_status == IntegrationStatus.ACTIVE and salon.api_key == "k"
    assert event_types(db) == ["registration_started", "registration_started"]


def test_reregistration_keeps_fields_other_services_wrote(stack, db):
    register()
    repositories.company_ref(db, 962302).update({"host_note": "written by the session host"})
    register()
    assert repositories.company_ref(db, 962302).get().get("host_note") == "written by the session host"


# --- a signed link vouches only for its own salon -----------------------------------------------------------


def test_a_genuine_link_replayed_with_another_salons_id_is_refused_and_writes_nothing(stack, db):
    """An attacker installs the app on their own salon (962303), keeps the signed link and swaps in the victim's
    id (962302), which is outside the signature."""
    register()  # the victim is mid-onboarding: its document must not change
    before = repositories.company_ref(db, 962302).get().to_dict()
    stolen = redirect_params(salon_id=962303)
    resp = follow_registration({**stolen, "salon_id": 962302})
    assert resp.status_code == 403 and "Ссылка не подтверждена" in resp.text
    assert repositories.company_ref(db, 962302).get().to_dict() == before, "the victim's salon is untouched"
    assert company(db, 962303) is None
    assert event_types(db) == ["registration_started", "registration_failed"]
    assert repositories.list_events(db, 962302)[-1].data["code"] == "not_vouched"
    assert "Location" not in resp.headers, "no token for the victim's salon"


def test_a_branch_outside_the_signed_salons_network_is_refused(stack, db):
    stack.standin_config.known_salons.add(555001)  # a salon in another network
    try:
        params = redirect_params()
        del params["salon_id"]
        params.update({"salon_ids[0]": 962302, "salon_ids[1]": 555001})
        assert follow_registration(params).status_code == 403
        assert company(db, 962302) is None and company(db, 555001) is None
    finally:
        stack.standin_config.known_salons.discard(555001)


def test_a_signed_link_without_a_salon_name_vouches_for_no_salon(stack, db):
    user = {"id": 1234567, "name": "Анна Иванова", "phone": "79001234567"}
    assert follow_registration(redirect_params(user=user)).status_code == 403
    assert company(db) is None


def test_the_salon_name_may_differ_in_quotes_case_and_spaces(stack, db):
    user = {"id": 1234567, "name": "Анна", "salon_name": '  салон  красоты "Лилия" '}
    assert follow_registration(redirect_params(user=user)).status_code == 302


def test_a_link_with_too_many_branches_is_a_400(stack, db):
    params = redirect_params()
    del params["salon_id"]
    params.update({f"salon_ids[{i}]": 962302 + i for i in range(31)})
    resp = follow_registration(params)
    assert resp.status_code == 400 and stack.calls("/api/v1/company") == []
