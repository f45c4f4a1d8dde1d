"""Registration redirect: verify YCLIENTS's signed link, register every branch, issue the onboarding JWT."""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from google.cloud import firestore
from pydantic import Field
from werkzeug.datastructures import MultiDict

from aiadmin.core import rate_limit, repositories
from aiadmin.core.errors import BadRequest, Forbidden, NotFound, ServiceUnavailable, TooManyRequests
from aiadmin.core.integration_status import IntegrationStatus, check_transition
from aiadmin.core.logs import mask_phone
from aiadmin.core.models import Company, Document, Event, MarketplaceUser, salon_id_from_text, utcnow
from aiadmin.core.settings import Settings
from aiadmin.marketplace import registration_token
from aiadmin.marketplace.user_data_signature import verify_user_data
from aiadmin.yclients.client import YclientsClient, YclientsError, YclientsNotFound, YclientsRejected
from aiadmin.yclients.models import YcCompany

log = logging.getLogger("aiadmin.registration")

MANAGING_ROLES = frozenset({"owner", "administrator", "manager"})  # YCLIENTS's user_role_slug of who may connect apps
MAX_BRANCHES = 30  # a network installing for more salons at once does it in several links
_INDEXED = re.compile(r"^salon_ids\[(\d{0,6})\]$")


@dataclass(frozen=True)
class RedirectRequest:
    salon_ids: list[int]
    user: MarketplaceUser
    signed: bool


def parse_salon_ids(args: MultiDict) -> list[int]:
    raw: list[str] = list(args.getlist("salon_id"))
    indexed: list[tuple[int, int, str]] = []
    for order, (key, value) in enumerate(args.items(multi=True)):
        m = _INDEXED.match(key)
        if m:
            indexed.append((int(m.group(1)) if m.group(1) else 10**9, order, value))
    raw += [v for _, _, v in sorted(indexed)]
    raw = [v.strip() for v in raw if v.strip()]
    if not raw:
        raise BadRequest("salon_id is required", code="missing_salon_id")
    if len(raw) > MAX_BRANCHES:
        raise BadRequest(f"a link names at most {MAX_BRANCHES} branches, this one {len(raw)}", code="too_many_branches")
    ids: list[int] = []
    for value in raw:
        salon_id = salon_id_from_text(value)
        if salon_id is None:
            raise BadRequest(f"salon_id must be a positive number, got {value[:40]!r}", code="bad_salon_id")
        if salon_id not in ids:
            ids.append(salon_id)
    return ids


def parse_redirect(args: MultiDict, settings: Settings) -> RedirectRequest:
    salon_ids = parse_salon_ids(args)
    legacy = {
        "id": args.get("user_id"),
        "name": args.get("user_name"),
        "phone": args.get("user_phone"),
        "email": args.get("user_email"),
    }
    user_data, sign = args.get("user_data"), args.get("user_data_sign")
    if user_data or sign:
        if not (user_data and sign):
            raise Forbidden("user_data and user_data_sign must come together", code="bad_signature")
        signed = verify_user_data(user_data, sign, settings.require("yclients_partner_token"))
        # The user is what YCLIENTS signed, nothing else: an unsigned `user_id` beside it would choose the owner.
        user = MarketplaceUser.model_validate(
            {k: signed.get(k) for k in ("id", "name", "phone", "email", "is_approved", "salon_name")}
        )
        if user.id is None:
            raise Forbidden("the signed user data names no YCLIENTS user", code="bad_signature")
        return RedirectRequest(salon_ids, user, signed=True)
    if not settings.unsigned_redirects_allowed:
        raise Forbidden("this link is not signed by YCLIENTS (user_data_sign missing)", code="missing_signature")
    return RedirectRequest(salon_ids, MarketplaceUser.model_validate(legacy), signed=False)


def _refuse(salon_ids: list[int], user_id: str | None, problem: str, db: firestore.Client) -> NoReturn:
    batch = db.batch()
    for salon_id in salon_ids:
        event = Event(salon_id=salon_id, type="registration_failed", data={"reason": problem, "code": "not_vouched"})
        repositories.add_event(batch, db, event)
    batch.commit()
    log.warning(
        "signed link does not vouch for its salon",
        extra={"salon_ids": salon_ids, "problem": problem, "user_id": user_id},
    )
    raise Forbidden(problem, code="salon_not_vouched")


