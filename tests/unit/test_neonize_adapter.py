"""The neonize driver: its translation of WhatsApp's events, fed with real neonize protobuf event objects, and its
handling of real neonize client objects offline (no socket: the dial fails, or hangs behind a silent proxy)."""

import asyncio
import contextlib
import gc
import socket
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from neonize.proto import Neonize_pb2 as N

from session_host.drivers import neonize_driver as nd
from session_host.events import (
    ClientOutdated,
    Connected,
    Disconnected,
    Failed,
    Inbound,
    LoggedOut,
    QrCode,
    SendError,
    SendOutcomeUnknown,
    StreamReplaced,
    TemporarilyBanned,
)

R = N.ConnectFailureReason


def test_the_library_and_its_go_core_load_offline(tmp_path):
    from neonize.aioze.client import NewAClient

    client = NewAClient(str(tmp_path / "salon.sqlite3"))
    assert client.uuid == str(tmp_path / "salon.sqlite3").encode()
    assert not (tmp_path / "salon.sqlite3").exists(), "nothing is opened before connect()"


def test_qr_payload_becomes_a_rotating_qr_event():
    assert nd.qr_event(b"2@abc,def,ghi,jkl") == QrCode("2@abc,def,ghi,jkl", nd.QR_TTL_S)


def test_pair_success_waits_for_connected_and_pair_error_fails():
    success = N.PairStatus(ID=N.JID(User="79161234567", Server="s.whatsapp.net"), Status=2)
    assert nd.pair_status_event(success) is None
    failed = nd.pair_status_event(N.PairStatus(Status=1, Error="code expired"))
    assert isinstance(failed, Failed) and "code expired" in failed.reason


def test_connected_reports_our_own_number_and_name():
    me = N.Device(JID=N.JID(User="79161234567", Server="s.whatsapp.net"), PushName="Лилия")
    assert nd.connected_event(me.JID.User, me.PushName) == Connected("79161234567", "Лилия")


@pytest.mark.parametrize("reason", ["LOGGED_OUT", "MAIN_DEVICE_GONE", "UNKNOWN_LOGOUT"])
def test_logouts_are_terminal(reason):
    event = nd.logged_out_event(N.LoggedOut(OnConnect=False, Reason=R.Value(reason)))
    assert isinstance(event, LoggedOut) and reason in event.reason
    assert isinstance(nd.connect_failure_event(N.ConnectFailure(Reason=R.Value(reason))), LoggedOut)


def test_client_outdated_is_its_own_state_and_other_failures_are_transient():
    assert nd.connect_failure_event(N.ConnectFailure(Reason=R.Value("CLIENT_OUTDATED"))) == ClientOutdated()
    transient = nd.connect_failure_event(N.ConnectFailure(Reason=R.Value("SERVICE_UNAVAILABLE"), Message="503"))
    assert isinstance(transient, Disconnected)
    banned = nd.connect_failure_event(N.ConnectFailure(Reason=R.Value("TEMP_BANNED"), Message="too many"))
    assert isinstance(banned, TemporarilyBanned) and banned.expire_s > 0


def test_a_temporary_ban_keeps_its_expiry_and_a_replaced_stream_stops_the_session():
    ban = nd.temporary_ban_event(N.TemporaryBan(Code=1, Expire=5400))
    assert isinstance(ban, TemporarilyBanned) and ban.expire_s == 5400 and "SEND_TO_TOO_MANY_PEOPLE" in ban.reason
    assert isinstance(nd.stream_replaced_event(N.StreamReplaced()), StreamReplaced)


def test_credentials_exist_only_when_the_store_holds_a_device(tmp_path):
    import sqlite3

    stores = nd.SqliteStores(tmp_path)
    driver = nd.NeonizeWhatsApp(lambda sid, ev: None, stores)
    try:
        assert not driver.has_credentials("company_1")
        with sqlite3.connect(stores.path("company_1")) as con:
            con.execute("CREATE TABLE whatsmeow_device (jid TEXT)")
        assert not driver.has_credentials("company_1")
        with sqlite3.connect(stores.path("company_1")) as con:
            con.execute("INSERT INTO whatsmeow_device VALUES ('79161234567.0:1@s.whatsapp.net')")
        assert driver.has_credentials("company_1")
    finally:
        driver.close()


