"""The process-wide Firestore client (the emulator when FIRESTORE_EMULATOR_HOST is set)."""

from __future__ import annotations

from functools import lru_cache

from google.cloud import firestore

from aiadmin.core.settings import get_settings


@lru_cache(maxsize=1)
def get_db() -> firestore.Client:
    return firestore.Client(project=get_settings().google_cloud_project)
