"""The salon's integration status machine. Illegal transitions are refused, never silently written."""

from __future__ import annotations

from enum import StrEnum

from aiadmin.core.errors import Conflict


class IntegrationStatus(StrEnum):
    PENDING_WHATSAPP = "pending_whatsapp"
    ACTIVATING = "activating"
    ACTIVE = "active"
    ACTIVATION_FAILED = "activation_failed"
    FROZEN = "frozen"
    UNINSTALLED = "uninstalled"


S = IntegrationStatus
# YCLIENTS's billing is a fact in every state: a salon may be frozen before it finished onboarding, and a payment
# takes it back to where it was (see `after_payment`).
ALLOWED_TRANSITIONS: dict[IntegrationStatus, frozenset[IntegrationStatus]] = {
    S.PENDING_WHATSAPP: frozenset({S.ACTIVATING, S.FROZEN, S.UNINSTALLED}),
    S.ACTIVATING: frozenset({S.ACTIVE, S.ACTIVATION_FAILED, S.FROZEN, S.UNINSTALLED}),
    S.ACTIVATION_FAILED: frozenset({S.ACTIVATING, S.FROZEN, S.UNINSTALLED}),
    S.ACTIVE: frozenset({S.FROZEN, S.UNINSTALLED}),
    S.FROZEN: frozenset({S.ACTIVE, S.PENDING_WHATSAPP, S.ACTIVATION_FAILED, S.UNINSTALLED}),
    S.UNINSTALLED: frozenset({S.PENDING_WHATSAPP}),
}


def after_payment(frozen_from: IntegrationStatus | None) -> IntegrationStatus:
    """Where a paid salon goes back to. An activation cut short by the freeze counts as failed: the owner's page
    retries it. Salons frozen before this was recorded were active (the only state a freeze applied to)."""
    if frozen_from in (S.PENDING_WHATSAPP, S.ACTIVATION_FAILED):
        return frozen_from
    if frozen_from == S.ACTIVATING:
        return S.ACTIVATION_FAILED
    return S.ACTIVE


class IllegalTransition(Conflict):
    code = "illegal_transition"


def can_transition(current: IntegrationStatus, target: IntegrationStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def check_transition(current: IntegrationStatus, target: IntegrationStatus) -> None:
    if not can_transition(current, target):
        raise IllegalTransition(
            f"integration status cannot go from {current} to {target}",
            details={"from": str(current), "to": str(target)},
        )
