"""Payload validation: pydantic errors become a 400 that names every bad or missing field."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from aiadmin.errors import BadRequest

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


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}", code="malformed_json") from exc
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="malformed_json")
    return body
