"""Typed, tolerant views of YCLIENTS objects: ids and prices may be strings, `position` may be `[]`,
offsets come as `+03:00` or `+0300`, phones as integers or "+7…" strings."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from aiadmin.core.models import normalize_phone

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


def _text(v: Any) -> Any:
    v = _blank_to_none(v)
    return None if v is None else str(v)


# The coercions YCLIENTS's shapes need, each defined once.
BLANK = BeforeValidator(_blank_to_none)  # "", [] and {} (PHP's empty array) mean "none"
Text = Annotated[str | None, BeforeValidator(_text)]  # blank -> None, anything else as text
Name = Annotated[str, BeforeValidator(lambda v: "" if v is None else str(v))]
Phone = Annotated[str | None, BeforeValidator(normalize_phone)]
YcDateTime = Annotated[dt.datetime | None, BeforeValidator(parse_yc_datetime)]
AnyList = BeforeValidator(lambda v: _blank_to_none(v) or [])


class YcModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class YcCompany(YcModel):
    id: int
    title: str
    main_group_id: int | None = None  # the network (chain) the salon belongs to
    timezone_name: Text = None
    phone: Text = None
    email: Text = None
    address: Text = None
    city: Text = None


class YcUser(YcModel):
    """`GET /api/v1/company/{id}/users`: an account that can sign in to the salon (not a master, not a client)."""

    id: int
    name: Text = None
    phone: Phone = None
    is_approved: bool = True
    user_role_slug: Text = None  # owner | administrator | manager | …; YCLIENTS fills it for beauty salons only


class YcPosition(YcModel):
    id: int | None = None
    title: str | None = None


class YcStaff(YcModel):
    id: int
    name: str
    specialization: str | None = None
    position: Annotated[YcPosition | None, BLANK] = None  # PHP sends [] for "none"
    fired: bool = False
    hidden: bool = False
    status: int = 0  # 1 = deleted


class YcServiceStaff(YcModel):
    id: int
    seance_length: int | None = None  # seconds


class YcService(YcModel):
    id: int
    title: str
    category_id: Annotated[int | None, BLANK] = None
    price_min: float = 0
    price_max: float = 0
    duration: int | None = None  # seconds
    comment: Annotated[str | None, BLANK] = None
    active: bool = True
    weight: int = 0
    staff: Annotated[list[YcServiceStaff], AnyList] = []


class YcCategory(YcModel):
    id: int
    title: str
    weight: int = 0


class YcClient(YcModel):
    id: int
    name: Name = ""
    phone: Phone = None
    email: Text = None
    visits_count: int = 0
    sold_amount: float = 0
    first_visit_date: Text = None
    last_visit_date: Text = None


class YcInterval(YcModel):
    start: str = Field(alias="from")
    end: str = Field(alias="to")


class YcScheduleDay(YcModel):
    staff_id: int
    date: dt.date
    slots: Annotated[list[YcInterval], AnyList] = []
    busy_intervals: Annotated[list[YcInterval], AnyList] = []


class YcRecordService(YcModel):
    id: int
    title: str = ""
    cost: float = 0
    amount: int = 1


class YcRecordClient(YcModel):
    id: int | None = None
    name: Name = ""
    phone: Phone = None


class YcRecord(YcModel):
    id: int
    staff_id: int | None = None
    datetime: YcDateTime = None
    seance_length: int | None = None
    deleted: bool = False
    attendance: int = 0
    comment: Annotated[str | None, BLANK] = None
    services: Annotated[list[YcRecordService], AnyList] = []
    client: Annotated[YcRecordClient | None, BLANK] = None
    last_change_date: YcDateTime = None
    create_date: YcDateTime = None
    visit_id: int | None = None
    api_id: Text = None  # ours: the proposal a booking came from

    def is_complete(self) -> bool:
        """A webhook's `data` may be partial; a record without these is fetched again."""
        return self.datetime is not None and self.staff_id is not None and bool(self.services)


class YcSlot(YcModel):
    """One free start from `book_times`."""

    time: str
    seance_length: int | None = None
    datetime: Annotated[dt.datetime, BeforeValidator(parse_yc_datetime)]
