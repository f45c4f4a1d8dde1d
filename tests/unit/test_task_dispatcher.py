"""The local Cloud Tasks stand-in as a person trying reminders uses it: tasks listed with their queue and due time,
one run now on request (RunTask), and clear answers for a task that is unknown or already ran."""

from __future__ import annotations

import time

import pytest

from devstack.task_dispatcher import Dispatcher, create_app


@pytest.fixture
def dispatcher():
    d = Dispatcher(backoff_scale=0.01)
    yield d
    d.clear()


@pytest.fixture
def client(dispatcher):
    with create_app(dispatcher).test_client() as c:
        yield c


def test_a_task_due_later_is_listed_with_its_schedule_time_and_runs_on_request(client):
    body = {"name": "rem-1-2-day_before-x", "url": "http://127.0.0.1:9/none", "payload": {}}
    body["schedule_time"] = "2099-01-02T16:00:00+00:00"
    assert client.post("/queues/reminders/tasks", json=body).status_code == 201
    listed = client.get("/tasks", query_string={"queue": "reminders"}).get_json()
    assert [(t["name"], t["queue"], t["schedule_time"], t["state"]) for t in listed] == [
        ("rem-1-2-day_before-x", "reminders", "2099-01-02T16:00:00+00:00", "pending")
    ]
    assert client.post("/tasks/rem-1-2-day_before-x:run").status_code == 200
    deadline = time.monotonic() + 5
    while client.get("/tasks").get_json()[0]["attempts"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.get("/tasks").get_json()[0]["attempts"] >= 1, "dispatched now, not in 2099"


def test_run_answers_404_for_an_unknown_task_and_409_for_one_that_already_ran(client, dispatcher):
    assert client.post("/tasks/nope:run").status_code == 404
    assert client.post("/tasks/nope:stop").status_code == 404
    body = {"name": "t1", "url": "http://127.0.0.1:9/none", "payload": {}, "delay_s": 3600}
    assert client.post("/queues/reminders/tasks", json=body).status_code == 201
    dispatcher.tasks["reminders/t1"].state = "done"  # as after a successful dispatch
    answer = client.post("/tasks/t1:run")
    assert answer.status_code == 409 and "done" in answer.get_json()["error"]
