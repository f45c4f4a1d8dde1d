"""Registration redirect: verify YCLIENTS's signed link, register every branch, issue the onboarding JWT."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from google.cloud import firestore
from werkzeug.datastructures import MultiDict

from aiadmin.core import repositories
from aiadmin.core.errors import BadRequest, Forbidden, NotFound
from aiadmin.core.integration_status import IntegrationStatus, check_transition
from aiadmin.core.logs import mask_phone
from aiadmin.core.models import Company, Event, MarketplaceUser, salon_id_from_text, utcnow
from aiadmin.core.settings import Settings
from aiadmin.marketplace import registration_token
from aiadmin.marketplace.user_data_signature import verify_user_data
from aiadmin.yclients.client import YclientsClient, YclientsError, YclientsNotFound
from aiadmin.yclients.models import YcCompany

log = logging.getLogger("aiadmin.registration")

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
        # The signed fields win; legacy query parameters only fill what the signed data lacks.
        merged = {k: signed.get(k) if signed.get(k) not in (None, "") else legacy.get(k) for k in legacy}
        merged.update({k: signed.get(k) for k in ("is_approved", "salon_name") if k in signed})
        return RedirectRequest(salon_ids, MarketplaceUser.model_validate(merged), signed=True)
    if not settings.unsigned_redirects_allowed:
        raise Forbidden("this link is not signed by YCLIENTS (user_data_sign missing)", code="missing_signature")
    return RedirectRequest(salon_ids, MarketplaceUser.model_validate(legacy), signed=False)


def _fetch_companies(salon_ids: list[int], yclients: YclientsClient, db: firestore.Client) -> list[YcCompany]:
    """Fetch every branch before writing anything, so a failure leaves no half-registered salon."""
    fetched = []
    for salon_id in salon_ids:
        try:
            fetched.append(yclients.get_company(salon_id))
        except YclientsError as exc:
            batch = db.batch()
            repositories.add_event(
                batch,
                db,
                Event(
                    salon_id=salon_id,
                    type="registration_failed",
                    data={"reason": exc.message, "yclients_status": exc.upstream_status, "code": exc.code},
                ),
            )
            batch.commit()
            if isinstance(exc, YclientsNotFound):
                raise NotFound(f"salon {salon_id} is not found in YCLIENTS", code="salon_not_found") from exc
            raise type(exc)(
                f"YCLIENTS failed while fetching salon {salon_id}: {exc.message}",
                upstream_status=exc.upstream_status,
            ) from exc
    return fetched


def _same_name(a: str | None, b: str | None) -> bool:
    def norm(text: str) -> str:
        text = re.sub(r"[«»“”„\"'`]", "", unicodedata.normalize("NFKC", text)).replace("ё", "е").replace("Ё", "Е")
        return " ".join(text.casefold().split())

    return bool(a and b) and norm(a or "") == norm(b or "")


def _check_vouched(request: RedirectRequest, companies: list[YcCompany], db: firestore.Client) -> None:
    """YCLIENTS signs `user_data` (with the salon's name) but not the salon ids beside it in the URL. So a signed
    link vouches only for the salon it names and for branches of that salon's network: a genuine link replayed
    with another salon's id gets 403 and writes nothing but the `registration_failed` event."""
    if not request.signed:  # unsigned links are accepted only with ENV=local and ALLOW_UNSIGNED_REDIRECTS
        return
    named = [c for c in companies if _same_name(request.user.salon_name, c.title)]
    problem = None
    if not named:
        problem = "the signed salon name is not the name of the salon in the link"
    else:
        network = named[0].main_group_id
        if any(c.id != named[0].id and (network is None or c.main_group_id != network) for c in companies):
            problem = "a branch in the link is not in the signed salon's network"
    if problem is None:
        return
    batch = db.batch()
    for company in companies:
        event = Event(salon_id=company.id, type="registration_failed", data={"reason": problem, "code": "not_vouched"})
        repositories.add_event(batch, db, event)
    batch.commit()
    log.warning(
        "signed link does not vouch for its salon",
        extra={"salon_ids": request.salon_ids, "problem": problem, "user_id": request.user.id},
    )
    raise Forbidden(problem, code="salon_not_vouched")


def _upserted(existing: Company | None, yc: YcCompany, user: MarketplaceUser, group: list[int]) -> Company:
    now = utcnow()
    fields = {
        "title": yc.title,
        "timezone": yc.timezone_name or "Europe/Moscow",
        "phone": yc.phone,
        "email": yc.email,
        "address": yc.address,
        "city": yc.city,
        "marketplace_user": user,
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


def register(
    request: RedirectRequest, settings: Settings, db: firestore.Client, yclients: YclientsClient
) -> tuple[str, bool]:
    """Upsert every branch and its `registration_started` event atomically; return the JWT, and whether the
    onboarded salon works already (its owner goes to the owner page)."""
    jwt_secret = settings.require("jwt_secret")
    companies = _fetch_companies(request.salon_ids, yclients, db)
    _check_vouched(request, companies, db)
    onboarded = request.salon_ids[0]

    @firestore.transactional
    def write(tx: firestore.Transaction) -> None:
        current = {c.id: repositories.get_company(db, c.id, transaction=tx) for c in companies}
        for yc in companies:
            before = current[yc.id]
            after = _upserted(before, yc, request.user, request.salon_ids)
            tx.set(repositories.company_ref(db, yc.id), after.to_firestore(), merge=True)
            statuses[yc.id] = after.integration_status
            data = {
                "user_id": request.user.id,
                "signed": request.signed,
                "onboarded": yc.id == onboarded,
                "branches": request.salon_ids,
                "status": str(after.integration_status),
                "new": before is None,
            }
            if before is not None and before.integration_status != after.integration_status:
                data["status_from"] = str(before.integration_status)
            repositories.add_event(tx, db, Event(salon_id=yc.id, type="registration_started", data=data))

    statuses: dict[int, IntegrationStatus] = {}
    write(db.transaction())
    log.info(
        "registration started",
        extra={
            "salon_id": onboarded,
            "branches": request.salon_ids,
            "user_phone": mask_phone(request.user.phone),
        },
    )
    token = registration_token.issue(jwt_secret, onboarded, request.salon_ids, settings.registration_ttl_s)
    return token, statuses.get(onboarded) == IntegrationStatus.ACTIVE
