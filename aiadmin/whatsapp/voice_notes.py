"""A customer's voice note: its audio, kept beside the message (`conversations/{id}/voice/{message_id}`) until the
turn has heard it, and the words the model heard, kept on the message itself for the owner page."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from google.cloud import firestore
from pydantic import Field

from aiadmin.core.models import Document, utcnow
from aiadmin.whatsapp.chat import CONVERSATIONS, conversation_id

log = logging.getLogger("aiadmin.voice_notes")

VOICE = "voice"
# What the host downloads at all. A minute of WhatsApp's Opus is ~100 KB; the cap keeps the audio, the journal entry
# that carries it and the stored copy far inside Firestore's 1 MiB document.
MAX_SECONDS = 120
MAX_BYTES = 600_000
MAX_NOTES = 3  # heard in one model call: the latest of a burst
MAX_BYTES_PER_CALL = 1_500_000  # far inside the model's inline request limit
KEEP = timedelta(days=2)  # personal data: gone by Firestore's TTL once the turn (and its retries) are long over
MIME_DEFAULT = "audio/ogg"  # WhatsApp's voice notes: Opus in Ogg


def fits(seconds: int | None, size: int | None) -> bool:
    """Worth downloading: short enough to be a message, small enough to store. Unknown sizes are not guessed."""
    return seconds is not None and 0 < seconds <= MAX_SECONDS and size is not None and 0 < size <= MAX_BYTES


class VoiceNote(Document):
    salon_id: int
    phone: str
    message_id: str
    mime: str = Field(default=MIME_DEFAULT, max_length=100)
    data: bytes = Field(max_length=MAX_BYTES)
    stored_at: datetime = Field(default_factory=utcnow)
    expire_at: datetime = Field(default_factory=lambda data: data["stored_at"] + KEEP)


def _ref(db: firestore.Client, salon_id: int, phone: str, message_id: str) -> firestore.DocumentReference:
    conv = db.collection(CONVERSATIONS).document(conversation_id(salon_id, phone))
    return conv.collection(VOICE).document(message_id)


def ref(db: firestore.Client, note: VoiceNote) -> firestore.DocumentReference:
    return _ref(db, note.salon_id, note.phone, note.message_id)


def load(db: firestore.Client, salon_id: int, phone: str, message_ids: list[str]) -> list[VoiceNote]:
    """The stored audio of these messages, in their order; a note whose audio was never downloaded is absent."""
    refs = [_ref(db, salon_id, phone, m) for m in message_ids]
    found = {snap.id: snap for snap in db.get_all(refs) if snap.exists}
    return [VoiceNote.model_validate(found[m].to_dict()) for m in message_ids if m in found]


def store(db: firestore.Client, note: VoiceNote) -> None:
    """Before its message: the turn that message queues finds the audio there. Idempotent (a redelivery)."""
    ref(db, note).set(note.to_firestore())


def heard(db: firestore.Client, notes: list[VoiceNote], words: list[str]) -> None:
    """What the model heard in each of the turn's voice notes, on its message (the owner page shows it)."""
    conv = db.collection(CONVERSATIONS)
    batch = db.batch()
    for note, said in zip(notes, words, strict=False):
        message = conv.document(conversation_id(note.salon_id, note.phone)).collection("messages")
        batch.update(message.document(note.message_id), {"transcript": said})
    batch.commit()
