"""The page's capability: which views a status feeds, and what of the status a page may see."""

from __future__ import annotations

from datetime import timedelta

from aiadmin.core.models import RegistrationClaims, ViewRef, utcnow
from aiadmin.whatsapp.onboarding_view import projection, view_for
from aiadmin.whatsapp.session_status import MAX_VIEWS, SessionState, live_views, status_for


def claims(jti: str, exp: int = 2_000_000_000) -> RegistrationClaims:
    return RegistrationClaims(sub="1", salon_id=1, type="marketplace_registration", jti=jti, iat=1, exp=exp)


def test_the_view_id_is_stable_per_registration_and_secret_bound():
    a = view_for("secret-1" * 4, claims("j1"))
    assert a == view_for("secret-1" * 4, claims("j1")), "every tab and reload of one registration shares it"
    assert a.id != view_for("secret-1" * 4, claims("j2")).id
    assert a.id != view_for("secret-2" * 4, claims("j1")).id, "nobody without the secret can derive it"
    assert len(a.id) == 32 and a.expires_at.timestamp() == 2_000_000_000


def test_live_views_drop_expired_and_repeats_and_keep_the_newest():
    now = utcnow()
    soon, gone = now + timedelta(minutes=5), now - timedelta(seconds=1)
    views = [ViewRef(id=f"v{i}", expires_at=soon) for i in range(MAX_VIEWS + 2)]
    kept = live_views(views[:3], [ViewRef(id="old", expires_at=gone)], views[1:], now=now)
    assert [v.id for v in kept] == [v.id for v in views[-MAX_VIEWS:]]


def test_the_projection_carries_what_the_page_shows_and_nothing_private():
    status = status_for(
        "company_1",
        1,
        SessionState.PAIRING_CODE,
        pairing_code="ABCD-1234",
        phone_masked="791*****567",
        views=[ViewRef(id="v", expires_at=utcnow())],
    )
    data = projection(status)
    assert data["state"] == "pairing_code" and data["pairing_code"] == "ABCD-1234"
    assert data["message"].startswith("Откройте WhatsApp")
    assert not {"views", "session_id", "salon_id", "name"} & set(data)
