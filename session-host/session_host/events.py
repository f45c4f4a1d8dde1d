"""What a WhatsApp driver reports about a session. The session manager turns these into states."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QrCode:
    payload: str  # what the QR encodes (never logged)
    ttl_s: float


@dataclass(frozen=True)
class PairingCode:
    code: str
    ttl_s: float


@dataclass(frozen=True)
class LinkExpired:
    """The QR rotation or the pairing code ran out without the phone linking."""


@dataclass(frozen=True)
class Connected:
    phone: str
    name: str | None = None


@dataclass(frozen=True)
class Disconnected:
    """A transient drop: the credentials are fine, reconnect."""

    reason: str


@dataclass(frozen=True)
class LoggedOut:
    """The phone unlinked us (device removed, 401): terminal until the owner links again."""

    reason: str


@dataclass(frozen=True)
class ClientOutdated:
    """WhatsApp refuses this client version (405)."""


@dataclass(frozen=True)
class StreamReplaced:
    """Another client opened this link (often a second holder of our own): never fight over the socket."""


@dataclass(frozen=True)
class KeepAliveTimeout:
    """whatsmeow's keepalive pings go unanswered: the socket may look connected and hear nothing."""


@dataclass(frozen=True)
class KeepAliveRestored:
    pass


@dataclass(frozen=True)
class TemporarilyBanned:
    """WhatsApp blocks the number for a while (`TemporaryBan`): nothing to relink; resume when it ends."""

    expire_s: float
    reason: str


@dataclass(frozen=True)
class Failed:
    reason: str


@dataclass(frozen=True)
class Inbound:
    """A message in one of the salon's chats: from a customer, or (from_me) typed by the staff on the phone."""

    message_id: str
    chat_phone: str  # the customer's number (the other side of the chat)
    text: str
    from_me: bool = False
    is_group: bool = False
    is_broadcast: bool = False  # broadcast lists and status updates
    timestamp: float | None = None
    push_name: str | None = None
    media: str | None = None  # voice | image | video | sticker | document: what came instead of (or with) text
    reaction_to: str | None = None  # a reaction: `text` is the emoji, this the id of the message reacted to
    undecryptable: bool = False  # WhatsApp delivered it but it could not be decrypted (yet): no text
    chat_lid: str | None = None  # a sender known only by LID whose phone nobody could tell: chat_phone is ""
    audio_seconds: int | None = None  # a voice note's length
    audio_pending: bool = False  # its sound is being downloaded: a VoiceAudio follows (if the host lives)


@dataclass(frozen=True)
class VoiceAudio:
    """The sound of a voice note already handed over as an Inbound (same message id), once downloaded."""

    message_id: str
    chat_phone: str
    audio: bytes
    mime: str
    chat_lid: str | None = None


class SendError(Exception):
    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


class SendOutcomeUnknown(Exception):
    """The message went to WhatsApp and no answer came back in time: it may have been delivered. Never resent
    blindly (the customer would get it twice)."""


DriverEvent = (
    QrCode
    | PairingCode
    | LinkExpired
    | Connected
    | Disconnected
    | LoggedOut
    | ClientOutdated
    | TemporarilyBanned
    | KeepAliveTimeout
    | KeepAliveRestored
    | StreamReplaced
    | Failed
    | Inbound
    | VoiceAudio
)
