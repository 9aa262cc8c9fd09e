"""Deletion after the programme: the service, the django-tasks task and `hiroba workshops purge`."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django_tasks import task_backends

from hiroba.core.models import AuditEntry, Notification
from hiroba.workshops import services, tasks
from hiroba.workshops.models import Application

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(programme, submit):
    for i in range(3):
        submit(programme, i)
    return programme


def test_it_anonymises_every_applicant_on_the_purge_date(finished):
    assert services.programmes_purge_due(actor="system", today=date(2026, 6, 29)) == []
    assert services.programmes_purge_due(actor="system", today=date(2026, 6, 30)) == [("r7-jhs", 3)]
    for app in Application.objects.all():
        assert app.anonymised_at is not None and app.birth_date is None
        for name in services.PERSONAL_FIELDS:
            if name != "birth_date":
                assert getattr(app, name) == "", name
        assert app.receipt_number.startswith("R7-JHS-") and app.grade in (7, 8, 9)
    finished.refresh_from_db()
    assert finished.purged_at is not None
    entry = AuditEntry.objects.get(action="workshops.purge")
    assert entry.actor_label == "system" and entry.changes["applications_anonymised"] == 3
    # the 12 mails they were sent (consent request, receipt, two confirmations each) leave the outbox too
    assert entry.changes["mails_deleted"] == 12 and not Notification.objects.exists()
    # A second run finds nothing left to do.
    assert services.programmes_purge_due(actor="system", today=date(2026, 7, 1)) == []


def test_the_command_purges_and_can_dry_run(finished):
    out = StringIO()
    call_command("workshops", "purge", "--date", "2026-07-01", "--dry-run", stdout=out)
    assert "対象 r7-jhs: 申込 3 件" in out.getvalue()
    assert not Application.objects.filter(anonymised_at__isnull=False).exists()
    out = StringIO()
    call_command("workshops", "purge", "--date", "2026-07-01", stdout=out)
    assert "消去 r7-jhs: 申込 3 件" in out.getvalue()
    assert Application.objects.filter(anonymised_at__isnull=False).count() == 3


def test_the_command_nothing_due_today_changes_nothing(finished):
    out = StringIO()
    call_command("workshops", "purge", "--date", "2026-01-01", stdout=out)
    assert "0 programme(s) purged" in out.getvalue()
    assert not AuditEntry.objects.filter(action="workshops.purge").exists()


def test_the_task_runs_the_same_purge(finished):
    assert tasks.purge_due_programmes.call("2026-07-01") == [["r7-jhs", 3]]
    assert AuditEntry.objects.filter(action="workshops.purge").count() == 1


def test_the_command_can_queue_the_task(finished, settings):
    out = StringIO()
    call_command("workshops", "purge", "--enqueue", "--date", "2026-07-01", stdout=out)
    assert out.getvalue().startswith("queued ")
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.get()
    assert queued.task_path == "hiroba.workshops.tasks.purge_due_programmes"
    assert task_backends["default"].get_result(str(queued.id)).args == ["2026-07-01"]
