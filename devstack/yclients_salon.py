"""One salon's data inside the YCLIENTS stand-in: mutable, so tests and people can change what YCLIENTS holds
(a price, a fired master, a cancelled record) and see the sync follow. The demo salon is small and curated;
`Salon.large(...)` builds one of any size. Some objects come in YCLIENTS's legacy shapes on purpose: string ids
and prices, `position: []`, offsets without a colon."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devstack import yclients_demo_data as demo

MOSCOW = "Europe/Moscow"


def _offset(zone: str, at: datetime, colon: bool = True) -> str:
    """«+03:00» (or YCLIENTS's create/last-change form «+0300») of the salon's zone at that wall-clock time."""
    delta = ZoneInfo(zone).utcoffset(at)
    assert delta is not None
    minutes = int(delta.total_seconds() // 60)
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    return f"{sign}{minutes // 60:02d}{':' if colon else ''}{minutes % 60:02d}"


def _stamp(at: datetime, zone: str = MOSCOW) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S") + _offset(zone, at, colon=False)


def _now(zone: str = MOSCOW) -> datetime:
    """The salon's wall clock, as YCLIENTS stamps changes (the demo salons are in Moscow unless told)."""
    return datetime.now(ZoneInfo(zone)).replace(tzinfo=None, microsecond=0)


@dataclass
class Salon:
    salon_id: int
    company: dict[str, Any]
    categories: list[dict[str, Any]]
    services: dict[int, dict[str, Any]]
    staff: dict[int, dict[str, Any]]
    clients: dict[int, dict[str, Any]]
    records: dict[int, dict[str, Any]]
    users: list[dict[str, Any]] = field(default_factory=list)  # who can sign in to the salon in YCLIENTS
    staff_days_off: int = demo.DAYS_OFF
    lock: threading.RLock = field(default_factory=threading.RLock)
    zone: str = MOSCOW  # the salon's time zone: its wall-clock times and the offsets YCLIENTS writes

    # --- builders ------------------------------------------------------------------------------------------

    @classmethod
    def demo(cls, salon_id: int, today: date | None = None, zone: str = MOSCOW) -> Salon:
        services = {s["id"]: s for s in demo.services()}
        for i, sid in enumerate(sorted(services)):
            if i % 4 == 1:  # legacy: ids and prices as strings
                svc = services[sid]
                svc.update(id=str(sid), price_min=f"{svc['price_min']:.2f}", price_max=f"{svc['price_max']:.2f}")
        staff = {s["id"]: s for s in demo.staff()}
        staff[max(staff)]["position"] = []  # PHP's empty array for "no position"
        clients = {c["id"]: c for c in demo.clients()}
        records = {r["id"]: r for r in demo.records(today or _now(zone).date())}
        made = _now(zone) - timedelta(days=1)  # booked yesterday
        for rec in records.values():
            rec["create_date"] = rec["last_change_date"] = _stamp(made, zone)
            at = datetime.fromisoformat(rec["datetime"]).replace(tzinfo=None)
            rec["datetime"] = at.strftime("%Y-%m-%dT%H:%M:%S") + _offset(zone, at)
        company = demo.company(salon_id)
        company["timezone_name"], company["timezone"] = zone, int(_offset(zone, made)[:3])
        salon = cls(salon_id, company, demo.categories(), services, staff, clients, records, zone=zone)
        salon.users = demo.users(salon_id)
        return salon

    @classmethod
    def large(
        cls,
        salon_id: int,
        *,
        clients: int = 5000,
        staff: int = 25,
        services: int = 200,
        records: int = 3000,
        past_records: int = 0,
        days: int = 30,
        today: date | None = None,
        seed: int = 1,
    ) -> Salon:
        rnd = random.Random(seed)
        today = today or _now().date()
        categories = [
            {"id": 100 + i, "title": f"Категория {i + 1}", "weight": i} for i in range(max(1, services // 20))
        ]
        staff_map: dict[int, dict[str, Any]] = {}
        for i in range(staff):
            sid = 3000 + i
            staff_map[sid] = {
                "id": sid,
                "name": f"{rnd.choice(demo.FIRST_NAMES)} {rnd.choice(demo.LAST_NAMES)}",
                "specialization": "Мастер",
                "position": {"id": 1, "title": "Мастер"} if i % 5 else [],
                "fired": 0,
                "status": 0,
                "hidden": 0,
            }
        staff_ids = list(staff_map)
        service_map: dict[int, dict[str, Any]] = {}
        for i in range(services):
            sid = 10000 + i
            minutes = rnd.choice([30, 45, 60, 90, 120])
            price = rnd.randrange(800, 9000, 100)
            masters = rnd.sample(staff_ids, k=min(len(staff_ids), rnd.randint(1, 6)))
            service_map[sid] = {
                "id": sid if i % 3 else str(sid),
                "title": f"Услуга {i + 1}",
                "category_id": categories[i % len(categories)]["id"],
                "price_min": price if i % 3 else f"{price:.2f}",
                "price_max": price + rnd.choice([0, 0, 500]),
                "duration": minutes * 60,
                "active": 1,
                "staff": [{"id": m, "seance_length": minutes * 60} for m in masters],
            }
        client_map = {
            50000 + i: {
                "id": 50000 + i,
                "name": f"{rnd.choice(demo.FIRST_NAMES)} {rnd.choice(demo.LAST_NAMES)}",
                "phone": 79000000000 + i,
                "email": "",
                "visits_count": rnd.randint(0, 40),
                "sold_amount": rnd.randint(0, 200000),
            }
            for i in range(clients)
        }
        salon = cls(salon_id, demo.company(salon_id), categories, service_map, staff_map, client_map, {})
        salon.users = demo.users(salon_id)
        client_ids = list(client_map)
        taken: dict[tuple[int, date], list[tuple[int, int]]] = {}
        for i in range(records + past_records):
            svc = service_map[rnd.choice(list(service_map))]
            length_min = int(svc["duration"]) // 60
            for _ in range(50):  # a full salon has no room left: then the record overlaps, as a double booking
                master = rnd.choice(svc["staff"])["id"]
                day = today + timedelta(days=rnd.randrange(days) if i < records else -rnd.randint(1, 60))
                start = rnd.randint(10, 19) * 60 + rnd.choice([0, 15, 30, 45])
                busy = taken.setdefault((master, day), [])
                if demo.works(master, day) and demo.fits(start, length_min, busy):
                    break
            busy.append((start, start + length_min))
            when = datetime.combine(day, datetime.min.time()) + timedelta(minutes=start)
            salon.put_record(600000 + i, master, int(svc["id"]), when, rnd.choice(client_ids), length=length_min * 60)
        made = _now() - timedelta(days=1)  # booked before today, as in a salon that has been running a while
        for rec in salon.records.values():
            rec["create_date"] = rec["last_change_date"] = _stamp(made)
        return salon

    # --- reads as YCLIENTS answers them -----------------------------------------------------------------------

    def schedule(self, start: date, end: date) -> list[dict[str, Any]]:
        """Working hours per master and day, with the records as busy intervals."""
        busy: dict[tuple[int, str], list[dict[str, Any]]] = {}
        with self.lock:
            for rec in self.records.values():
                if rec["deleted"]:
                    continue
                begins = datetime.fromisoformat(rec["datetime"])
                ends = begins + timedelta(seconds=rec["seance_length"])
                key = (rec["staff_id"], begins.date().isoformat())
                busy.setdefault(key, []).append(
                    {"entity_type": "record", "entity_id": rec["id"], "from": f"{begins:%H:%M}", "to": f"{ends:%H:%M}"}
                )
            masters = [s for s in self.staff.values() if not s["fired"] and not s["status"]]
        out = []
        day = start
        while day <= end:
            for master in masters:
                if not demo.works(master["id"], day, self.staff_days_off):
                    continue
                out.append(
                    {
                        "staff_id": master["id"],
                        "date": day.isoformat(),
                        "slots": [{"from": a, "to": b} for a, b in demo.WORKING_HOURS],
                        "busy_intervals": sorted(busy.get((int(master["id"]), day.isoformat()), []), key=str),
                        "off_day_type": None,
                    }
                )
            day += timedelta(days=1)
        return out

    def find_records(
        self,
        start: date | None = None,
        end: date | None = None,
        changed_after: datetime | None = None,
        with_deleted: bool = False,
    ) -> list[dict[str, Any]]:
        with self.lock:
            found = []
            for rec in self.records.values():
                on = datetime.fromisoformat(rec["datetime"]).date()
                if (start and on < start) or (end and on > end):
                    continue
                if changed_after and datetime.fromisoformat(_colon(rec["last_change_date"])) <= changed_after:
                    continue
                if rec["deleted"] and not with_deleted:
                    continue
                found.append(rec)
            return sorted(found, key=lambda r: (r["datetime"], r["id"]))

    # --- changes ----------------------------------------------------------------------------------------------

    def put_record(
        self,
        record_id: int,
        staff_id: int,
        service_id: int,
        when: datetime,
        client_id: int | None,
        *,
        length: int = 3600,
        deleted: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            svc = self.services[service_id]
            master = self.staff[staff_id]
            client = self.clients.get(client_id) if client_id else None
            now = _now(self.zone)
            rec = {
                "id": record_id,
                "company_id": self.salon_id,
                "staff_id": staff_id,
                "date": when.strftime("%Y-%m-%d %H:%M:%S"),
                "datetime": when.strftime("%Y-%m-%dT%H:%M:%S") + _offset(self.zone, when),
                "create_date": _stamp(self.records.get(record_id, {}).get("_created", now), self.zone),
                "_created": self.records.get(record_id, {}).get("_created", now),
                "last_change_date": _stamp(now, self.zone),
                "seance_length": length,
                "length": length,
                "attendance": self.records.get(record_id, {}).get("attendance", 0),
                "visit_id": record_id + 5_000_000,
                "confirmed": 1,
                "deleted": deleted,
                "comment": "",
                "services": [
                    {"id": int(svc["id"]), "title": svc["title"], "cost": float(svc["price_min"]), "amount": 1}
                ],
                "staff": {"id": staff_id, "name": master["name"], "specialization": master.get("specialization")},
                "client": {"id": client["id"], "name": client["name"], "phone": f"+{client['phone']}"}
                if client
                else None,
            }
            self.records[record_id] = rec
            return rec

    def free_times(self, staff_id: int, day: date, length_s: int, step_min: int = 30) -> list[dict[str, Any]]:
        """What `book_times` answers: starts on a grid inside working hours that fit `length_s` without touching
        a busy interval (and none in the past)."""
        days = [d for d in self.schedule(day, day) if int(d["staff_id"]) == staff_id]
        if not days:
            return []
        busy = [(demo.minutes_of(b["from"]), demo.minutes_of(b["to"])) for b in days[0]["busy_intervals"]]
        now = _now(self.zone)
        out = []
        for slot in days[0]["slots"]:
            start, end = demo.minutes_of(slot["from"]), demo.minutes_of(slot["to"])
            t = start
            while t + length_s // 60 <= end:
                fits = all(t + length_s // 60 <= b0 or t >= b1 for b0, b1 in busy)
                at = datetime.combine(day, datetime.min.time()) + timedelta(minutes=t)
                if fits and at > now:
                    out.append(
                        {
                            "time": f"{t // 60:02d}:{t % 60:02d}",
                            "seance_length": length_s,
                            "sum_length": length_s,
                            "datetime": at.strftime("%Y-%m-%dT%H:%M:%S") + _offset(self.zone, at),
                        }
                    )
                t += step_min
        return out

    def book(self, staff_id: int, service_id: int, when: datetime, phone: str, name: str, api_id: str | None) -> int:
        """`book_record`: 433 (the time is taken) raises ValueError; returns the new record id."""
        with self.lock:
            length = int(self.services[service_id].get("duration") or 3600)
            free = {s["time"] for s in self.free_times(staff_id, when.date(), length)}
            if f"{when:%H:%M}" not in free:
                raise ValueError("433")
            client = next((c for c in self.clients.values() if str(c["phone"]).lstrip("+") == phone), None)
            if client is None:
                cid = max(self.clients, default=90000) + 1
                client = self.clients[cid] = {"id": cid, "name": name, "phone": int(phone), "email": ""}
            rid = max(self.records, default=700000) + 1
            rec = self.put_record(rid, staff_id, service_id, when, client["id"], length=length)
            rec["api_id"] = api_id or ""
            return rid

    def delete_record(self, record_id: int) -> dict[str, Any]:
        with self.lock:
            rec = self.records[record_id]
            rec.update(deleted=True, last_change_date=_stamp(_now(self.zone), self.zone))
            return rec


def _colon(stamp: str) -> str:
    return stamp[:-2] + ":" + stamp[-2:] if stamp[-5] in "+-" and ":" not in stamp[-5:] else stamp


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the API shows it (without the stand-in's own bookkeeping)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