def _fetch(salon_id: int, yclients: YclientsClient, db: firestore.Client) -> YcCompany:
    try:
        return yclients.get_company(salon_id)
    except YclientsError as exc:
        batch = db.batch()
        data = {"reason": exc.message, "yclients_status": exc.upstream_status, "code": exc.code}
        repositories.add_event(batch, db, Event(salon_id=salon_id, type="registration_failed", data=data))
        batch.commit()
        if isinstance(exc, YclientsNotFound):
            raise NotFound(f"salon {salon_id} is not found in YCLIENTS", code="salon_not_found") from exc
        raise type(exc)(
            f"YCLIENTS failed while fetching salon {salon_id}: {exc.message}", upstream_status=exc.upstream_status
        ) from exc


def _same_name(a: str | None, b: str | None) -> bool:
    def norm(text: str) -> str:
        text = re.sub(r"[«»“”„\"'`]", "", unicodedata.normalize("NFKC", text)).replace("ё", "е").replace("Ё", "Е")
        return " ".join(text.casefold().split())

    return bool(a and b) and norm(a or "") == norm(b or "")


def _same_network(a: YcCompany, b: YcCompany) -> bool:
    return a.id == b.id or (a.main_group_id is not None and a.main_group_id == b.main_group_id)


def _check_user(request: RedirectRequest, salon: YcCompany, yclients: YclientsClient, db: firestore.Client) -> None:
    """Where YCLIENTS lets us read the salon's accounts, the signed user must be one of them (approved): a title
    anyone can give their own salon then binds nothing by itself."""
    try:
        users = yclients.get_company_users(salon.id)
    except (YclientsRejected, YclientsNotFound) as exc:
        if exc.upstream_status == 401:  # our own tokens are refused: a misconfiguration, never a reason to trust less
            log.error("yclients refused our tokens reading a salon's users", extra={"salon_id": salon.id})
            raise ServiceUnavailable("YCLIENTS refused our credentials; try again later", code="yclients_auth") from exc
        log.warning(
            "the salon's users are not readable; the signed salon name binds the link",
            extra={"salon_id": salon.id, "yclients_status": exc.upstream_status},
        )
        return
    signer = next((u for u in users if request.user.id and str(u.id) == request.user.id and u.is_approved), None)
    if signer is None:
        _refuse(request.salon_ids, request.user.id, "the signed user is not a user of the salon in the link", db)
    if signer.user_role_slug and signer.user_role_slug not in MANAGING_ROLES:
        _refuse(request.salon_ids, request.user.id, "the signed user does not manage the salon in YCLIENTS", db)


def _vouched(request: RedirectRequest, yclients: YclientsClient, db: firestore.Client) -> list[YcCompany]:
    """Every branch of the link, the salon it was signed for first.

    YCLIENTS signs `user_data` (the user and the salon's name) but not the salon ids beside it in the URL. So a
    signed link vouches for the salon it names — its title, and the signing user among its accounts where YCLIENTS
    shows them — and for branches of that salon's network; the token is for that salon, wherever it stands in the
    list. A link mixing networks stops at its first foreign branch, before any more is fetched. Anything else gets
    403 and writes nothing but `registration_failed` events."""
    fetched: list[YcCompany] = []
    for salon_id in request.salon_ids:
        company = _fetch(salon_id, yclients, db)
        if request.signed and fetched and not _same_network(fetched[0], company):
            _refuse(request.salon_ids, request.user.id, "a branch in the link is not in the signed salon's network", db)
        fetched.append(company)
    if not request.signed:  # unsigned links are accepted only with ENV=local and ALLOW_UNSIGNED_REDIRECTS
        return fetched
    named = next((c for c in fetched if _same_name(request.user.salon_name, c.title)), None)
    if named is None:
        _refuse(
            request.salon_ids, request.user.id, "the signed salon name is not the name of the salon in the link", db
        )
    _check_user(request, named, yclients, db)
    return [named, *(c for c in fetched if c.id != named.id)]


