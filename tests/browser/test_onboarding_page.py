"""The salon owner's onboarding, clicked through in headless Chromium against the whole local stack."""

from __future__ import annotations

import time

import requests

from aiadmin.core import repositories
from tests.conftest import GATEWAY, JWT_SECRET, running_session_host, wait_for
from tests.integration.helpers import token_with

SID = "company_962302"
TITLE = "Салон красоты «Лилия» (демо)"


def signed_link(stack, salon_id: int = 962302, user_id: int | None = None) -> str:
    """What YCLIENTS opens after the owner (or another account of the salon: `user_id`) clicks "Подключить"."""
    params = {"salon_id": salon_id, **({"user_id": user_id} if user_id else {})}
    resp = requests.get(f"{stack.yclients}/_standin/signed-link", params=params, timeout=10)
    return resp.json()["url"]


def simulator(action: str, **body) -> None:
    resp = requests.post(f"{GATEWAY}/simulator/sessions/{SID}/{action}", json=body, timeout=10)
    assert resp.status_code == 200, resp.text


def installed_key(stack, salon_id: int = 962302) -> str | None:
    with stack.standin_state.lock:
        install = stack.standin_state.installs.get(salon_id)
    return install and install["api_key"]


def text(b, selector: str) -> str:
    return b.page.locator(selector).inner_text()


def test_qr_link_scan_activation_success(desktop, stack, host, db):
    b = desktop
    b.page.goto(signed_link(stack))
    b.screen("link")
    assert text(b, "#salon-name") == stack_title(db)
    assert "token=" not in b.page.url, "the registration token leaves the address bar"
    assert b.page.get_attribute("#tab-qr", "aria-selected") == "true", "QR is the default on a computer"

    first = b.page.wait_for_selector("#qr-img[src^='data:image/png']:not([hidden])").get_attribute("src")
    b.shot("qr")
    b.page.wait_for_function("src => document.getElementById('qr-img').src !== src", arg=first, timeout=10000)
    assert b.page.get_attribute("#app", "data-feed") == "listener", "live status comes from Firestore"
    b.shot("qr-rotated")

    stack.fault("/marketplace/partner/callback", "slow")  # YCLIENTS takes its time: the progress is visible
    simulator("scan", phone="79161234567")
    b.screen("activation")
    assert b.page.get_attribute("#step-activate", "data-step") == "active"
    b.screen("done", timeout_ms=20000)
    assert text(b, "#done-title") == "Готово! Бот активен"
    assert text(b, "#step-activate") and b.page.get_attribute("#step-load", "data-step") == "done"

    company = repositories.get_company(db, 962302)
    assert company.integration_status == "active"
    assert installed_key(stack) == company.api_key, "YCLIENTS got the key we stored"
    assert len(stack.calls("/marketplace/partner/callback")) == 1, "activation is called exactly once"
    assert b.console_errors() == []


def stack_title(db) -> str:
    return repositories.get_company(db, 962302).title


def test_pairing_code_on_a_phone(phone, stack, host, db):
    b = phone
    b.page.goto(signed_link(stack))
    b.screen("link")
    assert b.page.get_attribute("#tab-pairing", "aria-selected") == "true", "a phone cannot scan its own screen"
    assert b.page.is_visible("#phone")

    b.page.fill("#phone", "12345")
    b.page.click("#phone-submit")
    b.page.wait_for_selector("#phone-hint:not([hidden])")
    assert "с кодом страны" in text(b, "#phone-hint")
    b.shot("phone-invalid")

    b.page.fill("#phone", "+7 (916) 123-45-67")
    b.page.click("#phone-submit")
    code = b.page.wait_for_selector("#code-box:not([hidden]) #pairing-code").inner_text()
    assert len(code) == 9 and code[4] == "-", code
    assert "Код действует ещё" in text(b, "#code-timer")
    width = b.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"nothing sticks out of a 390 px screen (scroll width {width})"
    b.shot("pairing-code")

    simulator("pair", code=code)
    b.screen("done", timeout_ms=20000)
    assert installed_key(stack) == repositories.get_company(db, 962302).api_key
    assert len(stack.calls("/marketplace/partner/callback")) == 1
    assert b.console_errors() == []