def _device(path, jid="79161234567.0:1@s.whatsapp.net"):
    import sqlite3

    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE IF NOT EXISTS whatsmeow_device (jid TEXT)")
        con.execute("INSERT INTO whatsmeow_device VALUES (?)", (jid,))


def test_a_relink_keeps_the_working_link_until_the_new_one_connects(tmp_path):
    stores = nd.SqliteStores(tmp_path)
    _device(stores.client_args("company_1", "qr")["name"])
    stores.remember("company_1", None)  # the first link connected
    live = stores.path("company_1")
    assert stores.has("company_1") and stores.client_args("company_1", "restore")["name"] == str(live)

    attempt = stores.client_args("company_1", "pairing")["name"]  # a relink starts: its own store
    assert attempt != str(live) and stores.has("company_1"), "the working link is still there"
    _device(attempt, "79161234567.0:2@s.whatsapp.net")
    again = stores.client_args("company_1", "qr")["name"]  # that one never connected; another try
    assert not Path(attempt).exists() and stores.path("company_1") == live

    _device(again, "79161234567.0:3@s.whatsapp.net")
    stores.remember("company_1", None)  # the relink connected: now, and only now, the old store goes
    assert stores.path("company_1") == Path(again) and not live.exists() and stores.has("company_1")
    stores.forget("company_1")
    assert not stores.has("company_1") and list(tmp_path.iterdir()) == []


def test_a_store_made_before_pointers_is_still_the_live_one(tmp_path):
    stores = nd.SqliteStores(tmp_path)
    _device(tmp_path / "company_1.sqlite3")
    assert stores.has("company_1") and stores.client_args("company_1", "restore")["name"].endswith("company_1.sqlite3")


def _message(chat_user, server="s.whatsapp.net", from_me=False, group=False, text="Здравствуйте", alt=None, body=None):
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WAMessage

    src = N.MessageSource(
        Chat=N.JID(User=chat_user, Server=server),
        IsFromMe=from_me,
        IsGroup=group,
        Sender=N.JID(User=chat_user, Server=server),
    )
    if alt:
        (src.RecipientAlt if from_me else src.SenderAlt).CopyFrom(N.JID(User=alt, Server="s.whatsapp.net"))
    info = N.MessageInfo(MessageSource=src, ID="3EB0ABC", Timestamp=1795690000, Pushname="Ольга")
    return N.Message(Info=info, Message=WAMessage(**(body or {"conversation": text})))


def test_a_customer_message_becomes_inbound_with_text_and_phone():
    event = nd.inbound_event(_message("79035557788"))
    assert event.message_id == "3EB0ABC" and event.chat_phone == "79035557788" and event.text == "Здравствуйте"
    assert not event.from_me and event.push_name == "Ольга" and event.timestamp == 1795690000.0


def test_staff_group_broadcast_and_lid_messages_are_marked_or_skipped():
    assert nd.inbound_event(_message("79035557788", from_me=True)).from_me is True
    assert nd.inbound_event(_message("1203630@g.us", server="g.us", group=True)).is_group is True
    assert nd.inbound_event(_message("status", server="broadcast")).is_broadcast is True
    assert nd.inbound_event(_message("123456789", server="lid")).chat_phone == "", "no phone is made up"
    assert nd.inbound_event(_message("123456789", server="lid", alt="79035557788")).chat_phone == "79035557788"


def test_a_voice_note_a_picture_and_a_sticker_arrive_as_media_with_their_caption():
    voice = nd.inbound_event(_message("79035557788", body={"audioMessage": {"PTT": True, "seconds": 7}}))
    assert voice.media == "voice" and voice.text == ""
    photo = nd.inbound_event(_message("79035557788", body={"imageMessage": {"caption": "хочу такой маникюр"}}))
    assert photo.media == "image" and photo.text == "хочу такой маникюр"
    assert nd.inbound_event(_message("79035557788", body={"stickerMessage": {}})).media == "sticker"
    assert nd.inbound_event(_message("79035557788")).media is None


class _Downloads:
    """Stands for the client's download_any only: what the voice-note wrapper does with its answer or failure."""

    def __init__(self, result: bytes | Exception | None = None, hang: bool = False):
        self.result, self.hang, self.asked = result, hang, 0

    async def download_any(self, message):
        self.asked += 1
        if self.hang:
            await asyncio.Event().wait()
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def _voice(seconds: int, size: int, **extra):
    note = {"PTT": True, "seconds": seconds, "fileLength": size, "mimetype": "audio/ogg; codecs=opus", **extra}
    return _message("79035557788", body={"audioMessage": note})


