import time

import jwt
import pytest

from aiadmin.core.errors import Gone, Unauthorized
from aiadmin.marketplace import registration_token

SECRET = "s" * 40


def test_a_fresh_token_verifies_with_its_salon_and_branches():
    claims = registration_token.verify(SECRET, registration_token.issue(SECRET, 42, [42, 43], 3600), 3600)
    assert claims.salon_id == 42 and claims.branches == [42, 43] and claims.exp - claims.iat == 3600


def test_an_expired_token_is_gone():
    token = registration_token.issue(SECRET, 42, [42], 3600, now=time.time() - 3700)
    with pytest.raises(Gone):
        registration_token.verify(SECRET, token, 3600)


def test_wrong_secret_wrong_type_or_none_algorithm_are_unauthorized():
    with pytest.raises(Unauthorized):
        registration_token.verify("other" * 10, registration_token.issue(SECRET, 42, [42], 3600), 3600)
    now = int(time.time())
    base = {"sub": "42", "salon_id": 42, "jti": "j", "iat": now, "exp": now + 60}
    with pytest.raises(Unauthorized):
        registration_token.verify(SECRET, jwt.encode({**base, "type": "session"}, SECRET, algorithm="HS256"), 3600)
    unsigned = jwt.encode({**base, "type": "marketplace_registration"}, None, algorithm="none")
    with pytest.raises(Unauthorized):
        registration_token.verify(SECRET, unsigned, 3600)


def test_a_token_that_lives_longer_than_a_registration_is_refused_before_its_exp():
    """Signed with our secret but with a far exp (an old release, a leaked secret in a test): its lifetime counts,
    not its exp; and a token older than the lifetime is gone even if its exp is still ahead."""
    long_lived = registration_token.issue(SECRET, 42, [42], 30 * 24 * 3600)
    with pytest.raises(Unauthorized):
        registration_token.verify(SECRET, long_lived, 3600)
    now = int(time.time())
    stale = jwt.encode(
        {
            "sub": "42",
            "salon_id": 42,
            "jti": "j",
            "type": "marketplace_registration",
            "iat": now - 7200,
            "exp": now + 60,
        },
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises((Gone, Unauthorized)):
        registration_token.verify(SECRET, stale, 3600)
