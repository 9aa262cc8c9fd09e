"""`hiroba tasks requeue`: a task a killed worker left RUNNING goes back to the queue for another."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from hiroba.core.management.commands.tasks import requeue


def _task(worker: str, started_seconds_ago: float, status=TaskResultStatus.RUNNING) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=status, args_kwargs={"args": [1], "kwargs": {}}, task_path="hiroba.core.notify.deliver",
        worker_ids=[worker], queue_name="default", backend_name="default", run_after=timezone.now(),
        started_at=timezone.now() - timedelta(seconds=started_seconds_ago), priority=0)


@pytest.mark.django_db
def test_requeue_by_worker_id_and_by_age(capsys):
    dead = _task("host-worker-1", 2)
    alive = _task("host-worker-2", 2)
    old = _task("host-worker-2", 900)
    done = _task("host-worker-1", 900, status=TaskResultStatus.SUCCESSFUL)

    assert requeue(worker_id="host-worker-1") == 1
    dead.refresh_from_db()
    assert dead.status == TaskResultStatus.READY and dead.started_at is None
    assert DBTaskResult.objects.ready().filter(pk=dead.pk).exists()  # any worker takes it now

    call_command("tasks", "requeue", "--older-than", "300")
    assert "1 tasks requeued" in capsys.readouterr().out
    alive.refresh_from_db(), old.refresh_from_db(), done.refresh_from_db()
    assert alive.status == TaskResultStatus.RUNNING  # a live worker's recent task is left alone
    assert old.status == TaskResultStatus.READY
    assert done.status == TaskResultStatus.SUCCESSFUL
