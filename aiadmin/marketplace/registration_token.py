"""The onboarding JWT: HS256, one hour, type `marketplace_registration`, bound to one salon and to the YCLIENTS
user its signed link was for."""

from __future__ import annotations

import time
import uuid

import jwt
from pydantic import ValidationError

from aiadmin.core.errors import Gone, Unauthorized
from aiadmin.core.models import RegistrationClaims

TOKEN_TYPE = "marketplace_registration"  # noqa: S105 - a claim value, not a secret
ALGORITHM = "HS256"


def issue(
    secret: str,
    salon_id: int,
    branches: list[int],
    ttl_s: int,
    now: float | None = None,
    *,
    jti: str | None = None,
    uid: str | None = None,
) -> str:
    """`uid`: the YCLIENTS user the signed link was for (the owner page compares it with the salon's installer)."""
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": str(salon_id),
        "salon_id": salon_id,
        "type": TOKEN_TYPE,
        "jti": jti or uuid.uuid4().hex,
        "iat": issued,
        "exp": issued + ttl_s,
        "branches": branches,
        "uid": uid,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret: str, token: str, max_age_s: int) -> RegistrationClaims:
    """Signature, expiry, type and lifetime: a token is good for `max_age_s` after it was issued, whatever `exp`
    it carries (so one signed with a long `exp`, say by an old release, ends on time). An expired registration is
    410: the owner must start again in YCLIENTS."""
    try:
        raw = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "jti", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise Gone("registration expired: start again from YCLIENTS (Подключить)", code="registration_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("invalid registration token", code="invalid_token") from exc
    try:
        claims = RegistrationClaims.model_validate(raw)
    except ValidationError as exc:
        raise Unauthorized("registration token has the wrong type or claims", code="invalid_token") from exc
    if claims.exp - claims.iat > max_age_s:
        raise Unauthorized("registration token lives longer than a registration may", code="invalid_token")
    if time.time() - claims.iat > max_age_s:
        raise Gone("registration expired: start again from YCLIENTS (Подключить)", code="registration_expired")
    return claims