def _fetched(client, ev):
    event = nd.voice_wanted(ev, nd.inbound_event(ev))
    if not event.audio_pending:
        return event, None
    # on a thread of its own, as the driver's loop is: whatever loop an earlier test left in this thread
    with ThreadPoolExecutor(1) as pool:
        return event, pool.submit(asyncio.run, nd.fetch_voice(client, ev, event, "company_1")).result(30)


def test_a_short_voice_note_is_handed_over_at_once_and_its_sound_follows_a_long_one_is_not_fetched():
    event, sound = _fetched(client := _Downloads(b"OggS" + b"\x00" * 500), _voice(7, 504))
    assert event.media == "voice" and event.audio_seconds == 7 and event.audio_pending
    assert sound.message_id == event.message_id and sound.chat_phone == "79035557788"
    assert sound.audio == b"OggS" + b"\x00" * 500 and sound.mime == "audio/ogg", "mime without its codec"
    never = _Downloads(b"x")
    long, _ = _fetched(never, _voice(nd.voice_notes.MAX_SECONDS + 1, 2000))
    assert long.media == "voice" and not long.audio_pending and long.audio_seconds == nd.voice_notes.MAX_SECONDS + 1
    big, _ = _fetched(never, _voice(30, nd.voice_notes.MAX_BYTES + 1))
    assert not big.audio_pending and client.asked == 1 and never.asked == 0, "a note over the limits is not fetched"


def test_a_voice_note_whose_download_fails_hangs_or_overflows_brings_an_empty_sound_at_once(monkeypatch):
    """Empty, not nothing: the turn waiting for the sound asks for text now instead of waiting out its time."""
    from neonize.exc import DownloadError

    failed = _fetched(_Downloads(DownloadError("failed to download: 404")), _voice(5, 400))[1]
    assert failed.audio == b"" and failed.message_id == "3EB0ABC"
    monkeypatch.setattr(nd, "VOICE_DOWNLOAD_S", 0.2)
    started = time.monotonic()
    assert _fetched(_Downloads(hang=True), _voice(5, 400))[1].audio == b"" and time.monotonic() - started < 5
    lying = _Downloads(b"x" * (nd.voice_notes.MAX_BYTES + 1))
    assert _fetched(lying, _voice(5, 400))[1].audio == b"", "more than announced and than a document holds"


def test_only_a_customers_private_voice_note_is_downloaded():
    staff = _message("79035557788", from_me=True, body={"audioMessage": {"seconds": 5, "fileLength": 400}})
    assert not nd.voice_wanted(staff, nd.inbound_event(staff)).audio_pending
    note = {"audioMessage": {"PTT": True, "seconds": 5, "fileLength": 400}}
    group = _message("1203630@g.us", server="g.us", group=True, body=note)
    status = _message("status", server="broadcast", body=note)
    for ev in (group, status):  # the owner's family group, a contact's status: nobody's data to keep
        event = nd.inbound_event(ev)
        assert event is None or not nd.voice_wanted(ev, event).audio_pending


def test_a_reaction_arrives_as_its_emoji_pointing_at_the_message_reacted_to():
    body = {"reactionMessage": {"key": {"remoteJID": "79035557788@s.whatsapp.net", "ID": "3EB0REMINDER"}, "text": "👍"}}
    event = nd.inbound_event(_message("79035557788", body=body))
    assert event.text == "👍" and event.reaction_to == "3EB0REMINDER" and event.media is None


def test_a_lid_only_chat_is_answered_at_the_phone_the_lid_store_gives():
    lid = _message("123456789", server="lid")
    assert nd.lid_only(lid) and not nd.lid_only(_message("79035557788"))
    assert nd.inbound_event(lid).chat_phone == "", "unknown phone: not guessed"
    assert nd.inbound_event(lid, resolved_phone="79035557788").chat_phone == "79035557788"


def test_an_undecryptable_message_becomes_a_placeholder_of_its_sender():
    info = _message("79035557788").Info
    event = nd.undecryptable_event(N.UndecryptableMessage(Info=info, IsUnavailable=False))
    assert event.undecryptable and event.text == "" and event.chat_phone == "79035557788"
    assert event.message_id == "3EB0ABC", "the readable copy comes with the same id"
    own = _message("79035557788", from_me=True).Info
    assert nd.undecryptable_event(N.UndecryptableMessage(Info=own)) is None


