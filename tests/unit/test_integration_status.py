import pytest

from aiadmin.core.integration_status import IllegalTransition, IntegrationStatus, after_payment, check_transition

S = IntegrationStatus
ALLOWED = {
    (S.PENDING_WHATSAPP, S.ACTIVATING),
    (S.ACTIVATING, S.ACTIVE),
    (S.ACTIVATING, S.ACTIVATION_FAILED),
    (S.ACTIVATION_FAILED, S.ACTIVATING),
    # YCLIENTS's billing applies in every state; a payment returns a frozen salon to where it was.
    (S.PENDING_WHATSAPP, S.FROZEN),
    (S.ACTIVATING, S.FROZEN),
    (S.ACTIVATION_FAILED, S.FROZEN),
    (S.ACTIVE, S.FROZEN),
    (S.FROZEN, S.ACTIVE),
    (S.FROZEN, S.PENDING_WHATSAPP),
    (S.FROZEN, S.ACTIVATION_FAILED),
    (S.UNINSTALLED, S.PENDING_WHATSAPP),
} | {(s, S.UNINSTALLED) for s in S if s != S.UNINSTALLED}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_the_designed_transitions_are_allowed(current, target):
    if (current, target) in ALLOWED:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition) as err:
            check_transition(current, target)
        assert err.value.status == 409


@pytest.mark.parametrize(
    ("frozen_from", "back"),
    [
        (S.ACTIVE, S.ACTIVE),
        (S.PENDING_WHATSAPP, S.PENDING_WHATSAPP),
        (S.ACTIVATION_FAILED, S.ACTIVATION_FAILED),
        (S.ACTIVATING, S.ACTIVATION_FAILED),  # the activation the freeze cut short is retried by the owner's page
        (None, S.ACTIVE),  # frozen before frozen_from was kept: only active salons could be frozen then
    ],
)
def test_a_payment_returns_a_frozen_salon_to_where_it_was(frozen_from, back):
    assert after_payment(frozen_from) == back
    check_transition(S.FROZEN, back)