def _upserted(existing: Company | None, yc: YcCompany, group: list[int]) -> Company:
    now = utcnow()
    fields = {
        "title": yc.title,
        "timezone": yc.timezone_name or "Europe/Moscow",
        "phone": yc.phone,
        "email": yc.email,
        "address": yc.address,
        "city": yc.city,
        "registration_group": group,
        "registered_at": now,
        "updated_at": now,
    }
    if existing is None:
        return Company(salon_id=yc.id, **fields)
    updated = existing.model_copy(update=fields)
    if existing.integration_status == IntegrationStatus.UNINSTALLED:
        check_transition(existing.integration_status, IntegrationStatus.PENDING_WHATSAPP)
        updated = updated.model_copy(
            update={
                "integration_status": IntegrationStatus.PENDING_WHATSAPP,
                "whatsapp_connected": False,
                "api_key": None,
                "api_key_created_at": None,
                "webhook_nonce": None,
                "activation_error": None,
                "activated_at": None,
            }
        )
    return updated


class Registration(Document):
    """`registrations/{jti}`: who a registration token was issued to, kept while it lives. Activation records the
    installer from it; the token itself carries no personal data (it travels in a URL)."""

    salon_id: int
    branches: list[int]
    user: MarketplaceUser
    signed: bool
    at: datetime = Field(default_factory=utcnow)
    expire_at: datetime  # Firestore TTL


REGISTRATIONS = "registrations"


def registration_of(db: firestore.Client, jti: str) -> Registration | None:
    snap = db.collection(REGISTRATIONS).document(jti).get()
    return Registration.model_validate(snap.to_dict()) if snap.exists else None


def _within_rate(request: RedirectRequest, settings: Settings, db: firestore.Client) -> None:
    """A signed link can be replayed by whoever has it: each costs YCLIENTS calls from our shared quota."""
    verdict = rate_limit.hit(
        db, f"redirect:{request.user.id or 'unsigned'}", settings.redirects_per_user_per_minute, 60
    )
    if not verdict.allowed:
        raise TooManyRequests(
            "too many registrations by this YCLIENTS user; wait a minute",
            retry_after_s=verdict.retry_after_s,
            code="too_many_redirects",
        )


def register(
    request: RedirectRequest, settings: Settings, db: firestore.Client, yclients: YclientsClient
) -> tuple[str, bool]:
    """Upsert every branch and its `registration_started` event atomically; return the JWT for the salon the
    link was signed for, and whether that salon works already (its owner goes to the owner page). Who gets the
    owner's notices is not a registration's business: only activation and a proved number change set it."""
    jwt_secret = settings.require("jwt_secret")
    _within_rate(request, settings, db)
    companies = _vouched(request, yclients, db)
    onboarded = companies[0].id
    branches = [c.id for c in companies]
    jti = uuid.uuid4().hex
    now = utcnow()

    @firestore.transactional
    def write(tx: firestore.Transaction) -> None:
        current = {c.id: repositories.get_company(db, c.id, transaction=tx) for c in companies}
        for yc in companies:
            before = current[yc.id]
            after = _upserted(before, yc, branches)
            tx.set(repositories.company_ref(db, yc.id), after.to_firestore(), merge=True)
            statuses[yc.id] = after.integration_status
            data = {
                "user_id": request.user.id,
                "signed": request.signed,
                "onboarded": yc.id == onboarded,
                "branches": branches,
                "status": str(after.integration_status),
                "new": before is None,
            }
            if before is not None and before.integration_status != after.integration_status:
                data["status_from"] = str(before.integration_status)
            repositories.add_event(tx, db, Event(salon_id=yc.id, type="registration_started", data=data))
        record = Registration(
            salon_id=onboarded,
            branches=branches,
            user=request.user,
            signed=request.signed,
            at=now,
            expire_at=now + timedelta(seconds=settings.registration_ttl_s) + timedelta(days=1),
        )
        tx.set(db.collection(REGISTRATIONS).document(jti), record.to_firestore())

    statuses: dict[int, IntegrationStatus] = {}
    write(db.transaction())
    log.info(
        "registration started",
        extra={"salon_id": onboarded, "branches": branches, "user_phone": mask_phone(request.user.phone)},
    )
    token = registration_token.issue(
        jwt_secret, onboarded, branches, settings.registration_ttl_s, jti=jti, uid=request.user.id
    )
    return token, statuses.get(onboarded) == IntegrationStatus.ACTIVE
