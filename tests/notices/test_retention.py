"""Retention: the e-mail body 7 days after sending, the notice after the type's retention days from
when it reached its person; the proof (hash, version, route, statuses) stays; idempotent, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hiroba.core.actors import Actor
from hiroba.core.models import AuditEntry, Notification
from hiroba.notices import audit_actions, printing, recipients, retention
from hiroba.notices.models import NoticeEvent, RecipientUpload, Status

from .conftest import HEADER, make_recipients, opt_in
from .test_core_path import deliver_all, run, send

pytestmark = pytest.mark.django_db


def test_purge_on_the_types_schedule_keeps_the_proof(notice_type, clerk, approver, client):
    people = make_recipients(3)
    users = [opt_in(p, notice_type) for p in people[:2]]
    batch = send(notice_type, people, clerk, approver)
    deliver_all()
    opened = batch.notices.get(recipient=people[0])
    client.force_login(users[0])
    assert client.get(f"/notices/{opened.pk}/").status_code == 200
    unopened = batch.notices.get(recipient=people[1])
    letter = batch.notices.get(recipient=people[2])
    fallback = printing.fallback()
    printing.run_transition(actor=Actor.staff(clerk), run=fallback.run, name="print")
    printing.run_transition(actor=Actor.staff(clerk), run=fallback.run, name="post")
    proof = {n.pk: (n.content_sha256, n.template_id, n.route) for n in batch.notices.all()}
    events = NoticeEvent.objects.filter(notice__batch=batch).count()

    # day 8: the e-mail bodies go, the notices stay
    result = retention.purge(now=timezone.now() + timedelta(days=8))
    assert (result.mail_bodies, result.notices) == (2, 0)
    mail = Notification.objects.get(pk=opened.notification_id)
    assert mail.body == "" and mail.recipient and mail.sent_at
    # after the type's retention: the opened notice and the posted letter, not the unopened one
    later = timezone.now() + timedelta(days=notice_type.retention_days, hours=1)
    dry = retention.purge(now=later, dry_run=True)
    assert dry.notices == 2 and batch.notices.filter(purged_at__isnull=False).count() == 0
    result = retention.purge(now=later)
    assert result.notices == 2
    for notice in (opened, letter):
        notice.refresh_from_db()
        assert notice.purged_at and notice.content_html == "" and notice.title == "" and notice.values == {}
        assert (notice.content_sha256, notice.template_id, notice.route) == proof[notice.pk]
    unopened.refresh_from_db()
    assert unopened.content_html and unopened.purged_at is None and unopened.status == Status.SENT
    assert NoticeEvent.objects.filter(notice__batch=batch).count() == events
    entries = AuditEntry.objects.filter(action=audit_actions.CONTENT_PURGE)
    assert entries.count() == 2
    # idempotent: nothing more, no new audit entry
    assert retention.purge(now=later).total == 0 and entries.count() == 2
    # the resident still sees the record, without the content
    page = client.get(f"/notices/{opened.pk}/").content.decode()
    assert "保存期間を過ぎたため消去されました" in page and opened.content_sha256 in page


def test_a_recipient_list_left_in_preview_is_discarded_and_the_command(notice_type, clerk):
    upload = recipients.upload_stage(actor=Actor.staff(clerk), raw=(HEADER + "1,花子,1028688,千代田区,1980-1-1,\n")
                                     .encode(), filename="a.csv")
    RecipientUpload.objects.filter(pk=upload.pk).update(created_at=timezone.now() - timedelta(days=8))
    code, out, _err = run("purge", "--dry-run")
    assert code == 0 and "uploads 1 (dry run)" in out
    code, out, _err = run("purge")
    assert out.splitlines() == ["mail bodies 0", "notices 0", "uploads 1"]
    upload.refresh_from_db()
    assert upload.state == RecipientUpload.State.DISCARDED and bytes(upload.content) == b""
    assert run("purge")[1].splitlines()[-1] == "uploads 0"