def test_a_lid_nobody_can_map_arrives_without_a_phone_but_with_its_lid():
    unreadable = _message("201234567890123", server="lid").Info
    placeholder = nd.undecryptable_event(N.UndecryptableMessage(Info=unreadable))
    assert placeholder is not None and placeholder.chat_lid == "201234567890123", "asked to send it again there"
    event = nd.inbound_event(_message("201234567890123", server="lid"))
    assert event.chat_phone == "" and event.chat_lid == "201234567890123" and event.text == "Здравствуйте"
    assert nd.inbound_event(_message("79035557788")).chat_lid is None


def test_a_reply_to_a_hidden_number_goes_to_its_lid_and_a_phone_chat_to_the_phone():
    from neonize.proto.Neonize_pb2 import JID

    hidden, phone = nd.chat_jid("lid:201234567890123"), nd.chat_jid("79035557788")
    assert isinstance(hidden, JID) and (hidden.User, hidden.Server) == ("201234567890123", "lid")
    assert (phone.User, phone.Server) == ("79035557788", "s.whatsapp.net")
    arrived = nd.inbound_event(_message("201234567890123", server="lid"))
    assert nd.chat_jid(f"lid:{arrived.chat_lid}") == hidden, "answered where the message came from"


def test_our_device_asks_for_one_day_of_history_and_neonize_takes_it(tmp_path):
    from neonize.aioze.client import NewAClient
    from neonize.proto.waCompanionReg.WAWebProtobufsCompanionReg_pb2 import DeviceProps

    props = nd.device_props()
    assert props.requireFullSync is False and props.platformType == DeviceProps.DESKTOP
    limits = props.historySyncConfig
    assert limits.fullSyncDaysLimit == limits.recentSyncDaysLimit == 1 and limits.fullSyncSizeMbLimit == 1
    assert DeviceProps.FromString(props.SerializeToString()) == props, "what crosses into Go is what we set"
    client = NewAClient(str(tmp_path / "s.sqlite3"), props=props)
    assert client.device_props is props


@pytest.mark.parametrize(
    ("alive", "connected", "down_for_s", "kept"),
    [
        (True, True, 0, True),  # whatsmeow reconnected it already
        (True, False, 30, True),  # whatsmeow is reconnecting it: its memory of recent sends is kept
        (True, False, nd.REUSE_FOR_S + 1, False),  # not back for too long: a new client
        (False, False, 0, False),  # the client ended (stopped, or the dial failed)
    ],
)
def test_a_reconnect_keeps_the_client_whatsmeow_is_reconnecting(alive, connected, down_for_s, kept):
    assert nd.keep_client(alive, connected, down_for_s) is kept


class Events:
    """The driver's event sink: what the session host would hear, in order, waited on without sleeps."""

    def __init__(self) -> None:
        self.items: list[tuple[str, object]] = []
        self._changed = threading.Condition()

    def __call__(self, sid: str, event: object) -> None:
        with self._changed:
            self.items.append((sid, event))
            self._changed.notify_all()

    def wait(self, kind: type, count: int = 1, timeout_s: float = 30.0) -> list[object]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.of(kind)) >= count, timeout_s)
        found = self.of(kind)
        assert len(found) >= count, f"expected {count} {kind.__name__}, heard {self.items}"
        return found

    def of(self, kind: type) -> list[object]:
        return [e for _, e in self.items if isinstance(e, kind)]

    @property
    def last(self) -> object:
        return self.items[-1][1]


@pytest.fixture
def go_stops(monkeypatch):
    """Every Stop() that reaches neonize's Go core, with the store key it names (the call itself goes through)."""
    from neonize import _binder

    real, calls = _binder.gocode.Stop, []
    monkeypatch.setattr(_binder.gocode, "Stop", lambda uuid: (calls.append(bytes(uuid)), real(uuid))[1])
    return calls


@pytest.fixture
def driver_of(tmp_path):
    made = []

    def make(events: Events, **kwargs) -> nd.NeonizeWhatsApp:
        made.append(nd.NeonizeWhatsApp(events, nd.SqliteStores(tmp_path / "stores"), max_clients=4, **kwargs))
        return made[-1]

    yield make
    for driver in made:
        driver.close()


