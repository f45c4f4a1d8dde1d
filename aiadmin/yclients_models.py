"""Typed, tolerant views of YCLIENTS objects: ids and prices may be strings, `position` may be `[]`,
offsets come as `+03:00` or `+0300`. The sync issue adds the rest of the catalogue on the same pattern."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

_OFFSET_NO_COLON = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_yc_datetime(value: Any) -> dt.datetime | None:
    """'2025-07-13T12:10:00+0500', '2025-07-13T12:10:00+05:00' and '2025-07-13 12:10:00' (salon-local, naive)."""
    if value in (None, "", 0):
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(_OFFSET_NO_COLON.sub(r"\1:\2", str(value).strip()))


def _blank_to_none(v: Any) -> Any:
    return None if v in (None, "", [], {}) else v


class YcModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class YcCompany(YcModel):
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
        v = _blank_to_none(v)
        return None if v is None else str(v)


class YcPosition(YcModel):
    id: int | None = None
    title: str | None = None


class YcStaff(YcModel):
    id: int
    name: str
    specialization: str | None = None
    position: YcPosition | None = None  # PHP sends [] for "none"
    fired: bool = False
    hidden: bool = False
    status: int = 0  # 1 = deleted

    @field_validator("position", mode="before")
    @classmethod
    def _no_position(cls, v: Any) -> Any:
        return _blank_to_none(v)


class YcService(YcModel):
    id: int
    title: str
    category_id: int | None = None
    price_min: float = 0
    price_max: float = 0
    duration: int | None = None  # seconds

    @field_validator("category_id", mode="before")
    @classmethod
    def _no_category(cls, v: Any) -> Any:
        return _blank_to_none(v)


class YcRecord(YcModel):
    id: int
    staff_id: int | None = None
    datetime: dt.datetime | None = None
    seance_length: int | None = None
    deleted: bool = False

    @field_validator("datetime", mode="before")
    @classmethod
    def _dt(cls, v: Any) -> Any:
        return parse_yc_datetime(v)
