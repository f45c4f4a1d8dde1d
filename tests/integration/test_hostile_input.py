"""Malformed and hostile requests on every public route, through the real gateway: each gets a clear 4xx with a JSON
error (or the HTML error page on the browser's redirect), nothing is stored or queued, and no handler crashes.
The named cases come from a few hundred hand-made requests; the property test generates thousands more."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from aiadmin.core.models import SalonId
from aiadmin.marketplace import webhook_url_token
from tests.conftest import APP_ID, GATEWAY, PARTNER_TOKEN, WEBHOOK_SECRET
from tests.integration.helpers import register, token_with

SALON = 962302
HOOK_PATH = f"/webhook/yclients/{SALON}/{webhook_url_token.token_for(WEBHOOK_SECRET, SALON)}"
JSON = {"Content-Type": "application/json"}


class Unhandled(logging.Handler):
    """Every error the functions log while the test runs (an unhandled exception is logged at ERROR)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture
def world(stack, db) -> Iterator[dict[str, Any]]:
    """A registered salon with a valid onboarding token; yields it and, afterwards, proves nothing changed."""
    token = register()
    stack.dispatcher.wait_idle()
    before = _snapshot(db, stack)
    errors = Unhandled()
    logging.getLogger().addHandler(errors)
    try:
        yield {"token": token}
    finally:
        logging.getLogger().removeHandler(errors)
    stack.dispatcher.wait_idle()
    assert _snapshot(db, stack) == before, "a refused request changed stored state or queued work"
    assert errors.records == [], errors.records[:5]


def _snapshot(db, stack) -> dict[str, Any]:
    docs: dict[str, Any] = {}

    def walk(collections) -> None:
        for coll in collections:
            for snap in coll.stream():
                docs[snap.reference.path] = snap.update_time
                walk(snap.reference.collections())

    walk(db.collections())
    return {"docs": docs, "tasks": sorted(t["name"] for t in stack.dispatcher.listing(None, None))}


def call(method: str, path: str, body: bytes | None = None, headers: dict | None = None, **kw) -> requests.Response:
    return requests.request(method, f"{GATEWAY}{path}", data=body, headers=headers or {}, timeout=30, **kw)


def assert_refused(resp: requests.Response, *statuses: int) -> dict:
    assert resp.status_code in statuses, (resp.status_code, resp.text[:300])
    body = resp.json()
    assert body["success"] is False and body["error"]["code"] and body["error"]["message"], body
    return body["error"]


def deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


# --- the cases that answered 500 ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/webhook/yclients", HOOK_PATH, "/marketplace/activate"])
def test_deeply_nested_json_is_a_400_not_a_crash(world, path):
    for levels in (13, 3000, 100_000):
        err = assert_refused(call("POST", path, deep(levels), JSON), 400, 413)
        assert err["code"] in ("too_deep", "body_too_large")


def test_a_salon_id_beyond_any_real_one_is_a_400(world):
    for salon_id in (10**30, 2**63, -1, 0, "962302abc", 1.5, None, [962302]):
        body = {"salon_id": salon_id, "application_id": APP_ID, "event": "freeze", "partner_token": PARTNER_TOKEN}
        err = assert_refused(call("POST", "/webhook/yclients", json=body), 400)
        assert "salon_id" in err["message"] or err["code"] == "number_out_of_range", err


def test_bodies_that_cannot_be_stored_as_sent_are_refused(world):
    lifecycle = b'{"salon_id": 962302, "application_id": %s, "event": "freeze", "partner_token": "%s"%s}'
    cases = {
        b"\xff\xfe{}": "malformed_json",  # not UTF-8
        lifecycle % (APP_ID.encode(), PARTNER_TOKEN.encode(), b', "event": "uninstall"'): "duplicate_key",
        lifecycle % (APP_ID.encode(), PARTNER_TOKEN.encode(), b', "x": NaN'): "malformed_json",
        lifecycle % (APP_ID.encode(), PARTNER_TOKEN.encode(), b', "x": 1e999'): "number_out_of_range",
        lifecycle % (APP_ID.encode(), PARTNER_TOKEN.encode(), b', "x": "\\ud800"'): "malformed_json",
        lifecycle % (APP_ID.encode(), PARTNER_TOKEN.encode(), b', "x": ' + b"9" * 5000): "malformed_json",
        b"[1, 2]": "malformed_json",
        b"": "malformed_json",
    }
    for raw, code in cases.items():
        assert assert_refused(call("POST", "/webhook/yclients", raw, JSON), 400)["code"] == code, raw[:80]


def test_wrong_content_type_size_and_query_get_their_own_status(world):
    form = call("POST", "/webhook/yclients", b"salon_id=1", {"Content-Type": "application/x-www-form-urlencoded"})
    assert assert_refused(form, 415)["code"] == "unsupported_media_type"
    big = call("POST", HOOK_PATH, b'{"a": "' + b"x" * 300_000 + b'"}', JSON)
    assert assert_refused(big, 413)["code"] == "body_too_large"
    long_query = call("GET", "/marketplace/api/session", params={"q": "x" * 10_000})
    assert assert_refused(long_query, 414)["code"] == "uri_too_long"
    page = call("GET", "/auth/yclients/redirect", params={"salon_id": "1", "pad": "x" * 10_000})
    assert page.status_code == 414 and "Слишком длинная ссылка" in page.text