def dispatch(driver: nd.NeonizeWhatsApp, client, event) -> None:
    """What neonize does when whatsmeow reports an event: the client's handler for its type, run on the loop."""
    from neonize.events import EVENT_TO_INT

    handler = client.event.list_func[EVENT_TO_INT[type(event)]]
    asyncio.run_coroutine_threadsafe(handler(client, event), driver._loop).result(10)


def held_client(driver: nd.NeonizeWhatsApp, sid: str, path: Path, mode: nd.Mode = "restore"):
    """A real client as the driver holds it while its Go call runs (connected, or reconnected by whatsmeow)."""
    from neonize.aioze.client import NewAClient

    client = NewAClient(str(path))

    async def hold() -> None:
        client.connect_task = asyncio.get_running_loop().create_future()  # never done: Go still holds it

    driver._run(hold())
    driver._clients[sid] = client
    driver._subscribe(sid, client, mode, None)
    return client


def answers_me(client, phone: str = "79161234567") -> list[str]:
    """The two Go calls a Connected handler makes, answered as a linked device would (no socket offline)."""
    calls: list[str] = []

    async def get_me():
        calls.append("get_me")
        return N.Device(JID=N.JID(User=phone, Server="s.whatsapp.net"), PushName="Салон")

    async def send_presence(presence):
        calls.append("send_presence")

    client.get_me, client.send_presence = get_me, send_presence
    return calls


def test_a_restarted_session_is_not_stopped_later_by_the_old_clients_finalizer(driver_of, go_stops):
    """Two clients of one store share neonize's key: collected after a restart, the old object must not stop
    the new client (neonize registers a finalizer that calls Stop(key) on collection)."""
    events = Events()
    driver = driver_of(events)
    gc.collect()  # other tests' clients are collected now, not in the middle of this one
    gc.disable()  # the old client sits in a reference cycle (its failed task's traceback): collected when gc runs
    try:
        driver.start("company_1", "restore")  # offline, the dial fails: the host hears a drop and tries again
        events.wait(Disconnected)
        old = weakref.ref(driver._clients["company_1"])
        driver.start("company_1", "restore")
        events.wait(Disconnected, 2)
        key = driver._clients["company_1"].uuid
        assert old() is not None and old().uuid == key, "one store, one key"
        stopped_before = go_stops.count(key)
        gc.collect()
    finally:
        gc.enable()
    assert old() is None, "the old client object is gone"
    assert go_stops.count(key) == stopped_before, "collecting it stopped nothing of this session"


def test_a_dropped_client_is_reported_down_and_a_reconnect_does_not_call_it_connected(driver_of, tmp_path):
    events = Events()
    driver = driver_of(events)
    client = held_client(driver, "company_1", tmp_path / "s.sqlite3")
    answers_me(client)
    dispatch(driver, client, N.Connected())
    assert events.last == Connected("79161234567", "Салон")
    driver.start("company_1", "restore")  # the host's reconnect while the client is up: it stays, still up
    assert events.wait(Connected, 2) and driver._clients["company_1"] is client

    dispatch(driver, client, N.Disconnected())
    assert events.last == Disconnected("socket closed")
    driver.start("company_1", "restore")  # whatsmeow is reconnecting the same object: the host hears it is down
    events.wait(Disconnected, 2)
    assert events.last == Disconnected("whatsmeow is reconnecting the same client")
    assert driver._clients["company_1"] is client
    with pytest.raises(SendError) as refused:
        driver.send_text("company_1", "79035557788", "Здравствуйте")
    assert not refused.value.permanent, "not sent while down, and tried again later"


def test_a_handler_that_raises_leaves_a_log_line_and_a_drop(driver_of, tmp_path, caplog):
    events = Events()
    driver = driver_of(events)
    client = held_client(driver, "company_1", tmp_path / "s.sqlite3")
    answers_me(client)

    async def get_me():
        raise RuntimeError("store closed")

    client.get_me = get_me
    dispatch(driver, client, N.Connected())
    assert events.last == Disconnected("event handler failed: store closed")
    assert any(r.getMessage() == "neonize event handler failed" and r.exc_info for r in caplog.records)


def test_a_handler_after_its_client_stopped_does_not_call_into_go(driver_of, tmp_path):
    """A Go call for a client neonize no longer holds dereferences nothing and aborts every salon's process."""
    events = Events()
    driver = driver_of(events)
    client = held_client(driver, "company_1", tmp_path / "s.sqlite3")
    go_calls = answers_me(client)
    driver.stop("company_1")
    dispatch(driver, client, N.Connected())
    assert go_calls == [] and events.items == []


