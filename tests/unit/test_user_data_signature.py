import base64
import hashlib
import hmac
import json

import pytest

from aiadmin.core.errors import Forbidden
from aiadmin.marketplace.user_data_signature import encode_user_data, verify_user_data

TOKEN = "partner-token-123"
# Chosen so the base64url form contains '-' and '_' (the alphabet real YCLIENTS links use).
PAYLOAD = {"id": 1234567, "name": "Анна Иванова", "salon_name": "Салон «Ёлка»>>??"}


def yclients_link_parts(payload: dict, key: str = TOKEN) -> tuple[str, str]:
    """Independent of the code under test: what YCLIENTS does (HMAC over the JSON bytes)."""
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode(), hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()


def test_a_genuine_yclients_signature_verifies_and_yields_the_user():
    user_data, sign = yclients_link_parts(PAYLOAD)
    assert "-" in user_data or "_" in user_data
    assert verify_user_data(user_data, sign, TOKEN)["name"] == "Анна Иванова"


def test_standard_alphabet_missing_padding_and_uppercase_hex_are_tolerated():
    user_data, sign = yclients_link_parts(PAYLOAD)
    standard = user_data.replace("-", "+").replace("_", "/").rstrip("=")
    assert verify_user_data(standard, sign.upper(), TOKEN)["id"] == 1234567


def test_a_signature_over_the_base64_text_instead_of_the_json_is_refused():
    user_data, _ = yclients_link_parts(PAYLOAD)
    wrong = hmac.new(TOKEN.encode(), user_data.encode(), hashlib.sha256).hexdigest()
    with pytest.raises(Forbidden):
        verify_user_data(user_data, wrong, TOKEN)


def test_another_partners_key_or_tampered_data_is_refused():
    user_data, sign = yclients_link_parts(PAYLOAD, key="someone-else")
    with pytest.raises(Forbidden):
        verify_user_data(user_data, sign, TOKEN)
    user_data, sign = yclients_link_parts(PAYLOAD)
    other, _ = yclients_link_parts({**PAYLOAD, "id": 1})
    with pytest.raises(Forbidden):
        verify_user_data(other, sign, TOKEN)


def test_user_id_key_is_accepted_as_id():
    user_data, sign = yclients_link_parts({"user_id": 55, "name": "Altegio"})
    assert verify_user_data(user_data, sign, TOKEN)["id"] == 55


def test_our_encoder_matches_what_yclients_does():
    assert encode_user_data(PAYLOAD, TOKEN) == yclients_link_parts(PAYLOAD)
