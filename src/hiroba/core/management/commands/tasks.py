"""hiroba tasks requeue (--worker-id ID | --older-than SECONDS) | hiroba tasks status

A worker killed in the middle of a task (SIGKILL, a crash, the machine lost) leaves it RUNNING for
ever: django-tasks-db never looks at it again. `requeue` puts such tasks back in the queue, where any
worker takes them:

* ``--worker-id ID``: every task still running under that worker id. Worker ids are fixed per
  worker (deploy/systemd/hiroba-worker@.service runs this before the worker starts), so whatever
  its previous life left running is put back the moment it is restarted, or at once by another
  machine when it is gone for good.
* ``--older-than SECONDS``: every task running longer than that (hiroba-requeue.timer, 300 s:
  far beyond any of hiroba's tasks).

hiroba's tasks are safe to run again: mail goes through the outbox (a message already sent is not
sent twice) and analysis runs replace their result.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone


def requeue(*, worker_id: str | None = None, older_than: float | None = None) -> int:
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        running = DBTaskResult.objects.select_for_update().filter(status=TaskResultStatus.RUNNING)
        if older_than is not None:
            running = running.filter(started_at__lt=timezone.now() - timedelta(seconds=older_than))
        stale = [task for task in running if worker_id is None or (task.worker_ids and task.worker_ids[-1] == worker_id)]
        for task in stale:
            task.status = TaskResultStatus.READY
            task.started_at = None
            task.save(update_fields=["status", "started_at"])
    return len(stale)


class Command(BaseCommand):
    help = "バックグラウンド処理のキュー: 止まったワーカーが実行中のまま残した処理を戻す (requeue) / 件数 (status)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        again = sub.add_parser("requeue", help="実行中のまま残った処理をキューに戻す")
        again.add_argument("--worker-id", default=None, help="このワーカーIDで実行中の処理をすべて戻す")
        again.add_argument("--older-than", type=float, default=None, help="この秒数より長く実行中の処理を戻す")
        sub.add_parser("status", help="状態ごとの件数")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "status":
            from django_tasks_db.models import DBTaskResult

            for row in DBTaskResult.objects.values("status").annotate(n=Count("id")).order_by("status"):
                self.stdout.write(f"{row['status']} {row['n']}")
            return
        if options["worker_id"] is None and options["older_than"] is None:
            raise CommandError("--worker-id か --older-than を指定してください。")
        n = requeue(worker_id=options["worker_id"], older_than=options["older_than"])
        self.stdout.write(f"{n} tasks requeued")
