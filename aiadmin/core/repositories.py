"""Firestore paths and small typed accessors. One place knows where each document lives."""

from __future__ import annotations

from typing import Any

from google.cloud import firestore

from aiadmin.core.models import Company, Event, WaCommand, WebhookReceipt

COMPANIES = "companies"
EVENTS = "events"
WEBHOOK_RECEIPTS = "webhook_receipts"
WA_COMMANDS = "wa_commands"
POST_ACTIVATION = "post_activation"


def company_ref(db: firestore.Client, salon_id: int) -> firestore.DocumentReference:
    return db.collection(COMPANIES).document(str(salon_id))


def receipt_ref(db: firestore.Client, key: str) -> firestore.DocumentReference:
    return db.collection(WEBHOOK_RECEIPTS).document(key)


def post_activation_ref(db: firestore.Client, salon_id: int) -> firestore.DocumentReference:
    return db.collection(POST_ACTIVATION).document(str(salon_id))


def load_company(snapshot: firestore.DocumentSnapshot) -> Company | None:
    return Company.model_validate(snapshot.to_dict()) if snapshot.exists else None


def get_company(db: firestore.Client, salon_id: int, transaction: Any = None) -> Company | None:
    return load_company(company_ref(db, salon_id).get(transaction=transaction))


def add_event(writer: Any, db: firestore.Client, event: Event, event_id: str | None = None) -> None:
    """Write an event through a batch or transaction (`writer`), so it lands with the change it records.

    A deterministic `event_id` makes a retried handler overwrite its own event instead of adding a twin.
    """
    events = company_ref(db, event.salon_id).collection(EVENTS)
    ref = events.document(event_id) if event_id else events.document()
    writer.set(ref, event.to_firestore())


def list_events(db: firestore.Client, salon_id: int) -> list[Event]:
    docs = company_ref(db, salon_id).collection(EVENTS).order_by("at").stream()
    return [Event.model_validate(d.to_dict()) for d in docs]


def record_command(writer: Any, db: firestore.Client, command: WaCommand, command_id: str) -> None:
    writer.set(db.collection(WA_COMMANDS).document(command_id), command.to_firestore())


def load_receipt(snapshot: firestore.DocumentSnapshot) -> WebhookReceipt | None:
    return WebhookReceipt.model_validate(snapshot.to_dict()) if snapshot.exists else None
