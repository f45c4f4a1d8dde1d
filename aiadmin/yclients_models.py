"""Typed, tolerant views of YCLIENTS objects: ids and prices may be strings, `position` may be `[]`,
offsets come as `+03:00` or `+0300`, phones as integers or "+7…" strings."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


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


def normalize_phone(value: Any) -> str | None:
    """79161234567 / "+7 (916) 123-45-67" / "89161234567" -> "79161234567"; None when there are no digits."""
    digits = re.sub(r"\D", "", str(value or ""))
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]  # a Russian trunk prefix in a salon's own records
    return digits or None


class YcServiceStaff(YcModel):
    id: int
    seance_length: int | None = None  # seconds


class YcService(YcModel):
    id: int
    title: str
    category_id: int | None = None
    price_min: float = 0
    price_max: float = 0
    duration: int | None = None  # seconds
    comment: str | None = None
    active: bool = True
    weight: int = 0
    staff: list[YcServiceStaff] = []

    @field_validator("category_id", "comment", mode="before")
    @classmethod
    def _no_category(cls, v: Any) -> Any:
        return _blank_to_none(v)

    @field_validator("staff", mode="before")
    @classmethod
    def _no_staff(cls, v: Any) -> Any:
        return _blank_to_none(v) or []


class YcCategory(YcModel):
    id: int
    title: str
    weight: int = 0


class YcClient(YcModel):
    id: int
    name: str = ""
    phone: str | None = None
    email: str | None = None
    visits_count: int = 0
    sold_amount: float = 0
    first_visit_date: str | None = None
    last_visit_date: str | None = None

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v: Any) -> Any:
        return normalize_phone(v)

    @field_validator("email", "first_visit_date", "last_visit_date", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        v = _blank_to_none(v)
        return None if v is None else str(v)

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> Any:
        return "" if v is None else str(v)


class YcInterval(YcModel):
    start: str = Field(alias="from")
    end: str = Field(alias="to")


class YcScheduleDay(YcModel):
    staff_id: int
    date: dt.date
    slots: list[YcInterval] = []
    busy_intervals: list[YcInterval] = []

    @field_validator("slots", "busy_intervals", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return _blank_to_none(v) or []


class YcRecordService(YcModel):
    id: int
    title: str = ""
    cost: float = 0
    amount: int = 1


class YcRecordClient(YcModel):
    id: int | None = None
    name: str = ""
    phone: str | None = None

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v: Any) -> Any:
        return normalize_phone(v)

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> Any:
        return "" if v is None else str(v)


class YcRecord(YcModel):
    id: int
    staff_id: int | None = None
    datetime: dt.datetime | None = None
    seance_length: int | None = None
    deleted: bool = False
    attendance: int = 0
    comment: str | None = None
    services: list[YcRecordService] = []
    client: YcRecordClient | None = None
    last_change_date: dt.datetime | None = None
    api_id: str | None = None  # ours: the proposal a booking came from

    @field_validator("api_id", mode="before")
    @classmethod
    def _api_id(cls, v: Any) -> Any:
        v = _blank_to_none(v)
        return None if v is None else str(v)

    @field_validator("datetime", "last_change_date", mode="before")
    @classmethod
    def _dt(cls, v: Any) -> Any:
        return parse_yc_datetime(v)

    @field_validator("services", mode="before")
    @classmethod
    def _services(cls, v: Any) -> Any:
        return _blank_to_none(v) or []

    @field_validator("client", "comment", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return _blank_to_none(v)

    def is_complete(self) -> bool:
        """A webhook's `data` may be partial; a record without these is fetched again."""
        return self.datetime is not None and self.staff_id is not None and bool(self.services)


class YcSlot(YcModel):
    """One free start from `book_times`."""

    time: str
    seance_length: int | None = None
    datetime: dt.datetime

    @field_validator("datetime", mode="before")
    @classmethod
    def _dt(cls, v: Any) -> Any:
        return parse_yc_datetime(v)
