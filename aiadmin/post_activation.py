"""The post-activation task: runs once per activation. Full sync and the welcome message are added by the
sync issue; today it records that the activation's follow-up was received, exactly once."""

from __future__ import annotations

import logging

from google.cloud import firestore

from aiadmin import onboarding_view, repositories
from aiadmin.models import Event, PostActivationRun, PostActivationTask, session_id_for

log = logging.getLogger("aiadmin.post_activation")


def handle(db: firestore.Client, task: PostActivationTask, task_name: str | None) -> bool:
    """True when this call did the work, False when this activation's run was already recorded."""

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        ref = repositories.post_activation_ref(db, task.salon_id)
        snap = ref.get(transaction=tx)
        if snap.exists and snap.get("activation_id") == task.activation_id:
            return False
        tx.set(
            ref,
            PostActivationRun(
                salon_id=task.salon_id,
                activation_id=task.activation_id,
                task_name=task_name,
                note="sync and welcome message: not built yet",
            ).to_firestore(),
        )
        repositories.add_event(
            tx,
            db,
            Event(
                salon_id=task.salon_id,
                type="post_activation_received",
                data={"activation_id": task.activation_id},
            ),
        )
        return True

    did = run(db.transaction())
    # The owner's page waits on this to say "Готово"; the sync issue reports "loading" before its first sync.
    onboarding_view.report_setup(db, session_id_for(task.salon_id), "done")
    log.info(
        "post-activation %s",
        "recorded" if did else "already recorded",
        extra={"salon_id": task.salon_id, "task_name": task_name},
    )
    return did
