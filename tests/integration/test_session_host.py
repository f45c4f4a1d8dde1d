"""The session host with the simulated WhatsApp, against the Firestore emulator: states, company fields,
restarts, leases, logouts and stops."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests
from google.cloud import firestore

from aiadmin.core import repositories
from aiadmin.core.models import WaCommand, utcnow
from aiadmin.core.task_queue import TASK_SECRET_HEADER
from aiadmin.whatsapp import session_lease
from aiadmin.whatsapp.session_status import WA_SESSIONS, SessionState
from session_host import host_load
from session_host.drivers.simulated import SimulatedWhatsApp, SimulatorError
from session_host.events import Connected
from session_host.sessions import SessionHost
from tests.conftest import HOST_PORT, ROOT, TASK_SECRET, wait_for
from tests.integration.helpers import company, event_types, register

St = SessionState
SID = "company_962302"


def make_host(db, creds: Path, holder: str = "host-a", host_opts: dict | None = None, **driver_opts) -> SessionHost:
    opts = {"qr_ttl_s": 0.6, "qr_rotations": 3, "pairing_ttl_s": 2.0, "connect_delay_s": 0.02, **driver_opts}
    host = SessionHost(
        db,
        lambda sink: SimulatedWhatsApp(sink, creds, **opts),
        holder,
        lease_ttl_s=1.5,
        **{"reconnect_delays": (0.1, 0.2, 0.3), **(host_opts or {})},
    )
    host.start()
    assert host.listening.wait(10), "the command listener never started"
    return host


@pytest.fixture
def creds(tmp_path) -> Path:
    return tmp_path / "wa-credentials.sqlite3"


@pytest.fixture
def host(stack, db, creds):
    register()
    host = make_host(db, creds)
    yield host
    host.shutdown(timeout_s=5)


def command(db, name: str, phone: str | None = None, sid: str = SID) -> str:
    cid = f"{sid}-{name}-{uuid.uuid4().hex[:8]}"
    cmd = WaCommand(session_id=sid, salon_id=int(sid.split("_")[1]), command=name, reason="test", phone_number=phone)
    db.collection("wa_commands").document(cid).set(cmd.to_firestore())
    return cid


def status(db, sid: str = SID) -> dict:
    return db.collection(WA_SESSIONS).document(sid).get().to_dict() or {}


def wait_state(db, state: St, timeout_s: float = 5.0) -> dict:
    return wait_for(lambda: (s := status(db)).get("state") == state and s, timeout_s, f"state {state}")


def test_qr_appears_rotates_and_a_scan_connects_the_salon(host, db):
    cid = command(db, "start_qr")
    first = wait_state(db, St.QR, timeout_s=2)
    assert first["qr"].startswith("data:image/png;base64,") and first["qr_expires_at"]
    assert "Связанные устройства" in first["message"]
    wait_for(lambda: status(db)["qr"] != first["qr"], 3, "the QR to rotate")
    host.driver.scan(SID, "79161234567", "Салон Лилия")
    connected = wait_state(db, St.CONNECTED)
    assert connected["phone_masked"] == "791*****567" and connected["qr"] is None
    salon = company(db)
    assert salon.whatsapp_connected and salon.whatsapp_phone == "79161234567" and salon.whatsapp_connected_at
    assert "whatsapp_connected" in event_types(db)
    assert db.collection("wa_commands").document(cid).get().get("state") == "done"
    assert "dev-only" not in str(connected) and "2@" not in str(connected), "no secrets in the status document"


def test_pairing_code_is_shown_and_only_the_right_code_links(host, db):
    command(db, "start_pairing", phone="79161234567")
    shown = wait_state(db, St.PAIRING_CODE, timeout_s=2)
    assert len(shown["pairing_code"]) == 9 and shown["pairing_code"][4] == "-"
    with pytest.raises(SimulatorError):
        host.driver.pair(SID, "AAAA-AAAA")
    host.driver.pair(SID, shown["pairing_code"])
    wait_state(db, St.CONNECTED)
    assert company(db).whatsapp_phone == "79161234567"


def test_a_qr_nobody_scans_expires_and_frees_the_session(host, db):
    command(db, "start_qr")
    expired = wait_state(db, St.EXPIRED, timeout_s=5)
    assert "истекло" in expired["message"]
    wait_for(lambda: SID not in host.owned, 2, "the lease to be released")
    assert not session_lease.lease_ref(db, SID).get().exists


def test_a_drop_while_the_first_qr_shows_brings_a_new_qr_not_a_logout(host, db):
    """No link is stored yet: the reconnect shows a new QR once WhatsApp is back, and nobody is told of a logout."""
    command(db, "start_qr")
    first = wait_state(db, St.QR)["qr_expires_at"]
    host.driver.drop(SID, for_s=0.3)
    wait_for(lambda: (s := status(db)).get("state") == St.QR and s["qr_expires_at"] != first, 5, "a new QR")
    assert not any("logged_out" in e for e in event_types(db))
    host.driver.scan(SID, "79161234567")
    wait_state(db, St.CONNECTED)


def test_a_repeated_start_reuses_the_showing_qr(stack, db, creds):
    register()
    host = make_host(db, creds, qr_ttl_s=20.0)
    try:
        command(db, "start_qr")
        first = wait_state(db, St.QR, timeout_s=2)
        cid = command(db, "start_qr")
        done = wait_for(
            lambda: (c := db.collection("wa_commands").document(cid).get().to_dict())["state"] == "done" and c,
            2,
            "the second command",
        )
        assert done["result"] == "QR already showing"
        assert status(db)["qr"] == first["qr"]
    finally:
        host.shutdown(timeout_s=5)


def _connect(host, db) -> None:
    command(db, "start_qr")
    wait_state(db, St.QR, timeout_s=5)
    host.driver.scan(SID, "79161234567")
    wait_state(db, St.CONNECTED)


def test_the_phone_unlinking_us_is_terminal(host, db):
    _connect(host, db)
    host.driver.unlink_from_phone(SID)
    logged_out = wait_state(db, St.LOGGED_OUT)
    assert "подключите WhatsApp заново" in logged_out["message"]
    assert company(db).whatsapp_connected is False
    assert event_types(db)[-1] == "whatsapp_logged_out"
    assert not host.driver.has_credentials(SID)
    assert host.driver.snapshot(SID)["running"] is False, "no reconnect loop"
    assert SID not in host.owned


def test_a_transient_drop_reconnects_without_a_new_link(host, db):
    _connect(host, db)
    host.driver.drop(SID)
    wait_state(db, St.RECONNECTING, timeout_s=2)
    wait_state(db, St.CONNECTED, timeout_s=3)
    assert event_types(db).count("whatsapp_connected") == 1


def test_an_outage_longer_than_every_retry_recovers_by_itself_with_one_alert(stack, db, creds, caplog):
    """A quarter-hour WhatsApp outage, compressed: reconnects fail for 2 s while the delays (0.1–0.3 s) run out
    many times over; the session is never given up, the alert comes once after 0.5 s down, and it reconnects."""
    register()
    host = make_host(db, creds, host_opts={"down_alert_after_s": 0.5})
    try:
        _connect(host, db)
        host.driver.drop(SID, for_s=2.0)
        wait_state(db, St.RECONNECTING, timeout_s=2)
        wait_for(lambda: "whatsapp_down" in event_types(db), 3, "the alert")
        assert status(db)["state"] == St.RECONNECTING, "never failed, however many tries"
        wait_state(db, St.CONNECTED, timeout_s=5)
        assert event_types(db).count("whatsapp_down") == 1 and event_types(db)[-1] == "whatsapp_recovered"
        assert event_types(db).count("whatsapp_connected") == 1, "the same link, no relink"
        downs = [r for r in caplog.records if r.getMessage() == "whatsapp session down"]
        assert len(downs) == 1 and downs[0].levelname == "ERROR"
        assert SID in host.owned and company(db).whatsapp_connected is True
        # The owner: the outage on the owner page (nothing can carry it then), a message once it is over.
        notices = {d.get("kind"): d.to_dict() for d in db.collection("owner_notices").stream()}
        assert notices["whatsapp_down"]["state"] == "recorded"
        assert (
            notices["whatsapp_back"]["state"] == "queued" and "Связь восстановлена" in notices["whatsapp_back"]["text"]
        )
    finally:
        host.shutdown(timeout_s=5)


def test_a_session_refused_as_outdated_is_tried_again_by_the_next_deploy(stack, db, creds):
    register()
    old = make_host(db, creds, holder="host-old")
    try:
        _connect(old, db)
        old.driver.library_event(SID, "client_outdated")
        wait_state(db, St.CLIENT_OUTDATED)
    finally:
        old.shutdown(timeout_s=5)
    new = make_host(db, creds, holder="host-new")  # the deploy with a newer client
    try:
        wait_state(db, St.CONNECTED, timeout_s=5)
        assert SID in new.owned and company(db).whatsapp_connected is True
    finally:
        new.shutdown(timeout_s=5)


def test_an_inbound_message_that_cannot_be_stored_yet_is_stored_later_not_dropped(stack, db, creds, monkeypatch):
    from session_host import sessions

    register()
    host = make_host(db, creds, host_opts={"journal_replay_after_s": 0.1})
    real, failures = sessions.chat.accept_inbound, []

    def flaky(*args, **kwargs):
        if len(failures) < 2:
            failures.append(1)
            raise RuntimeError("503 Firestore unavailable")
        return real(*args, **kwargs)

    monkeypatch.setattr(sessions.chat, "accept_inbound", flaky)
    try:
        _connect(host, db)
        host.driver.customer_writes(SID, "79035557788", "Здравствуйте, есть время завтра?", message_id="3AFLAKY")
        conv = db.collection("conversations").document("962302_79035557788")
        wait_for(lambda: conv.collection("messages").document("3AFLAKY").get().exists, 5, "stored on a retry")
        assert len(failures) == 2
        assert wait_for(lambda: not list(db.collection("wa_inbox").stream()), 5, "the journal emptied")
    finally:
        host.shutdown(timeout_s=5)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the killed actor's exit
def test_a_host_killed_during_a_burst_loses_no_message_its_handler_got(stack, db, creds, monkeypatch):
    """WhatsApp acknowledged each message when the driver got it and will not send it again. The host dies before
    storing any (kill -9: no shutdown, no lease released); the host that takes the salon over stores them all."""
    from session_host import sessions

    register()
    a = make_host(db, creds, holder="host-a", host_opts={"journal_replay_after_s": 0.1})
    _connect(a, db)
    monkeypatch.setattr(sessions.chat, "accept_inbound", lambda *_, **__: _killed())  # dies before each store
    burst = [f"3ABURST{i}" for i in range(8)]
    for i, message_id in enumerate(burst):
        a.driver.customer_writes(SID, f"7903555{7700 + i}", f"Здравствуйте, есть время в {10 + i}:00?", message_id)
    wait_for(lambda: len(list(db.collection("wa_inbox").stream())) == len(burst), 5, "every message journaled")
    kill_minus_9(a)
    monkeypatch.undo()
    b = make_host(db, creds, holder="host-b", host_opts={"journal_replay_after_s": 0.1})
    try:
        stored = lambda: [  # noqa: E731
            m
            for i, m in enumerate(burst)
            if db.collection("conversations")
            .document(f"962302_7903555{7700 + i}")
            .collection("messages")
            .document(m)
            .get()
            .exists
        ]
        assert wait_for(lambda: len(stored()) == len(burst), 15, "every message stored by host-b")
        wait_for(lambda: not list(db.collection("wa_inbox").stream()), 10, "the journal emptied")  # after each store
    finally:
        b.shutdown(timeout_s=5)


def test_a_host_process_killed_mid_burst_hands_its_salon_and_every_message_it_took_to_the_other_host(
    stack, db, tmp_path
):
    """A real `python -m session_host` process holds a linked salon; customers write through its simulated phone
    while it gets SIGKILL. Every message its phone took (answered 200: the driver handed it to the host) is stored
    by the other host, which holds the salon within the lease time with the stored link: no new QR."""
    register()
    store = tmp_path / "shared-store"  # one credential store, as hosts share Postgres in production
    store.mkdir()
    url = f"http://127.0.0.1:{HOST_PORT + 5}"
    env = {
        **os.environ,
        "SESSION_HOST_PORT": str(HOST_PORT + 5),
        "SESSION_HOST_URL": url,
        "HOST_ID": "host-killed",
        "WA_LEASE_TTL_S": "3",
        "WA_CREDENTIALS": str(store),
        "PYTHONPATH": str(ROOT),
    }
    log = open(tmp_path / "host-killed.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "session_host"], cwd=ROOT, env=env, stdout=log, stderr=log)
    phone = requests.Session()
    phone.headers[TASK_SECRET_HEADER] = TASK_SECRET
    other = None
    try:
        wait_for(lambda: _answers(phone, f"{url}/healthz"), 30, "the host process")
        command(db, "start_qr")
        wait_state(db, St.QR, timeout_s=10)
        assert phone.post(f"{url}/simulator/sessions/{SID}/scan", json={"phone": "79161234567"}, timeout=5).ok
        wait_state(db, St.CONNECTED, timeout_s=10)

        taken: list[str] = []

        def customers_write() -> None:
            for i in range(40):
                body = {"from": f"7903555{7800 + i}", "text": f"Здравствуйте, есть время в {i % 12 + 9}:00?"}
                try:
                    resp = phone.post(f"{url}/simulator/sessions/{SID}/inbound", json=body, timeout=2)
                except requests.RequestException:
                    return  # the process is gone
                if resp.ok:
                    taken.append(body["from"])

        writing = threading.Thread(target=customers_write)
        writing.start()
        wait_for(lambda: len(taken) >= 5, 10, "a burst under way")
        proc.kill()  # SIGKILL: no shutdown, no lease released, whatever it held in memory is gone
        proc.wait(5)
        writing.join(10)
        other = make_host(db, store / "simulated-devices.sqlite3", holder="host-b")
        wait_for(lambda: SID in other.owned and other.driver.snapshot(SID)["connected"], 15, "the salon taken over")
        assert status(db)["state"] == St.CONNECTED and not other.driver.snapshot(SID)["pairing_code"]

        def stored() -> list[str]:
            return [
                p
                for p in taken
                if list(db.collection("conversations").document(f"962302_{p}").collection("messages").stream())
            ]

        wait_for(lambda: len(stored()) == len(taken), 20, f"all {len(taken)} messages the killed host took")
        wait_for(lambda: not list(db.collection("wa_inbox").stream()), 10, "the journal emptied")
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
        if other is not None:
            other.shutdown(timeout_s=5)


def _answers(session: requests.Session, url: str) -> bool:
    try:
        return session.get(url, timeout=1).ok
    except requests.RequestException:
        return False


def _killed() -> None:
    raise RuntimeError("host killed")


def kill_minus_9(host: SessionHost) -> None:
    """Nothing released, nothing more done: its actor thread ends (with whatever it held in memory), its ticks
    stop, its sockets close."""
    ended = threading.Event()

    def die() -> None:
        ended.set()
        raise SystemExit

    host._handle_die = die  # type: ignore[attr-defined]
    host._inbox.put(("die",))
    assert ended.wait(5)
    host._stopping.set()
    host._watch.unsubscribe()
    host.driver.close()


def test_a_stream_replaced_while_the_lease_is_ours_is_tried_once_then_fails_with_an_alert(stack, db, creds, caplog):
    register()
    host = make_host(db, creds, host_opts={"replaced_retry_s": 0.3})
    try:
        _connect(host, db)
        host.driver.library_event(SID, "stream_replaced")
        wait_state(db, St.RECONNECTING, timeout_s=2)
        wait_state(db, St.CONNECTED, timeout_s=3)  # one more try: a stale client of ours elsewhere is gone
        host.driver.library_event(SID, "stream_replaced")  # taken over again, soon
        wait_state(db, St.FAILED, timeout_s=3)
        assert [r.levelname for r in caplog.records if r.getMessage() == "whatsapp stream replaced"] == ["ERROR"]
    finally:
        host.shutdown(timeout_s=5)


def test_a_stream_replaced_by_the_lease_holder_lets_go_without_writing_a_status(host, db):
    _connect(host, db)
    before = status(db)
    taken = {"holder": "host-b", "renewed_at": firestore.SERVER_TIMESTAMP}  # another host holds it now
    session_lease.lease_ref(db, SID).update(taken)
    host.driver.library_event(SID, "stream_replaced")
    wait_for(lambda: SID not in host.owned, 3, "let go")
    host.writer.flush(2.0)
    assert status(db)["state"] == St.CONNECTED and status(db)["updated_at"] == before["updated_at"], "no write"


def test_a_temporary_ban_shows_its_end_offers_no_relink_and_resumes_by_itself(host, db):
    _connect(host, db)
    host.driver.library_event(SID, "temporary_ban", expire_s=1.5)
    banned = wait_state(db, St.TEMPORARILY_BANNED, timeout_s=2)
    assert "временно ограничил" in banned["message"] and "Привязывать заново не нужно" in banned["message"]
    assert re.search(r"до \d{2}:\d{2}", banned["message"]), banned["message"]
    assert banned["banned_until"] > utcnow(), "its end is shown"
    assert event_types(db)[-1] == "whatsapp_temporarily_banned"
    wait_state(db, St.CONNECTED, timeout_s=5)
    assert event_types(db).count("whatsapp_connected") == 1, "the same link, no relink"
    assert SID in host.owned


def test_a_deaf_session_is_restarted_by_the_watchdog_on_the_same_link(stack, db, creds, caplog):
    """Keepalives unanswered while the socket still looks connected: no disconnect ever comes, so the watchdog
    restarts the client (after 0.5 s here, 2 min in production)."""
    register()
    host = make_host(db, creds, host_opts={"deaf_restart_after_s": 0.5})
    try:
        _connect(host, db)
        host.driver.library_event(SID, "keepalive_timeout")
        wait_for(lambda: any(r.getMessage() == "deaf session restarted" for r in caplog.records), 5, "restart")
        wait_state(db, St.CONNECTED, timeout_s=3)
        assert any(r.getMessage() == "keepalive timeout" for r in caplog.records), "recorded as such"
        assert event_types(db).count("whatsapp_connected") == 1, "the same link, no relink"
    finally:
        host.shutdown(timeout_s=5)


def test_a_restarted_host_restores_the_session_without_a_scan(host, db, creds):
    _connect(host, db)
    host.shutdown(timeout_s=5)
    assert not session_lease.lease_ref(db, SID).get().exists, "leases released on shutdown"
    second = make_host(db, creds, holder="host-b")
    try:
        wait_for(lambda: second.driver.snapshot(SID)["connected"], 5, "the session restored")
        assert status(db)["state"] == St.CONNECTED
        assert session_lease.lease_ref(db, SID).get().get("holder") == "host-b"
        assert event_types(db).count("whatsapp_connected") == 1
    finally:
        second.shutdown(timeout_s=5)


def test_two_hosts_one_holder_and_takeover_after_a_crash(stack, db, creds):
    register()
    a = make_host(db, creds, holder="host-a")
    b = make_host(db, creds, holder="host-b")
    try:
        command(db, "start_qr")
        wait_state(db, St.QR, timeout_s=3)
        holder = session_lease.lease_ref(db, SID).get().get("holder")
        first, other = (a, b) if holder == "host-a" else (b, a)
        assert SID in first.owned and SID not in other.owned
        first.driver.scan(SID, "79161234567")
        wait_state(db, St.CONNECTED)
        # a crash: the holder stops renewing and drops its socket, without releasing anything
        first._stopping.set()
        first._watch.unsubscribe()
        first.driver.close()
        wait_for(lambda: SID in other.owned and other.driver.snapshot(SID)["connected"], 6, "the takeover")
        assert session_lease.lease_ref(db, SID).get().get("holder") == other.holder
    finally:
        for h in (a, b):
            h.shutdown(timeout_s=3)


def test_a_full_host_leaves_the_next_salon_to_a_host_with_room(stack, db, creds):
    """Each host holds at most its configured number of sessions (its driver has a thread for each): two salons
    on two hosts of one session each end up one per host, whichever host is asked first."""
    register()
    register(962303)
    a = make_host(db, creds, holder="host-a", host_opts={"max_sessions": 1})
    b = make_host(db, creds, holder="host-b", host_opts={"max_sessions": 1})
    other = "company_962303"
    try:
        command(db, "start_qr")
        command(db, "start_qr", sid=other)
        wait_for(lambda: status(db).get("state") == St.QR and status(db, other).get("state") == St.QR, 6, "two QRs")
        assert {len(a.owned), len(b.owned)} == {1}, "one salon per host"
        assert a.owned | b.owned == {SID, other}
    finally:
        for h in (a, b):
            h.shutdown(timeout_s=3)


def test_a_new_link_goes_to_the_host_holding_fewer_salons_or_here_if_that_host_never_takes_it(stack, db, creds, caplog):
    salons = [f"company_{n}" for n in (962302, 962303, 962309)]
    for sid in salons[:2]:  # the stand-in knows two salons; a QR needs no registration
        register(int(sid.split("_")[1]))
    a = make_host(db, creds, holder="host-a", host_opts={"link_defer_s": 1.0})
    b = None
    try:
        for sid in salons[:2]:  # host-a is alone: it takes both
            command(db, "start_qr", sid=sid)
            wait_for(lambda s=sid: status(db, s).get("state") == St.QR, 5, f"a QR for {sid}")
        assert a.owned == set(salons[:2])
        b = make_host(db, creds, holder="host-b", host_opts={"link_defer_s": 1.0})
        wait_for(lambda: db.collection(host_load.WA_HOSTS).document("host-b").get().exists, 5, "host-b's load")
        command(db, "start_qr", sid=salons[2])
        wait_for(lambda: status(db, salons[2]).get("state") == St.QR, 5, "the third QR")
        assert b.owned == {salons[2]} and salons[2] not in a.owned, "the emptier host took the new link"
        b.shutdown(timeout_s=3)
        b = None
        assert not db.collection(host_load.WA_HOSTS).document("host-b").get().exists, "a host leaving says so"

        # A host that published a light load and died: the link waits for it no longer than link_defer_s.
        ghost = {"holder": "host-0", "held": 0, "capacity": 150, "ttl_s": 30.0}
        db.collection(host_load.WA_HOSTS).document("host-0").set({**ghost, "renewed_at": firestore.SERVER_TIMESTAMP})
        command(db, "stop", sid=salons[0])
        wait_for(lambda: status(db, salons[0]).get("state") == St.STOPPED, 5, "the first salon stopped")
        command(db, "start_qr", sid=salons[0])
        wait_for(lambda: status(db, salons[0]).get("state") == St.QR, 6, "a QR after the wait")
        assert salons[0] in a.owned
        left = [r for r in caplog.records if r.getMessage() == "new link left to a lighter host"]
        assert {r.to for r in left} == {"host-b", "host-0"}, "host-a waited for the lighter hosts, then not"
    finally:
        for h in (a, b):
            if h is not None:
                h.shutdown(timeout_s=3)


def test_a_stop_request_from_an_uninstall_stops_and_unlinks_the_session(host, db):
    _connect(host, db)
    cid = command(db, "stop")
    stopped = wait_state(db, St.STOPPED)
    assert "отключено в YCLIENTS" in stopped["message"]
    assert not host.driver.has_credentials(SID)
    wait_for(lambda: db.collection("wa_commands").document(cid).get().get("state") == "done", 3, "command done")


def test_status_is_written_only_when_it_changes(host, db):
    writes = []
    watch = db.collection(WA_SESSIONS).document(SID).on_snapshot(lambda docs, *_: writes.extend(docs))
    try:
        _connect(host, db)
        host._inbox.put(("event", SID, Connected("79161234567")))
        wait_for(lambda: host._inbox.empty(), 2, "the host to settle")
        states = [d.to_dict()["state"] for d in writes if d.exists]
        assert states.count("connected") == 1
    finally:
        watch.unsubscribe()
    assert repositories.get_company(db, 962302).whatsapp_connected


def test_a_frozen_salon_is_paused_and_resumes_without_a_new_link(host, db):
    _connect(host, db)
    command(db, "pause")
    paused = wait_state(db, St.PAUSED)
    assert "заморожена" in paused["message"]
    assert host.driver.has_credentials(SID) and host.driver.snapshot(SID)["running"] is False
    wait_for(lambda: SID not in host.owned, 2, "the lease released")
    command(db, "resume")
    wait_state(db, St.CONNECTED)
    assert event_types(db).count("whatsapp_connected") == 1


def test_real_neonize_events_drive_the_session_states_and_company_records(host, db):
    """What the neonize driver emits for real WhatsApp events, delivered to the host as the driver does."""
    from neonize.proto import Neonize_pb2 as N

    from session_host.drivers import neonize_driver as nd

    command(db, "start_qr")
    wait_state(db, St.QR, timeout_s=5)
    host._sink(SID, nd.qr_event(b"2@neonize-qr,abc,def,ghi"))
    me = N.Device(JID=N.JID(User="79169998877", Server="s.whatsapp.net"), PushName="Лилия")
    assert nd.pair_status_event(N.PairStatus(ID=me.JID, Status=2)) is None
    host._sink(SID, nd.connected_event(me.JID.User, me.PushName))
    wait_state(db, St.CONNECTED)
    assert company(db).whatsapp_phone == "79169998877"
    host._sink(SID, nd.logged_out_event(N.LoggedOut(Reason=N.ConnectFailureReason.Value("MAIN_DEVICE_GONE"))))
    wait_state(db, St.LOGGED_OUT)
    assert company(db).whatsapp_connected is False
    assert event_types(db)[-1] == "whatsapp_logged_out"


def test_a_shared_postgres_store_resumes_each_salon_by_its_own_device(stack, db):
    """neonize needs the device JID to resume the right salon in a store shared by all; a new link asks for a
    new device. Checked on real neonize clients (built, not connected) and the Firestore registry."""
    from neonize.aioze.client import NewAClient
    from neonize.proto import Neonize_pb2 as N

    from session_host.device_registry import DeviceRegistry
    from session_host.drivers.neonize_driver import PostgresStore

    url = "postgres://wa:secret@127.0.0.1:5432/whatsmeow?sslmode=disable"
    store = PostgresStore(url, DeviceRegistry(db))
    fresh = NewAClient(**store.client_args(SID, "qr"))
    assert fresh.new_device is True and fresh.name == url and fresh.uuid == SID.encode()
    assert not store.has(SID)

    store.remember(SID, N.JID(User="79161234567", Server="s.whatsapp.net", Device=12))
    assert store.has(SID)
    resumed = NewAClient(**store.client_args(SID, "restore"))
    assert resumed.jid.User == "79161234567" and resumed.jid.Device == 12 and resumed.new_device is False
    assert NewAClient(**store.client_args("company_962303", "restore")).new_device is True, "no device: no resume"
    store.forget(SID)
    assert not store.has(SID)


def test_an_uninstall_that_arrives_while_the_holder_is_dead_is_carried_out_by_the_survivor(stack, db, creds):
    register()
    a = make_host(db, creds, holder="host-a")
    try:
        _connect(a, db)
        a._stopping.set()  # host-a dies holding the lease
        a._watch.unsubscribe()
        a.driver.close()
        command(db, "stop")
        b = make_host(db, creds, holder="host-b")
        try:
            wait_state(db, St.STOPPED, timeout_s=8)
            assert not b.driver.has_credentials(SID)
        finally:
            b.shutdown(timeout_s=3)
    finally:
        a.shutdown(timeout_s=3)
