"""Every Cloud Tasks queue the code uses, with its limits. Terraform and the local dispatcher read this."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueSpec:
    name: str
    max_dispatches_per_second: float
    max_concurrent_dispatches: int
    max_attempts: int
    min_backoff_s: float
    max_backoff_s: float


WEBHOOKS = QueueSpec("webhooks", 50, 20, 20, 1, 300)
POST_ACTIVATION = QueueSpec("post-activation", 5, 5, 10, 5, 600)
AI_TURNS = QueueSpec("ai-turns", 20, 20, 10, 1, 60)
# Sends are paced per session by the host itself (it answers 429 with Retry-After); the queue only bounds totals.
OUTBOUND = QueueSpec("outbound", 10, 10, 20, 1, 120)

# One sync task at a time: each process keeps YCLIENTS's 5 req/s and 200 req/min itself, so a single worker in
# flight keeps all of them together inside the budget (429s are honoured with Retry-After on top).
SYNC = QueueSpec("sync", 1, 1, 8, 10, 900)

# Reminders fire at their `schedule_time`; a few attempts only: a reminder hours late is worse than none.
REMINDERS = QueueSpec("reminders", 20, 10, 5, 10, 300)

# Owner page refreshes and summaries: cheap, idempotent, and worthless when late.
OWNER = QueueSpec("owner", 20, 10, 5, 1, 60)

QUEUES: dict[str, QueueSpec] = {
    q.name: q for q in (WEBHOOKS, POST_ACTIVATION, AI_TURNS, OUTBOUND, SYNC, REMINDERS, OWNER)
}