def test_a_second_link_after_the_first_page_closed_reaches_activation(desktop, second_desktop, stack, host, db):
    """The owner opened the link, saw the QR, closed the tab, clicked «Подключить» again and scanned."""
    first = desktop
    first.page.goto(signed_link(stack))
    shown = first.page.wait_for_selector("#qr-img[src^='data:image/png']:not([hidden])").get_attribute("src")
    first.shot("first-page-qr")
    first.page.context.close()

    second = second_desktop
    second.page.goto(signed_link(stack))
    second.page.wait_for_selector("#qr-img[src^='data:image/png']:not([hidden])")
    second.page.wait_for_function("src => document.getElementById('qr-img').src !== src", arg=shown, timeout=10000)
    second.shot("second-page-qr-rotates")  # the second page follows the session live, not a frozen copy
    simulator("scan", phone="79161234567")
    second.screen("done", timeout_ms=20000, shot="second-page-done")
    assert text(second, "#done-title") == "Готово! Бот активен"
    assert repositories.get_company(db, 962302).integration_status == "active"
    assert len(stack.calls("/marketplace/partner/callback")) == 1
    assert second.console_errors() == []


def test_two_open_pages_both_reach_activation_and_activate_once(desktop, second_desktop, stack, host, db):
    pages = (desktop, second_desktop)
    for b in pages:
        b.page.goto(signed_link(stack))
        b.page.wait_for_selector("#qr-img[src^='data:image/png']:not([hidden])")
        b.shot("qr")
    simulator("scan", phone="79161234567")
    for b in pages:
        b.screen("done", timeout_ms=20000)
        assert text(b, "#done-title") == "Готово! Бот активен"
        assert b.console_errors(expected_statuses=(409,)) == [], "one page may wait for the other's activation"
    assert installed_key(stack) == repositories.get_company(db, 962302).api_key
    assert len(stack.calls("/marketplace/partner/callback")) == 1, "two pages, one activation call to YCLIENTS"