def test_redirect_with_impossible_salon_ids_is_a_400_page(world):
    for value in ("1" * 5000, "10000000000000000000000000000000", "٣", "²", "-5", "0x10"):
        resp = call("GET", "/auth/yclients/redirect", params={"salon_id": value})
        assert resp.status_code == 400 and "Неверная ссылка" in resp.text, (value[:20], resp.status_code)


# --- generated: thousands of hostile requests ---------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _is_salon_id(value: Any) -> bool:
    try:
        TypeAdapter(SalonId).validate_python(value)
    except ValidationError:
        return False
    return True


hostile_ids = st.one_of(
    st.integers(min_value=2**53, max_value=10**40),
    st.integers(max_value=0),
    st.text(max_size=20),
    st.floats(),
    st.none(),
    st.lists(st.integers(), max_size=3),
).filter(lambda v: not _is_salon_id(v))  # "1" and 5.0 are ids YCLIENTS may send: a stored receipt, rightly


def _encode(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.integers(min_value=13, max_value=4000).map(deep),
    st.integers(min_value=13, max_value=2000).map(lambda n: b"[" * n + b"]" * n),
    json_values.map(_encode),
    st.integers(min_value=19, max_value=400).map(lambda n: b'{"salon_id": ' + b"7" * n + b"}"),
    st.sampled_from([b"NaN", b'{"a": Infinity}', b'{"a": "\\udfff"}', b'{"a":1,"a":1}', b"\x00", b"{"]),
)
content_types = st.sampled_from(
    [None, "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"]
)
header_text = st.from_regex(r"[!-~]{0,60}", fullmatch=True)  # what an HTTP client can put in a header
junk_tokens = st.one_of(header_text, st.just(token_with(secret="x" * 40)), st.just("a.b.c"))


@st.composite
def hostile_requests(draw, valid_token: str) -> tuple[str, str, bytes | None, dict[str, str], dict[str, str]]:
    ctype = draw(content_types)
    headers = {"Content-Type": ctype} if ctype else {}
    kind = draw(st.sampled_from(["lifecycle", "data", "activate", "api", "pairing", "redirect", "health"]))
    if kind == "lifecycle":
        body = draw(
            raw_bodies
            | hostile_ids.map(
                lambda sid: _encode(
                    {"salon_id": sid, "application_id": APP_ID, "event": "freeze", "partner_token": PARTNER_TOKEN}
                )
            )
        )
        return "POST", "/webhook/yclients", body, headers, {}
    if kind == "data":
        path = draw(st.sampled_from([HOOK_PATH, f"/webhook/yclients/{'9' * 5000}/x", "/webhook/yclients/%FF/%00"]))
        body = draw(
            raw_bodies
            | hostile_ids.map(
                lambda sid: _encode({"company_id": sid, "resource": "record", "resource_id": 1, "status": "update"})
            )
        )
        return "POST", path, body, headers, {}
    if kind == "activate":
        body = draw(raw_bodies | junk_tokens.map(lambda t: _encode({"token": t})))
        return "POST", "/marketplace/activate", body, headers, {}
    if kind == "api":
        method, path = draw(
            st.sampled_from(
                [
                    ("GET", "/marketplace/api/session"),
                    ("POST", "/marketplace/api/qr"),
                    ("GET", "/marketplace/api/status/company_962302"),
                    ("GET", "/marketplace/api/status/..%2F..%2Fcompanies"),
                    ("DELETE", "/marketplace/api/session"),
                ]
            )
        )
        auth = draw(junk_tokens.map(lambda t: "Bearer " + t) | header_text)
        return method, path, draw(raw_bodies | st.none()), {**headers, "Authorization": auth}, {}
    if kind == "pairing":  # a valid token, a phone that is never a phone
        phone = draw(json_values.filter(lambda v: not (isinstance(v, str) and v.strip("+ ").isdigit())))
        body = draw(raw_bodies | st.just(_encode({"phone_number": phone})))
        return "POST", "/marketplace/api/pairing-code", body, {**headers, "Authorization": f"Bearer {valid_token}"}, {}
    if kind == "redirect":
        params = draw(
            st.dictionaries(
                st.sampled_from(["salon_id", "salon_ids[]", "salon_ids[0]", "user_data", "user_data_sign", "x"]),
                st.text(max_size=80) | st.integers(min_value=10**15, max_value=10**4000).map(str),
                max_size=5,
            )
        )
        return "GET", "/auth/yclients/redirect", None, {}, params
    method = draw(st.sampled_from(["POST", "PUT", "DELETE"]))
    return method, "/marketplace/health", draw(raw_bodies), headers, {}


@settings(
    max_examples=2500,
    deadline=None,
    derandomize=True,  # the same requests on every run and machine: a red run is a bug, never bad luck
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_hostile_requests_are_refused_and_change_nothing(world, data):
    method, path, body, headers, params = data.draw(hostile_requests(world["token"]))
    resp = requests.request(method, f"{GATEWAY}{path}", data=body, headers=headers, params=params, timeout=30)
    seen = (method, path, (body or b"")[:120], resp.status_code, resp.text[:300])
    assert 400 <= resp.status_code < 500, seen
    if resp.headers.get("Content-Type", "").startswith("application/json"):
        assert resp.json()["error"]["code"], seen
