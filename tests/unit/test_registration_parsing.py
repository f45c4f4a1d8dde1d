import pytest
from werkzeug.datastructures import MultiDict

from aiadmin.core.errors import BadRequest, Forbidden
from aiadmin.core.settings import Settings
from aiadmin.marketplace.registration import parse_redirect, parse_salon_ids


def ids(pairs):
    return parse_salon_ids(MultiDict(pairs))


def test_single_and_multi_branch_forms_are_all_understood_in_order():
    assert ids([("salon_id", "962302")]) == [962302]
    assert ids([("salon_ids[]", "2"), ("salon_ids[]", "1")]) == [2, 1]
    assert ids([("salon_ids[1]", "7"), ("salon_ids[0]", "5")]) == [5, 7]
    assert ids([("salon_id", "5"), ("salon_ids[0]", "5"), ("salon_ids[1]", "6")]) == [5, 6]


@pytest.mark.parametrize("value", ["", "abc", "12.5", "-3", "0"])
def test_missing_or_non_numeric_salon_ids_are_refused(value):
    with pytest.raises(BadRequest):
        ids([("salon_id", value)])
    with pytest.raises(BadRequest):
        ids([])


def test_unsigned_links_are_never_accepted_outside_local_even_when_the_flag_is_set():
    args = MultiDict([("salon_id", "1"), ("user_name", "x")])
    prod = Settings(env="prod", allow_unsigned_redirects=True, yclients_partner_token="p")
    with pytest.raises(Forbidden):
        parse_redirect(args, prod)
    local = Settings(env="local", allow_unsigned_redirects=True, yclients_partner_token="p")
    assert parse_redirect(args, local).user.name == "x"


def test_a_half_signed_link_is_refused():
    with pytest.raises(Forbidden):
        parse_redirect(MultiDict([("salon_id", "1"), ("user_data", "e30=")]), Settings(yclients_partner_token="p"))
