"""Owner access only for the salon's own people: a signed link of another YCLIENTS user, a salon renamed to the
victim's title, a reordered branch list or a replayed redirect opens no customer's chat, moves no notice and
relinks nothing without the owner's code; the code reaches the owner through the salon's WhatsApp, and five wrong
codes lock that link for a while."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from aiadmin.core import repositories
from aiadmin.marketplace import owner_page, registration_token
from aiadmin.marketplace.user_data_signature import encode_user_data
from devstack import yclients_demo_data as demo
from tests.conftest import GATEWAY, JWT_SECRET, PARTNER_TOKEN, wait_for
from tests.integration.conftest import CUSTOMER, NOTICES_TO, SALON, SID
from tests.integration.helpers import OWNER, follow_registration, redirect_params

ATTACKER_SALON = 962304  # a salon of the attacker's own, in no network of «Лилия»
ADMIN = {**demo.ADMIN_USER, "is_approved": True}  # a real account of the salon, not the installer


def api(method: str, path: str, token: str, **kw) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, f"{GATEWAY}/marketplace/owner/api/{path}", headers=headers, timeout=15, **kw)


def token_of(resp: requests.Response) -> str:
    assert resp.status_code == 302, resp.text
    return parse_qs(urlparse(resp.headers["Location"]).query)["token"][0]


def signed_for(user: dict, salon_ids: list[int], salon_name: str) -> list[tuple[str, object]]:
    user_data, sign = encode_user_data({**user, "salon_name": salon_name}, PARTNER_TOKEN)
    ids = (
        [("salon_id", salon_ids[0])]
        if len(salon_ids) == 1
        else [(f"salon_ids[{i}]", s) for i, s in enumerate(salon_ids)]
    )
    return [*ids, ("user_data", user_data), ("user_data_sign", sign)]


def latest_code(bot, to: str) -> str:
    texts = wait_for(lambda: [t for t in bot.replies(to=to) if "Код" in t], 10, f"a code sent to {to}")
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


def company_bytes(db, salon_id: int = SALON) -> tuple:
    snap = repositories.company_ref(db, salon_id).get()
    return snap.to_dict(), snap.update_time


@pytest.fixture
def attacker_salon(stack):
    """The attacker's own salon exists in YCLIENTS, and its admin renamed it to the victim's public title."""
    stack.standin_config.known_salons.add(ATTACKER_SALON)
    stack.standin_state.salon(ATTACKER_SALON).company["title"] = demo.company(SALON)["title"]
    yield stack.standin_state.salon(ATTACKER_SALON).users[0]
    stack.standin_config.known_salons.discard(ATTACKER_SALON)


def test_a_renamed_salon_gets_no_token_where_yclients_shows_the_salons_accounts(bot, db, attacker_salon):
    before = company_bytes(db)
    resp = follow_registration(signed_for(attacker_salon, [SALON], demo.company(SALON)["title"]))
    assert resp.status_code == 403 and "salon_not_vouched" in resp.text
    assert company_bytes(db) == before


def test_a_renamed_salon_reads_nothing_without_the_owners_code_where_accounts_are_hidden(bot, db, attacker_salon):
    """YCLIENTS may refuse us the salon's accounts: then the title is all that binds the link, and the owner's
    code is what stands between the link and the salon's customers."""
    bot.say("Сколько стоит мужская стрижка?")
    bot.stack.fault(f"/company/{SALON}/users", "403")
    token = token_of(follow_registration(signed_for(attacker_salon, [SALON], demo.company(SALON)["title"])))
    before = company_bytes(db)
    refused = api("GET", "page", token)
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "owner_code_required" and error["details"]["can_send"] is True
    assert error["details"]["to"] == "790*****567", "the code goes to the installer's number, shown masked"
    for method, path, body in (
        ("GET", f"conversations/{CUSTOMER}", None),
        ("POST", f"conversations/{CUSTOMER}/takeover", None),
        ("POST", f"conversations/{CUSTOMER}/reply", {"text": "Оплатите по ссылке", "id": "phish-0001"}),
        ("PUT", "settings", {"bot_enabled": False, "phone": "79990001122"}),
        ("POST", "phone-code", {"phone": "79990001122"}),
    ):
        resp = api(method, path, token, json=body)
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "owner_code_required", (path, resp.text)
    assert company_bytes(db) == before, "nothing of the salon changed"
    assert not [t for t in bot.replies() if "Оплатите" in t]
    # Whoever holds the owner's phone gets the code and, with it, the page.
    sent = api("POST", "access-code", token)
    assert sent.status_code == 200 and sent.json()["to"] == "790*****567", sent.text
    code = latest_code(bot, NOTICES_TO)
    assert "AI Admin" in bot.replies(to=NOTICES_TO)[-1] and "Никому не сообщайте" not in code
    assert api("POST", "access-code/verify", token, json={"code": code}).status_code == 200
    opened = api("GET", "page", token)
    assert opened.status_code == 200 and opened.json()["salon"]["id"] == SALON


