"""Payload validation: pydantic errors become a 400 that names every bad or missing field."""

from __future__ import annotations

import json
import math
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from aiadmin.core.errors import BadRequest, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        names = ", ".join(p["field"] for p in problems)
        raise BadRequest(
            f"invalid or missing fields: {names}", code="invalid_fields", details={"fields": problems}
        ) from exc


# What a public endpoint parses at most. Bodies are stored (webhook receipts): Firestore nests maps at most 20 deep
# and holds 64-bit integers and valid UTF-8 only, so anything beyond is refused here, with a 4xx, not at the write.
MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 12
INT64 = range(-(2**63), 2**63)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    body = dict(pairs)
    if len(body) != len(pairs):  # which value would count is the sender's guess: refuse, as ambiguous
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise BadRequest(f"duplicate key {key[:60]!r} in the JSON body", code="duplicate_key")
            seen.add(key)
    return body


def _no_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not a JSON number", code="malformed_json")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BadRequest(f"number {text[:40]} is out of range", code="number_out_of_range")
    return value


def _check_tree(body: Any) -> None:
    """Depth, integer range and storable text, walked without recursion."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise BadRequest(f"body nests deeper than {MAX_DEPTH} levels", code="too_deep")
            if isinstance(value, dict):
                stack.extend((k, depth) for k in value)
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int) and value not in INT64:
            raise BadRequest(f"number {str(value)[:40]} is out of range", code="number_out_of_range")
        elif isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise BadRequest("body has text that is not valid Unicode", code="malformed_json") from exc


def parse_json_object(raw: bytes, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """A JSON object that can be stored as received; anything else is a BadRequest saying what is wrong."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"body is larger than {max_bytes} bytes", code="body_too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("body is not UTF-8", code="malformed_json") from exc
    try:
        body = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError as exc:
        raise BadRequest(f"body nests deeper than {MAX_DEPTH} levels", code="too_deep") from exc
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python converts
        raise BadRequest(f"body is not valid JSON: {str(exc)[:200]}", code="malformed_json") from exc
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="malformed_json")
    _check_tree(body)
    return body
