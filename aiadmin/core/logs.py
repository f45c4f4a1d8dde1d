"""JSON log lines in Cloud Logging's shape: severity, message and flat fields."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
TRACE_KEY = "logging.googleapis.com/trace"
_trace: ContextVar[str | None] = ContextVar("trace", default=None)


def bind_trace(header: str | None, project: str | None) -> None:
    """`X-Cloud-Trace-Context: TRACE_ID/SPAN;o=1` -> every log line of this request joins the request's trace."""
    trace_id = (header or "").split("/", 1)[0]
    _trace.set(f"projects/{project}/traces/{trace_id}" if trace_id and project else None)


class CloudLoggingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        trace = _trace.get()
        if trace:
            entry[TRACE_KEY] = trace
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


_configured = False


def configure_logging(level: str = "INFO") -> None:
    """Idempotent: every function module calls it at import."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level.upper())
    if _configured:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudLoggingFormatter())
    root.handlers[:] = [handler]
    # httpx logs every request's URL at INFO, and a Telegram Bot API URL carries the bot's token.
    for noisy in ("urllib3", "google", "grpc", "werkzeug", "httpx", "httpcore", "telegram"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True


def mask_phone(phone: str | int | None) -> str | None:
    """79161234567 -> 791*****567: enough to tell numbers apart in logs, not enough to call."""
    if phone is None:
        return None
    digits = "".join(ch for ch in str(phone) if ch.isdigit())
    if len(digits) <= 6:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 6) + digits[-3:]


def phone_ref(phone: str | int) -> str:
    """A stable pseudonym of a phone number for names operators see (task names, keys): the same number gives the
    same reference, and the number is not written out. Not a secret: it only keeps numbers out of plain sight."""
    text = str(phone)
    digits = text if text.startswith("lid:") else "".join(ch for ch in text if ch.isdigit())  # a hidden number's chat
    return hashlib.sha256(f"aiadmin-phone:{digits}".encode()).hexdigest()[:16]
