"""The neonize driver's translation of WhatsApp's events, fed with real neonize protobuf event objects."""

from pathlib import Path

import pytest
from neonize.proto import Neonize_pb2 as N

from session_host.drivers import neonize_driver as nd
from session_host.events import (
    ClientOutdated,
    Connected,
    Disconnected,
    Failed,
    LoggedOut,
    QrCode,
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
    event = nd.inbound_event(_message("201234567890123", server="lid"))
    assert event.chat_phone == "" and event.chat_lid == "201234567890123" and event.text == "Здравствуйте"
    assert nd.inbound_event(_message("79035557788")).chat_lid is None


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


def test_a_restore_of_a_client_still_held_by_whatsmeow_keeps_the_same_object(tmp_path):
    """A real neonize client object whose connect call is still running (as while whatsmeow reconnects it): the
    host's reconnect leaves it in place and hears it is still down; once up, it hears Connected."""
    import asyncio

    from neonize.aioze.client import NewAClient

    class Held(NewAClient):
        up = False
        is_connected = property(lambda self: self.up)  # the Go call needs a live socket

    events: list = []
    driver = nd.NeonizeWhatsApp(lambda sid, ev: events.append(ev), nd.SqliteStores(tmp_path))
    try:
        client = Held(str(tmp_path / "company_1.sqlite3"))

        async def held() -> None:
            client.connect_task = asyncio.get_running_loop().create_future()  # never done: Go still holds it

        driver._run(held())
        driver._clients["company_1"] = client
        driver._run(driver._start("company_1", "restore", None))
        assert driver._clients["company_1"] is client
        assert events == [Disconnected("whatsmeow is reconnecting the same client")]
        client.up = True
        driver._phones["company_1"] = "79161234567"
        driver._run(driver._start("company_1", "restore", None))
        assert driver._clients["company_1"] is client and events[-1] == Connected("79161234567", None)
    finally:
        driver._clients.clear()
        driver.close()


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
