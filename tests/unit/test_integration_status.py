import pytest

from aiadmin.integration_status import IllegalTransition, IntegrationStatus, check_transition

S = IntegrationStatus
ALLOWED = {
    (S.PENDING_WHATSAPP, S.ACTIVATING),
    (S.ACTIVATING, S.ACTIVE),
    (S.ACTIVATING, S.ACTIVATION_FAILED),
    (S.ACTIVATION_FAILED, S.ACTIVATING),
    (S.ACTIVE, S.FROZEN),
    (S.FROZEN, S.ACTIVE),
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
