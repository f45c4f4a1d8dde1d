"""Onboarding API behind the registration JWT: start or reuse the salon's WhatsApp session (QR or pairing code)
and read its status. Functions never talk to the host directly: they leave a command in `wa_commands`, which
the host listens to, and read the answer from `wa_sessions/{session_id}`, which the host writes."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any, Literal

from google.cloud import firestore

from aiadmin.core import repositories
from aiadmin.core.errors import Conflict, Forbidden, NotFound, Unauthorized
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.logs import mask_phone
from aiadmin.core.models import Company, RegistrationClaims, ViewRef, WaCommand, session_id_for, utcnow
from aiadmin.core.settings import Settings
from aiadmin.marketplace import owner_access, registration_token
from aiadmin.whatsapp import onboarding_view
from aiadmin.whatsapp.session_status import WA_SESSIONS, SessionState, SessionStatus

St = SessionState
POLL_S = 0.1


def claims_from_header(header: str | None, settings: Settings) -> RegistrationClaims:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization: Bearer <registration token> is required", code="missing_token")
    return registration_token.verify(settings.require("jwt_secret"), token.strip(), settings.registration_ttl_s)


def view_of(claims: RegistrationClaims, settings: Settings) -> ViewRef:
    return onboarding_view.view_for(settings.require("jwt_secret"), claims)


def _status(db: firestore.Client, session_id: str) -> SessionStatus | None:
    snap = db.collection(WA_SESSIONS).document(session_id).get()
    return SessionStatus.model_validate(snap.to_dict()) if snap.exists else None


def _seconds_left(until: datetime | None) -> int | None:
    return max(0, int((until - utcnow()).total_seconds())) if until else None


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def describe(session_id: str, status: SessionStatus | None, *, with_qr: bool = True) -> dict[str, Any]:
    """The session for a page; `with_qr=False`: a QR is not shown (anyone who scans it owns the salon's chats).
    A pairing code is: it links only the phone whose number asked for it."""
    state = status.state if status else St.STARTING
    body: dict[str, Any] = {
        "success": True,
        "session_id": session_id,
        "status": str(state),
        "connected": state == St.CONNECTED,
        "message": status.message if status else None,
        "updated_at": _iso(status.updated_at) if status else None,  # the page keeps the newer of API and listener
    }
    if status and state == St.QR and with_qr:
        body.update(qr=status.qr, expires_in=_seconds_left(status.qr_expires_at), expires_at=_iso(status.qr_expires_at))
    if status and state == St.PAIRING_CODE:
        body.update(
            code=status.pairing_code,
            expires_in=_seconds_left(status.pairing_expires_at),
            expires_at=_iso(status.pairing_expires_at),
        )
    return body


def _registered_company(db: firestore.Client, salon_id: int) -> Company:
    company = repositories.get_company(db, salon_id)
    if company is None:
        raise NotFound(f"salon {salon_id} is not registered", code="salon_not_registered")
    return company


def _sees_the_link(db: firestore.Client, claims: RegistrationClaims, company: Company) -> bool:
    """Who may see a QR of this salon and follow its session live: anyone the token vouches for while the salon
    is being connected; once it works, its owner only."""
    return company.integration_status != IntegrationStatus.ACTIVE or owner_access.is_owner(db, claims, company)


def overview(db: firestore.Client, claims: RegistrationClaims, view: ViewRef) -> dict[str, Any]:
    """What the page needs on load: the salon, where its integration stands, the session, and the view to watch.
    Reaching this means the token is valid: the page never trusts a token it only decoded itself."""
    company = _registered_company(db, claims.salon_id)
    session_id = session_id_for(claims.salon_id)
    onboarding_view.ensure_view(db, view)
    status = _status(db, session_id)
    sees = _sees_the_link(db, claims, company)
    if status is not None and sees:  # a session exists: this page follows it from now on, whichever page started it
        _leave_command(
            db,
            WaCommand(
                session_id=session_id, salon_id=claims.salon_id, command="watch", reason="page opened", view=view
            ),
        )
    return {
        "success": True,
        "salon": {"id": company.salon_id, "title": company.title},
        "integration_status": str(company.integration_status),
        "session": describe(session_id, status, with_qr=sees),
        "view_id": view.id,
        "token_expires_at": _iso(view.expires_at),
    }


def request_link(
    db: firestore.Client,
    claims: RegistrationClaims,
    mode: Literal["qr", "pairing"],
    phone: str | None = None,
    wait_s: float = 2.0,
    view: ViewRef | None = None,
    confirm_relink: bool = False,
) -> dict[str, Any]:
    """Ask the host for a QR or a pairing code; wait up to `wait_s` for it (the page keeps listening anyway).
    With a view, the host feeds that page's `onboarding_views` document from now on."""
    salon_id = claims.salon_id
    session_id = session_id_for(salon_id)
    company = _registered_company(db, salon_id)
    if company.integration_status in (IntegrationStatus.UNINSTALLED, IntegrationStatus.FROZEN):
        raise Conflict(f"the integration is {company.integration_status} in YCLIENTS", code="not_installable")
    current = _status(db, session_id)
    sees = _sees_the_link(db, claims, company)
    if current and current.state == St.CONNECTED:
        return describe(session_id, current, with_qr=sees)  # a linked salon is never offered a second link
    _refuse_relink_that_may_destroy(company, current, confirm_relink)
    _refuse_relink_to_another_phone(db, claims, company, mode, phone)
    if not sees:
        view = None  # its page follows by asking; the host feeds no view a later QR could reach
    if view is not None:
        onboarding_view.ensure_view(db, view)
    command = WaCommand(
        session_id=session_id,
        salon_id=salon_id,
        command=f"start_{mode}",
        reason="onboarding",
        phone_number=phone,
        view=view,
    )
    command_ref = _leave_command(db, command)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        done = command_ref.get()
        if done.exists and done.get("state") == "done":
            status = _status(db, session_id)
            reused = not str(done.get("result") or "").startswith("started")
            if status and status.state != St.STARTING and (reused or status.updated_at > command.created_at):
                return describe(session_id, status, with_qr=sees)
        time.sleep(POLL_S)
    return describe(session_id, None)  # still starting: the page follows the status document


# States in which a new link replaces nothing that may still come back (or a relink is already under way).
_RELINK_FREE = frozenset({St.LOGGED_OUT, St.QR, St.PAIRING_CODE, St.EXPIRED, St.STARTING})


def _refuse_relink_that_may_destroy(company: Company, current: SessionStatus | None, confirmed: bool) -> None:
    """A link that may come back is never replaced by accident: not during a reconnect (a blip, and any old tab
    could otherwise unlink the salon), and for an active salon only after the phone removed us (`logged_out`)
    or with the owner's explicit confirmation on the page."""
    if current is not None and current.state == St.RECONNECTING:
        raise Conflict(
            "WhatsApp is reconnecting; a new link would replace the salon's working one. Wait a minute.",
            code="reconnecting",
        )
    if current is not None and current.state == St.TEMPORARILY_BANNED:
        raise Conflict(
            "WhatsApp temporarily blocked this number; the link is kept and resumes by itself when the block ends. "
            "A new link would not help.",
            code="temporarily_banned",
            details={"until": current.banned_until.isoformat() if current.banned_until else None},
        )
    active = company.integration_status == IntegrationStatus.ACTIVE
    if active and current is not None and current.state not in _RELINK_FREE and not confirmed:
        raise Conflict(
            f"the salon's WhatsApp link is {current.state}; confirm to replace it with a new one",
            code="relink_needs_confirmation",
            details={"state": str(current.state)},
        )


def _refuse_relink_to_another_phone(
    db: firestore.Client, claims: RegistrationClaims, company: Company, mode: str, phone: str | None
) -> None:
    """An active salon's WhatsApp is relinked by its owner (`owner_access`), or to the same phone by anyone the
    salon's token vouches for: a pairing code for the salon's own number works only on that phone. A QR can be
    scanned by any phone, so for others it is refused."""
    if company.integration_status != IntegrationStatus.ACTIVE or owner_access.is_owner(db, claims, company):
        return
    if mode == "pairing" and phone and company.whatsapp_phone and phone == company.whatsapp_phone:
        return
    to = company.owner_phone() if company.whatsapp_connected else None
    raise Forbidden(
        "only the salon's owner may link its WhatsApp to another phone",
        code="owner_code_required",
        details={"can_send": to is not None, "to": mask_phone(to)},
    )


def _leave_command(db: firestore.Client, command: WaCommand) -> firestore.DocumentReference:
    ref = db.collection(repositories.WA_COMMANDS).document(
        f"{command.session_id}-{command.command}-{uuid.uuid4().hex[:12]}"
    )
    ref.set(command.to_firestore())
    return ref


def session_status(
    db: firestore.Client, claims: RegistrationClaims, session_id: str, view: ViewRef | None = None
) -> dict[str, Any]:
    """The status poll (the page's fallback when its Firestore listener fails): the session, plus the setup
    progress the listener would have brought."""
    if session_id != session_id_for(claims.salon_id):
        raise Forbidden("this session belongs to another salon", code="foreign_session")
    company = _registered_company(db, claims.salon_id)
    body = describe(session_id, _status(db, session_id), with_qr=_sees_the_link(db, claims, company))
    if view is not None:
        snap = onboarding_view.view_ref(db, view.id).get()
        setup = snap.to_dict().get("setup") if snap.exists else None
        if setup:
            body["setup"] = {"state": setup.get("state"), "message": setup.get("message")}
    return body