def test_the_installers_own_link_opens_the_page_and_a_colleagues_needs_the_code(bot, db):
    installer = token_of(follow_registration(redirect_params(SALON)))
    assert api("GET", "page", installer).status_code == 200, "the user who activated the salon"
    colleague = token_of(follow_registration(signed_for(ADMIN, [SALON], demo.company(SALON)["title"])))
    assert api("GET", "page", colleague).json()["error"]["code"] == "owner_code_required"


def test_five_wrong_codes_lock_the_link_even_for_the_right_code(bot, db):
    token = token_of(follow_registration(signed_for(ADMIN, [SALON], demo.company(SALON)["title"])))
    assert api("POST", "access-code", token).status_code == 200
    code = latest_code(bot, NOTICES_TO)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    answers = [api("POST", "access-code/verify", token, json={"code": wrong}) for _ in range(5)]
    assert [a.status_code for a in answers] == [403, 403, 403, 403, 429]
    assert [a.json()["error"]["details"].get("tries_left") for a in answers[:4]] == [4, 3, 2, 1]
    locked = api("POST", "access-code/verify", token, json={"code": code})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "code_locked"
    assert int(locked.headers["Retry-After"]) > 600
    assert api("POST", "access-code", token).status_code == 429, "no new code while locked"
    assert api("GET", "page", token).status_code == 403


def test_the_token_is_for_the_signed_salon_wherever_it_stands_in_the_branch_list(stack):
    title = demo.company(SALON)["title"]
    token = token_of(follow_registration(signed_for(OWNER, [962303, SALON], title)))
    claims = registration_token.verify(JWT_SECRET, token, 3600)
    assert claims.salon_id == SALON and claims.branches == [SALON, 962303]
    # A foreign branch stops the link at once: the branch after it is never asked for.
    stack.standin_config.known_salons.add(ATTACKER_SALON)
    try:
        calls_before = len(stack.calls("/api/v1/company/"))
        refused = follow_registration(signed_for(OWNER, [SALON, ATTACKER_SALON, 962303], title))
        assert refused.status_code == 403
        asked = [c["path"] for c in stack.calls("/api/v1/company/")][calls_before:]
        assert asked == [f"/api/v1/company/{SALON}", f"/api/v1/company/{ATTACKER_SALON}"], asked
    finally:
        stack.standin_config.known_salons.discard(ATTACKER_SALON)


def test_a_redirect_by_another_user_leaves_the_owners_number_where_it_was(bot, db):
    assert repositories.get_company(db, SALON).owner_phone() == NOTICES_TO
    other = {**ADMIN}
    token_of(follow_registration(signed_for(other, [SALON], demo.company(SALON)["title"])))
    company = repositories.get_company(db, SALON)
    assert company.owner_phone() == NOTICES_TO and company.installer.user_id == str(OWNER["id"])
    bot.say("Позовите администратора")
    told = wait_for(lambda: [t for t in bot.replies(to=NOTICES_TO) if "администратора" in t], 10, "the handoff")
    assert told and not bot.replies(to=demo.ADMIN_USER["phone"])