def test_a_message_that_arrives_as_its_client_stops_still_reaches_the_host(driver_of, tmp_path):
    """WhatsApp acknowledged it already: dropped here, it would be lost. No Go call (no LID lookup) is made."""
    events = Events()
    driver = driver_of(events)
    client = held_client(driver, "company_1", tmp_path / "s.sqlite3")
    go_calls = answers_me(client)
    driver.stop("company_1")
    dispatch(driver, client, _message("79035557788"))
    dispatch(driver, client, _message("201234567890123", server="lid"))
    assert [e.chat_phone for e in events.of(Inbound)] == ["79035557788", ""] and go_calls == []


@pytest.mark.parametrize(
    ("error", "meaning"),
    [
        ("server returned error 463", "final"),
        ("79035557788 is not on WhatsApp", "final"),
        ("websocket not connected", "retry"),
        ("failed to get device list: timed out", "retry"),
        ("failed to encrypt for 79035557788: no session", "retry"),
        ("message sending was interrupted by websocket disconnection", "unknown"),
        ("timed out waiting for message send response", "unknown"),
    ],
)
def test_a_send_failure_is_retried_only_when_nothing_left(error, meaning):
    """After the frame left, a failure may hide a delivered message: resending would send it twice."""
    failure = nd.send_failure(RuntimeError(error))
    got = (
        "unknown" if isinstance(failure, SendOutcomeUnknown) else ("final" if failure.permanent else "retry")  # type: ignore[union-attr]
    )
    assert got == meaning


def test_a_start_that_fails_is_a_logged_drop_not_silence(driver_of, tmp_path, caplog):
    events = Events()
    driver = driver_of(events)
    (tmp_path / "stores").rmdir()  # the credential volume went away
    driver.start("company_1", "qr")
    assert "start failed" in events.wait(Disconnected)[0].reason
    assert any(r.getMessage() == "neonize start failed" for r in caplog.records)


class SilentProxy:
    """A proxy that accepts and never answers: whatsmeow's dial hangs in its Go call as it does while a QR waits
    to be scanned, holding a thread, until its own deadline (about a minute) or until `hang_up()`."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.held.append(self.server.accept()[0])

    def hang_up(self) -> None:
        for conn in self.held:
            conn.close()

    def close(self) -> None:
        self.server.close()
        self.hang_up()


@pytest.fixture
def silent_proxy():
    proxy = SilentProxy()
    yield proxy
    proxy.close()


def test_a_link_nobody_completes_expires_and_its_thread_is_counted_until_go_lets_go(driver_of, silent_proxy, go_stops):
    events = Events()
    driver = driver_of(events, link_ttl_s=0.5, proxy_url=silent_proxy.url)
    driver.start("company_1", "qr")
    events.wait(nd.LinkExpired, timeout_s=10)
    assert "company_1" not in driver._clients, "no longer the session's client"
    deadline = time.monotonic() + 30
    while not go_stops and time.monotonic() < deadline:
        time.sleep(0.05)
    assert go_stops, "stopped in Go too"
    assert driver.held_threads >= 1, "its Go call still holds a thread, and is counted against the pool"
    silent_proxy.hang_up()  # the dial ends (as whatsmeow's deadline would end it)
    deadline = time.monotonic() + 30
    while driver.held_threads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert driver.held_threads == 0, "its thread is back once whatsmeow lets go"
    assert events.of(Disconnected) == [], "an ended link is not a drop to reconnect"


def test_many_real_clients_started_at_once_all_report_back_and_close(tmp_path):
    """Real neonize clients, offline (every dial fails): starts go one at a time through the Go maps' gate, each
    failure reaches the sink, and close() ends them all (bench/neonize_many.py runs the same with 200)."""
    import threading
    import time

    seen: dict[str, object] = {}
    lock = threading.Lock()

    def sink(sid: str, event: object) -> None:
        with lock:
            seen.setdefault(sid, event)

    driver = nd.NeonizeWhatsApp(sink, nd.SqliteStores(tmp_path), max_clients=20)
    try:
        for i in range(20):
            driver.start(f"company_{i}", "qr")
        deadline = time.monotonic() + 30
        while len(seen) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(seen) == 20 and all(isinstance(e, Disconnected) for e in seen.values())
    finally:
        driver.close()
