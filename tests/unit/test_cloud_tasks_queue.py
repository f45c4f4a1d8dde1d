"""The Cloud Tasks adapter builds the task we mean. The gcloud emulator cannot check name deduplication, so a
small fake client stands in for the service and behaves like it does for names (AlreadyExists)."""

import json
import time

import pytest
import time_machine
from google.api_core import exceptions as gexc

from aiadmin.core.errors import ServiceUnavailable
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import CloudTasksQueue, Task


class FakeCloudTasks:
    def __init__(self, fail_with: Exception | None = None):
        self.created: dict[str, dict] = {}
        self.fail_with = fail_with

    def queue_path(self, project, location, queue):
        return f"projects/{project}/locations/{location}/queues/{queue}"

    def create_task(self, parent, task, timeout, retry):
        if self.fail_with:
            raise self.fail_with
        if task["name"] in self.created:
            raise gexc.AlreadyExists("task exists")
        self.created[task["name"]] = {"parent": parent, **task}


def queue(fake):
    settings = Settings(
        google_cloud_project="ai-admin-prod",
        region="europe-west1",
        tasks_target_base_url="https://fn.example/",
        tasks_service_account="tasks@p.iam",
    )
    return CloudTasksQueue(settings, client=fake)


def test_a_named_http_task_with_oidc_is_created_once():
    fake = FakeCloudTasks()
    task = Task(queue="webhooks", name="wh-abc-1", function="webhook_worker", payload={"receipt_key": "abc"}, delay_s=2)
    assert queue(fake).enqueue(task) is True
    assert queue(fake).enqueue(task) is False, "the same name again is a duplicate, not an error"
    created = fake.created["projects/ai-admin-prod/locations/europe-west1/queues/webhooks/tasks/wh-abc-1"]
    http = created["http_request"]
    assert http["url"] == "https://fn.example/webhook_worker"
    assert http["oidc_token"] == {"service_account_email": "tasks@p.iam", "audience": http["url"]}
    assert json.loads(http["body"]) == {"receipt_key": "abc"}
    assert 0 < created["schedule_time"].seconds - time.time() <= 3


def test_a_send_to_the_session_host_carries_a_token_for_the_host_service():
    fake = FakeCloudTasks()
    send = Task(
        queue="outbound",
        name="reply-1",
        function="send",
        payload={},
        target_url="https://session-host-abc-ew.a.run.app/send",
    )
    assert queue(fake).enqueue(send) is True
    http = next(iter(fake.created.values()))["http_request"]
    assert http["url"] == "https://session-host-abc-ew.a.run.app/send"
    # Cloud Run accepts an ID token whose audience is the service's URL, not a path under it.
    assert http["oidc_token"]["audience"] == "https://session-host-abc-ew.a.run.app"


def test_unknown_queues_are_a_programming_error_and_outages_a_503():
    with pytest.raises(ValueError):
        queue(FakeCloudTasks()).enqueue(Task(queue="nope", name="x", function="f", payload={}))
    broken = queue(FakeCloudTasks(fail_with=gexc.ServiceUnavailable("down")))
    with pytest.raises(ServiceUnavailable):
        broken.enqueue(Task(queue="webhooks", name="x", function="f", payload={}))


def test_a_delay_counts_from_googles_time_on_a_host_whose_clock_runs_ahead(caplog):
    """A reply's quiet window of 2 s must not become an hour on a host an hour ahead of Firestore (and Cloud Tasks)."""
    from datetime import UTC, datetime, timedelta

    from aiadmin.core import firestore_clock

    fake = FakeCloudTasks()
    real = datetime.now(UTC)
    firestore_clock.reset()
    try:
        with time_machine.travel(real + timedelta(hours=1), tick=False):
            firestore_clock.observe(real, local_before=datetime.now(UTC))  # what a Firestore read's time says
            queue(fake).enqueue(Task(queue="ai-turns", name="turn-1", function="ai_turn_worker", payload={}, delay_s=2))
            at_google = next(iter(fake.created.values()))["schedule_time"].ToDatetime(tzinfo=UTC)
            assert abs(at_google - (real + timedelta(seconds=2))) < timedelta(seconds=1), at_google
            reminder = datetime(2031, 5, 6, 16, 0, tzinfo=UTC)
            queue(fake).enqueue(Task(queue="reminders", name="rem-1", function="f", payload={}, schedule_at=reminder))
            assert (
                fake.created[next(n for n in fake.created if n.endswith("rem-1"))]["schedule_time"].ToDatetime(
                    tzinfo=UTC
                )
                == reminder
            ), "an absolute time is a moment, not a delay: left as it is"
    finally:
        firestore_clock.reset()
    assert [r.getMessage() for r in caplog.records if r.name == "aiadmin.clock"] == [
        "this process's clock is off Firestore's"
    ]