def test_a_page_opened_after_the_phone_linked_goes_straight_to_activation(desktop, stack, host, db):
    link = signed_link(stack)
    token = requests.get(link, allow_redirects=False, timeout=10).headers["Location"].split("token=")[1]
    qr = requests.post(f"{GATEWAY}/marketplace/api/qr", headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert qr.status_code == 200, qr.text
    simulator("scan", phone="79161234567")  # linked from a page that is gone
    b = desktop
    b.page.goto(signed_link(stack))
    b.screen("done", timeout_ms=20000)
    assert text(b, "#done-title") == "Готово! Бот активен"
    assert repositories.get_company(db, 962302).integration_status == "active"


def test_the_page_says_which_data_loads_later_when_a_module_fails(desktop, stack, host, db):
    stack.fault("/company/962302/services", "404", times=1000)
    b = desktop
    b.page.goto(signed_link(stack))
    b.page.wait_for_selector("#qr-img[src^='data:image/png']:not([hidden])")
    simulator("scan", phone="79161234567")
    b.screen("done", timeout_ms=20000)
    b.page.wait_for_selector("#done-note:not([hidden])")
    assert text(b, "#done-title") == "Готово! Бот активен"
    assert text(b, "#done-note") == (
        "Салон подключён; услуги и цены загрузятся позже — мы повторим автоматически. Бот уже отвечает клиентам."
    )
    assert b.page.get_attribute("#step-load", "data-step") == "partial"
    b.shot("done-partial")


def test_an_active_salon_relinks_only_after_the_owner_confirms(desktop, stack, db, tmp_path):
    opts = {"host_opts": {"reconnect_delays": ()}, "qr_ttl_s": 20, "qr_rotations": 3}
    with running_session_host(db, tmp_path, "host-relink-page", **opts):
        b = desktop
        b.page.goto(signed_link(stack))
        b.page.wait_for_selector("#qr-img[src^='data:image/png']:not([hidden])")
        simulator("scan", phone="79161234567")
        b.screen("done", timeout_ms=20000)
        simulator("drop")  # no retries configured: the session fails and the bot is silent
        wait_for(lambda: db.collection("wa_sessions").document(SID).get().get("state") == "failed", 5)

        b.page.goto(signed_link(stack))  # the owner comes back to fix it: the owner page offers the relink
        b.screen("owner", shot="owner-page-failed")
        b.page.wait_for_selector("#relink:not([hidden])")
        b.page.click("#relink")
        b.page.wait_for_selector("#relink-confirm:not([hidden])")
        assert "Подключить WhatsApp заново?" in text(b, "#relink-text")
        assert b.page.is_hidden("#qr-img"), "no QR before the owner says yes"
        b.shot("relink-question")
        b.page.click("#relink-yes")
        b.page.wait_for_selector("#qr-img[src^='data:image/png']:not([hidden])")
        b.shot("relink-qr")
        assert b.console_errors(expected_statuses=(409,)) == []


def test_expired_invalid_and_missing_tokens_send_the_owner_back_to_yclients(desktop, stack, db):
    b = desktop
    expired = token_with(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    b.page.goto(f"{GATEWAY}/marketplace/onboarding?token={expired}")
    b.screen("invalid", shot="expired")
    assert "устарела" in text(b, "#invalid-title")
    assert "Подключить" in text(b, "#invalid-text")

    forged = token_with(secret=JWT_SECRET[::-1])  # a token the API did not sign, though it decodes fine
    b.page.goto(f"{GATEWAY}/marketplace/onboarding?token={forged}")
    b.screen("invalid", shot="forged")
    assert "недействительна" in text(b, "#invalid-title")

    b.page.evaluate("sessionStorage.clear()")
    b.page.goto(f"{GATEWAY}/marketplace/onboarding")
    b.screen("invalid", shot="no-token")
    assert "без ссылки" in text(b, "#invalid-title")
    # The API's refusals (410, 401) are the expected answers; nothing else may be in the console.
    assert b.console_errors(expected_statuses=(410, 401)) == []


def test_activation_failure_then_retry(desktop, stack, host, db):
    b = desktop
    stack.fault("/marketplace/partner/callback", "422", times=1)
    b.page.goto(signed_link(stack))
    b.page.wait_for_selector("#qr-img[src^='data:image/png']:not([hidden])")
    simulator("scan", phone="79161234567")

    b.page.wait_for_selector("#activation-error:not([hidden])", timeout=20000)
    b.shot("activation-failed")
    assert "YCLIENTS не подтвердил подключение" in text(b, "#activation-error-text")
    assert "Ошибка 422" in text(b, "#activation-error-text"), "the owner sees YCLIENTS's reason"
    assert b.page.get_attribute("#step-activate", "data-step") == "failed"
    assert repositories.get_company(db, 962302).integration_status == "activation_failed"

    b.page.click("#activation-retry")
    b.screen("done", timeout_ms=20000)
    assert len(stack.calls("/marketplace/partner/callback")) == 2
    assert installed_key(stack) == repositories.get_company(db, 962302).api_key
    assert b.console_errors(expected_statuses=(502,)) == []


def test_an_expired_qr_is_explained_and_a_new_one_comes_on_request(desktop, stack, db, tmp_path):
    with running_session_host(db, tmp_path, "host-expiring", qr_ttl_s=1.5, qr_rotations=2):
        b = desktop
        b.page.goto(signed_link(stack))
        b.page.wait_for_selector("#qr-img:not([hidden])")
        b.page.wait_for_selector("#retry-link:not([hidden])", timeout=15000)
        b.shot("qr-expired")
        assert "Время на привязку истекло" in text(b, "#status-text")
        assert text(b, "#retry-link") == "Показать новый QR-код"
        b.page.click("#retry-link")
        # The new QR lives 3 s here, so wait for the moment it shows rather than check once.
        b.page.wait_for_selector("#app[data-state=qr] #qr-img[src^='data:image/png']:not([hidden])")
        b.page.wait_for_selector("#retry-link", state="hidden")
        b.shot("qr-again")
        assert b.console_errors() == []


def test_without_the_listener_a_slow_poll_keeps_the_page_going(desktop, stack, host, db):
    b = desktop
    b.page.route("**/google.firestore.v1.Firestore/**", lambda route: route.abort())  # Firestore unreachable
    b.page.goto(signed_link(stack))
    b.page.wait_for_selector("#qr-img[src^='data:image/png']:not([hidden])")
    b.page.wait_for_selector("#app[data-feed=poll]", timeout=15000)
    assert b.page.is_visible("#fallback-note")
    b.shot("qr-polling")
    simulator("scan", phone="79161234567")
    b.screen("done", timeout_ms=20000)
    assert len(stack.calls("/marketplace/partner/callback")) == 1
    assert [m for m in b.console if m.startswith("pageerror")] == [], "blocked requests aside, no script errors"


def test_a_salon_already_active_opens_its_owner_page_and_nothing_is_called_again(desktop, stack, host, db):
    b = desktop
    b.page.goto(signed_link(stack))
    b.page.wait_for_selector("#qr-img[src^='data:image/png']:not([hidden])")
    simulator("scan", phone="79161234567")
    b.screen("done", timeout_ms=20000, shot="first-visit-done")
    b.page.goto(signed_link(stack))  # the owner opens the app from YCLIENTS again later: the owner page
    b.screen("owner", shot="second-visit")
    assert text(b, "#salon-name") == stack_title(db) and "подключён" in text(b, "#wa-state")
    assert b.page.is_hidden("#relink"), "a working link is not offered for replacing"
    assert len(stack.calls("/marketplace/partner/callback")) == 1
    assert b.console_errors() == []