def test_a_new_owner_number_needs_the_code_sent_to_it_and_the_old_number_is_told(bot, db):
    token = token_of(follow_registration(redirect_params(SALON)))
    new = "79165554433"
    before = company_bytes(db)
    refused = api("PUT", "settings", token, json={"phone": "+7 916 555-44-33"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "phone_code_required"
    assert company_bytes(db)[0] == before[0]
    assert api("POST", "phone-code", token, json={"phone": "8 916 555-44-33"}).status_code == 200
    code = latest_code(bot, new)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert api("PUT", "settings", token, json={"phone": new, "phone_code": wrong}).status_code == 403
    assert repositories.get_company(db, SALON).owner_phone() == NOTICES_TO
    saved = api("PUT", "settings", token, json={"phone": new, "phone_code": code})
    assert saved.status_code == 200, saved.text
    assert repositories.get_company(db, SALON).owner_phone() == new
    told = wait_for(lambda: [t for t in bot.replies(to=NOTICES_TO) if "теперь приходят" in t], 10, "the old number")
    assert "+791*****433" in told[0]


def test_an_active_salon_is_relinked_to_another_phone_only_by_its_owner(bot, db):
    requests.post(f"{GATEWAY}/simulator/sessions/{SID}/logout", timeout=10)
    wait_for(lambda: not repositories.get_company(db, SALON).whatsapp_connected, 10, "logged out")
    salon_phone = repositories.get_company(db, SALON).whatsapp_phone
    colleague = token_of(follow_registration(signed_for(ADMIN, [SALON], demo.company(SALON)["title"])))
    headers = {"Authorization": f"Bearer {colleague}"}
    qr = requests.post(f"{GATEWAY}/marketplace/api/qr", headers=headers, json={}, timeout=15)
    assert qr.status_code == 403 and qr.json()["error"]["code"] == "owner_code_required", qr.text
    assert qr.json()["error"]["details"]["can_send"] is False, "no WhatsApp to carry a code"
    other = {"phone_number": "79990001122"}
    assert (
        requests.post(f"{GATEWAY}/marketplace/api/pairing-code", headers=headers, json=other, timeout=15).status_code
        == 403
    )
    same = {"phone_number": salon_phone}
    resp = requests.post(f"{GATEWAY}/marketplace/api/pairing-code", headers=headers, json=same, timeout=15)
    assert resp.status_code == 200, "a pairing code for the salon's own number works only on that phone"
    owner_token = token_of(follow_registration(redirect_params(SALON)))
    owned = requests.post(
        f"{GATEWAY}/marketplace/api/qr", headers={"Authorization": f"Bearer {owner_token}"}, json={}, timeout=15
    )
    assert owned.status_code == 200, owned.text


def test_thirty_forged_webhook_urls_leave_the_salon_byte_identical(bot, db):
    before = company_bytes(db)
    body = {"company_id": SALON, "resource": "record", "resource_id": 1, "status": "update", "data": {}}
    for i in range(30):
        resp = requests.post(f"{GATEWAY}/webhook/yclients/{SALON}/forged{i:04d}", json=body, timeout=10)
        assert resp.status_code == 404
    assert company_bytes(db) == before


def test_the_201st_reply_from_the_page_in_a_day_is_refused_with_a_clear_429(bot, db):
    token = token_of(follow_registration(redirect_params(SALON)))
    bot.say("Сколько стоит мужская стрижка?")
    company = repositories.get_company(db, SALON)
    ids = [f"earlier-{i:04d}" for i in range(199)]  # 199 replies sent earlier today
    day = db.collection(owner_page.OWNER_REPLIES).document(f"{SALON}_{company.today().isoformat()}")
    day.set({"salon_id": SALON, "ids": ids})
    body = {"text": "Добрый день! Ждём вас.", "id": "reply-0200"}
    assert api("POST", f"conversations/{CUSTOMER}/reply", token, json=body).status_code == 200
    assert api("POST", f"conversations/{CUSTOMER}/reply", token, json=body).status_code == 200, "the same reply"
    over = api("POST", f"conversations/{CUSTOMER}/reply", token, json={"text": "Ещё", "id": "reply-0201"})
    assert over.status_code == 429 and over.json()["error"]["code"] == "daily_reply_cap", over.text
    assert "200" in over.json()["error"]["message"] and int(over.headers["Retry-After"]) >= 60
    wait_for(lambda: "Добрый день! Ждём вас." in bot.replies(), 10, "the 200th reply")
    bot.stack.dispatcher.wait_idle()
    assert "Ещё" not in bot.replies()


def onboarding(method: str, path: str, token: str, **kw) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, f"{GATEWAY}/marketplace/api/{path}", headers=headers, timeout=15, **kw)


def test_while_the_owner_relinks_by_qr_a_colleagues_link_never_sees_the_qr(bot, db):
    requests.post(f"{GATEWAY}/simulator/sessions/{SID}/logout", timeout=10)
    wait_for(lambda: not repositories.get_company(db, SALON).whatsapp_connected, 10, "logged out")
    colleague = token_of(follow_registration(signed_for(ADMIN, [SALON], demo.company(SALON)["title"])))
    seen = onboarding("GET", "session", colleague)
    assert seen.status_code == 200
    colleague_view = seen.json()["view_id"]
    owner = token_of(follow_registration(redirect_params(SALON)))
    assert onboarding("POST", "qr", owner, json={}).status_code == 200
    wait_for(lambda: onboarding("GET", f"status/{SID}", owner).json().get("qr"), 10, "the owner's QR")
    for path in ("session", f"status/{SID}"):
        body = onboarding("GET", path, colleague).json()
        session = body.get("session", body)
        assert session["status"] == "qr" and "qr" not in session, (path, session)
    view = db.collection("onboarding_views").document(colleague_view).get().to_dict() or {}
    assert not view.get("qr"), "the host feeds no QR into a colleague's view"


def test_a_signed_link_without_a_user_is_refused_whatever_the_query_adds(stack, db):
    title = demo.company(SALON)["title"]
    user_data, sign = encode_user_data({"name": "Без id", "salon_name": title}, PARTNER_TOKEN)
    params = {"salon_id": SALON, "user_data": user_data, "user_data_sign": sign, "user_id": str(OWNER["id"])}
    resp = follow_registration(params)
    assert resp.status_code == 403 and "bad_signature" in resp.text
    assert repositories.get_company(db, SALON) is None


def test_an_account_that_does_not_manage_the_salon_gets_no_token(stack, db):
    master = {"id": 3456789, "name": "Мастер Ирина", "phone": "79003456789", "is_approved": True}
    stack.standin_state.salon(SALON).users.append({**master, "user_role_slug": "worker"})
    resp = follow_registration(signed_for(master, [SALON], demo.company(SALON)["title"]))
    assert resp.status_code == 403 and "salon_not_vouched" in resp.text


def test_twenty_wrong_codes_in_a_day_close_the_salons_codes_for_every_link(bot, db):
    from aiadmin.core import rate_limit

    for _ in range(20):  # twenty wrong codes over the day, through any number of links
        rate_limit.hit(db, f"owner-code-wrong:{SALON}", 20, 86400)
    token = token_of(follow_registration(signed_for(ADMIN, [SALON], demo.company(SALON)["title"])))
    assert api("POST", "access-code", token).status_code == 200
    code = latest_code(bot, NOTICES_TO)
    closed = api("POST", "access-code/verify", token, json={"code": code})
    assert closed.status_code == 429 and closed.json()["error"]["code"] == "code_locked", "not even the right one"
