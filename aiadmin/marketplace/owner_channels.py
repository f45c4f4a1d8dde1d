"""The owner page's messengers: connect the salon's Telegram or MAX bot by its token, remove it, and bind the
owner's own Telegram for notices. Owner-only, like every change on the page."""

from __future__ import annotations

from google.cloud import firestore

from aiadmin.channels import bots
from aiadmin.core.errors import NotFound
from aiadmin.core.models import RegistrationClaims
from aiadmin.core.settings import Settings
from aiadmin.marketplace import owner_access, owner_view
from aiadmin.marketplace.owner_page import _company, _event
from aiadmin.whatsapp.qr_image import qr_data_url

CHANNELS = ("telegram", "max")


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise NotFound("channels are telegram and max", code="unknown_channel")
    return channel


def connect(db: firestore.Client, settings: Settings, claims: RegistrationClaims, channel: str, token: str) -> dict:
    company = _company(db, claims)
    owner_access.require_owner(db, claims, company)
    link = bots.connect(db, settings, company.salon_id, _channel(channel), token)  # type: ignore[arg-type]
    _event(db, company.salon_id, "owner_settings_changed", None, [f"channels.{channel}"])
    owner_view.refresh(db, company.salon_id)
    return {"success": True, "bot": {**link.public(), "qr": qr_data_url(link.link())}}


def disconnect(db: firestore.Client, settings: Settings, claims: RegistrationClaims, channel: str) -> dict:
    company = _company(db, claims)
    owner_access.require_owner(db, claims, company)
    bots.disconnect(db, settings, company.salon_id, _channel(channel))  # type: ignore[arg-type]
    _event(db, company.salon_id, "owner_settings_changed", None, [f"channels.{channel}"])
    owner_view.refresh(db, company.salon_id)
    return {"success": True, "channel": channel, "connected": False}


def owner_link(db: firestore.Client, claims: RegistrationClaims, channel: str) -> dict:
    company = _company(db, claims)
    owner_access.require_owner(db, claims, company)
    return {"success": True, **bots.owner_start_link(db, company.salon_id, _channel(channel))}  # type: ignore[arg-type]
