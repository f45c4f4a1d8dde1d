"""Typed, tolerant views of YCLIENTS objects: ids and prices may be strings, `position` may be `[]`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class YcCompany(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    title: str
    timezone_name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    city: str | None = None

    @field_validator("phone", "email", "address", "city", "timezone_name", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return None if v in (None, "", [], {}) else str(v)
