"""Change-only writes: compare fresh documents with the stored content hashes (a projection query, one read per
stored document, no payload), write what changed or is new, delete what YCLIENTS no longer has within the
synced scope. Writes go through Firestore's BulkWriter, which batches, retries and ramps up as Firestore asks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from google.cloud import firestore
from google.cloud.firestore_v1.bulk_writer import BulkWriteFailure, BulkWriterOptions

from aiadmin.sync.documents import Synced

log = logging.getLogger("aiadmin.sync.writer")


@dataclass
class Counts:
    read: int = 0  # items YCLIENTS returned
    written: int = 0
    deleted: int = 0
    unchanged: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


class WriteFailed(RuntimeError):
    pass


def stored_hashes(query: firestore.Query | firestore.CollectionReference) -> dict[str, str | None]:
    return {snap.id: (snap.to_dict() or {}).get("content_hash") for snap in query.select(["content_hash"]).stream()}


def apply(
    db: firestore.Client,
    collection: firestore.CollectionReference,
    fresh: Mapping[str, Synced],
    *,
    scope: firestore.Query | None = None,
    delete_missing: bool = True,
    ops_per_second: int = 500,
    on_written: Callable[[str, Synced], None] | None = None,
) -> Counts:
    """Make `collection` (within `scope`, all of it by default) hold exactly `fresh`."""
    existing = stored_hashes(scope if scope is not None else collection)
    counts = Counts(read=len(fresh))
    failures: list[BulkWriteFailure] = []
    writer = db.bulk_writer(
        options=BulkWriterOptions(initial_ops_per_second=ops_per_second, max_ops_per_second=ops_per_second)
    )

    def on_error(failure: BulkWriteFailure, _writer: object) -> bool:
        if failure.attempts < 5:
            return True  # retry
        failures.append(failure)
        return False

    writer.on_write_error(on_error)
    for doc_id, doc in fresh.items():
        hashed = doc.hashed()
        if existing.get(doc_id) == hashed.content_hash:
            counts.unchanged += 1
            continue
        writer.set(collection.document(doc_id), hashed.to_firestore())
        counts.written += 1
        if on_written is not None:
            on_written(doc_id, doc)
    if delete_missing:
        for doc_id in existing.keys() - fresh.keys():
            writer.delete(collection.document(doc_id))
            counts.deleted += 1
    writer.close()
    if failures:
        raise WriteFailed(f"{len(failures)} writes to {collection.id} failed: {failures[0].message}")
    return counts


def upsert(collection: firestore.CollectionReference, doc_id: str, doc: Synced) -> bool:
    """One document (a webhook's change): written only when its content differs. True when written."""
    hashed = doc.hashed()
    ref = collection.document(doc_id)
    snap = ref.get(["content_hash"])
    if snap.exists and (snap.to_dict() or {}).get("content_hash") == hashed.content_hash:
        return False
    ref.set(hashed.to_firestore())
    return True
