"""What the onboarding page may read from Firestore: `onboarding_views/{view_id}`, a projection of the salon's
session status under an unguessable id.

Why a capability document and not a Firebase Auth custom token: the page already holds the registration JWT, and
the API hands out the view id only after checking it. The id is an HMAC of the JWT's `jti`, so it is unguessable
without the server's secret, the same for every tab and reload of one registration, and it dies with the JWT
(`expires_at`, enforced by the rules). No Firebase Auth, no token minting (a signing key or signBlob rights), no
extra round trip on a phone, and the same code path locally and in production. The private documents
(`wa_sessions`, `companies`, ...) stay closed to browsers; `web/firestore.rules` allows only `get` of a live view.

Writers: the API creates the view (its expiry only), the session host mirrors every status change into the live
views of the session in the same batch as the status, and the post-activation task reports setup progress."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any, Literal

from google.cloud import firestore

from aiadmin.core.models import Document, RegistrationClaims, utcnow
from aiadmin.whatsapp.session_status import WA_SESSIONS, SessionStatus, ViewRef, live_views

ONBOARDING_VIEWS = "onboarding_views"

# partial: the salon works, some of its data loads later (the message says which)
SetupState = Literal["activating", "loading", "done", "partial"]

# The fields of a status the page shows; written in full on every change (None clears), merged into the view
# so the setup progress written by other writers stays.
PROJECTED = ("state", "message", "mode", "qr", "qr_expires_at", "pairing_code", "pairing_expires_at", "phone_masked")


class SetupProgress(Document):
    state: SetupState
    message: str | None = None
    updated_at: datetime


class OnboardingView(Document):
    """`onboarding_views/{view_id}` as the page reads it."""

    expires_at: datetime
    state: str | None = None
    message: str | None = None
    mode: str | None = None
    qr: str | None = None
    qr_expires_at: datetime | None = None
    pairing_code: str | None = None
    pairing_expires_at: datetime | None = None
    phone_masked: str | None = None
    setup: SetupProgress | None = None
    updated_at: datetime | None = None


def view_for(secret: str, claims: RegistrationClaims) -> ViewRef:
    digest = hmac.new(secret.encode(), f"onboarding-view:{claims.jti}".encode(), hashlib.sha256).hexdigest()
    return ViewRef(id=digest[:32], expires_at=datetime.fromtimestamp(claims.exp, UTC))


def view_ref(db: firestore.Client, view_id: str) -> firestore.DocumentReference:
    return db.collection(ONBOARDING_VIEWS).document(view_id)


def ensure_view(db: firestore.Client, view: ViewRef) -> None:
    """Create the view before the page listens: the rules deny `get` on a view that does not exist."""
    view_ref(db, view.id).set({"expires_at": view.expires_at}, merge=True)


def projection(status: SessionStatus) -> dict[str, Any]:
    data = status.model_dump(mode="python", include=set(PROJECTED))
    data["state"] = str(status.state)
    data["updated_at"] = status.updated_at
    return data


def add_projections(batch: firestore.WriteBatch, db: firestore.Client, status: SessionStatus) -> int:
    """Mirror the status into every live view of its session; returns how many views were written."""
    views = live_views(status.views)
    data = projection(status)
    for view in views:
        batch.set(view_ref(db, view.id), {**data, "expires_at": view.expires_at}, merge=True)
    return len(views)


def report_setup(db: firestore.Client, session_id: str, state: SetupState, message: str | None = None) -> int:
    """Tell the pages watching this salon how the setup after activation goes; returns views written."""
    snap = db.collection(WA_SESSIONS).document(session_id).get()
    if not snap.exists:
        return 0
    views = live_views(SessionStatus.model_validate(snap.to_dict()).views)
    if not views:
        return 0
    progress = SetupProgress(state=state, message=message, updated_at=utcnow()).to_firestore()
    batch = db.batch()
    for view in views:
        batch.set(view_ref(db, view.id), {"setup": progress, "expires_at": view.expires_at}, merge=True)
    batch.commit()
    return len(views)
