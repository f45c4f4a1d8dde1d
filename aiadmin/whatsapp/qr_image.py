"""WhatsApp's QR payload rendered as a PNG data URL for the page (pure-Python PNG writer: no Pillow)."""

from __future__ import annotations

import base64
import io

import qrcode
from qrcode.image.pure import PyPNGImage


def qr_data_url(payload: str) -> str:
    image = qrcode.make(payload, image_factory=PyPNGImage, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
