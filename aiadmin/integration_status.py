"""The salon's integration status machine. Illegal transitions are refused, never silently written."""

from __future__ import annotations

from enum import StrEnum

from aiadmin.errors import Conflict


class IntegrationStatus(StrEnum):
    PENDING_WHATSAPP = "pending_whatsapp"
    ACTIVATING = "activating"
    ACTIVE = "active"
    ACTIVATION_FAILED = "activation_failed"
    FROZEN = "frozen"
    UNINSTALLED = "uninstalled"


S = IntegrationStatus
ALLOWED_TRANSITIONS: dict[IntegrationStatus, frozenset[IntegrationStatus]] = {
    S.PENDING_WHATSAPP: frozenset({S.ACTIVATING, S.UNINSTALLED}),
    S.ACTIVATING: frozenset({S.ACTIVE, S.ACTIVATION_FAILED, S.UNINSTALLED}),
    S.ACTIVATION_FAILED: frozenset({S.ACTIVATING, S.UNINSTALLED}),
    S.ACTIVE: frozenset({S.FROZEN, S.UNINSTALLED}),
    S.FROZEN: frozenset({S.ACTIVE, S.UNINSTALLED}),
    S.UNINSTALLED: frozenset({S.PENDING_WHATSAPP}),
}


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
