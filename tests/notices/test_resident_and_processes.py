"""The resident's pages (own notice, someone else's is 404 and logged, representatives), and
the exactly-once property across processes: a dispatcher killed with SIGKILL mid-batch, and
concurrent fallback runs racing residents opening their notices (PostgreSQL)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from hiroba.accounts.models import User
from hiroba.core.actors import Actor
from hiroba.core.models import AuditEntry
from hiroba.notices import batches, delivery, printing, recipients
from hiroba.notices.models import REACHED_DIGITALLY, Notice, PrintItem, Representative, Status

from .conftest import batch_csv, make_recipients, opt_in


def _send(notice_type, people, clerk, approver):
    check = batches.batch_check(notice_type=notice_type, raw=batch_csv(people))
    batch = batches.batch_create(actor=Actor.staff(clerk), check=check)
    batches.batch_approve(actor=Actor.staff(approver), batch=batch)
    batches.batch_dispatch(actor=Actor.staff(clerk), batch=batch)
    return batch


@pytest.mark.django_db
def test_own_notice_opens_someone_elses_is_404_and_logged(notice_type, clerk, approver, client):
    people = make_recipients(2)
    alice, bob = opt_in(people[0], notice_type), opt_in(people[1], notice_type)
    batch = _send(notice_type, people, clerk, approver)
    mine, theirs = batch.notices.get(recipient=people[0]), batch.notices.get(recipient=people[1])
    client.force_login(alice)
    page = client.get("/notices/")
    assert page.status_code == 200 and mine.title in page.content.decode()
    response = client.get(f"/notices/{mine.pk}/")
    assert response.status_code == 200 and "48000" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == Status.DELIVERED and mine.opened_by == alice and mine.opened_as == "self"
    assert client.get(f"/notices/{theirs.pk}/").status_code == 404
    assert AuditEntry.objects.filter(action="notices.foreign_access", object_id=str(theirs.pk)).exists()
    theirs.refresh_from_db()
    assert theirs.status == Status.QUEUED and bob


@pytest.mark.django_db
def test_representative_reads_granted_types_until_revoked(notice_type, clerk, approver, client):
    people = make_recipients(1)
    opt_in(people[0], notice_type)
    agent = User.objects.create_user(email="agent@example.jp", password="x-Long-pass-9")
    rep = recipients.representative_grant(actor="test", recipient=people[0], user=agent, types=[notice_type])
    batch = _send(notice_type, people, clerk, approver)
    notice = batch.notices.get()
    client.force_login(agent)
    assert notice.title in client.get("/notices/").content.decode()
    response = client.get(f"/notices/{notice.pk}/")
    assert response.status_code == 200 and "代理" in response.content.decode()
    notice.refresh_from_db()
    assert notice.opened_by == agent and notice.opened_as == Representative.Kind.REPRESENTATIVE
    recipients.representative_revoke(actor="test", representative=rep)
    assert client.get(f"/notices/{notice.pk}/").status_code == 404


@pytest.mark.django_db
def test_link_and_consent_from_the_resident_page(notice_type, client, resident):
    person = make_recipients(1)[0]
    client.force_login(resident)
    wrong = client.post("/notices/link/", {"atena_number": person.atena_number, "birth_date": "1900-01-01"})
    assert wrong.status_code == 400 and "一致しません" in wrong.content.decode()
    ok = client.post("/notices/link/", {"atena_number": person.atena_number,
                                        "birth_date": person.birth_date.isoformat()})
    assert ok.status_code == 302
    client.post(f"/notices/consent/{notice_type.slug}/", {"version": notice_type.consent_version, "decision": "give"})
    consent = recipients.active_consent(person, notice_type)
    assert consent is not None and consent.consent_version == notice_type.consent_version
    client.post(f"/notices/consent/{notice_type.slug}/", {"version": notice_type.consent_version,
                                                         "decision": "withdraw"})
    assert recipients.active_consent(person, notice_type) is None


@pytest.mark.django_db
def test_acknowledgement(departments, clerk, approver, client):
    from hiroba.notices import types

    kind = types.type_create(actor="test", slug="jidou-teate", name="児童手当", department=departments["care"],
                             needs_acknowledgement=True)
    assert (kind.reminder_days, kind.fallback_days) == (3, 7)
    types.template_publish(actor="test", notice_type=kind, title="児童手当 {{ 年度 }}",
                           body="{{ 保険料 }} {{ 納期限 }}")
    people = make_recipients(1)
    user = opt_in(people[0], kind)
    batch = _send(kind, people, clerk, approver)
    notice = batch.notices.get()
    client.force_login(user)
    client.get(f"/notices/{notice.pk}/")
    client.post(f"/notices/{notice.pk}/acknowledge/")
    notice.refresh_from_db()
    assert notice.status == Status.ACKNOWLEDGED and notice.acknowledged_at


@pytest.mark.django_db
def test_staff_upload_preview_approve_and_record(notice_type, make_staff, client, approver):
    from django.core.files.uploadedfile import SimpleUploadedFile

    clerk = make_staff(email="c2@example.jp", department="care")
    people = make_recipients(3)
    client.force_login(clerk.user)
    bad = client.post("/staff/notices/batches/new/", {"notice_type": notice_type.pk, "file": SimpleUploadedFile(
        "b.csv", "宛名番号,年度\n9,1\n".encode("cp932"))})
    assert bad.status_code == 400 and "宛名にありません" in bad.content.decode()
    good = client.post("/staff/notices/batches/new/", {"notice_type": notice_type.pk, "file": SimpleUploadedFile(
        "b.csv", batch_csv(people))})
    assert good.status_code == 302
    batch_id = int(good["Location"].rstrip("/").rsplit("/", 1)[-1])
    detail = client.get(f"/staff/notices/batches/{batch_id}/")
    assert "承認待ち" in detail.content.decode()
    client.post(f"/staff/notices/batches/{batch_id}/approve/")  # the creator: refused
    assert Notice.objects.filter(batch_id=batch_id, status=Status.CREATED).count() == 3
    client.force_login(approver)
    client.post(f"/staff/notices/batches/{batch_id}/approve/")
    client.post(f"/staff/notices/batches/{batch_id}/dispatch/")
    assert Notice.objects.filter(batch_id=batch_id, status=Status.PAPER).count() == 3
    record = client.get(f"/staff/notices/batches/{batch_id}/record.csv")
    assert record.status_code == 200 and people[0].atena_number in record.content.decode("utf-8-sig")
    # another department's clerk does not see the batch
    other = make_staff(email="other@example.jp", department="digital")
    client.force_login(other.user)
    assert client.get(f"/staff/notices/batches/{batch_id}/").status_code in (403, 404)


# --- separate processes ------------------------------------------------------------------------

SETUP = """
import datetime as dt
from hiroba.accounts.models import Role, StaffMembership, User
from hiroba.core.models import Department
from hiroba.notices import recipients, types
from hiroba.notices.models import Recipient
care = Department.objects.create(code="care", name="高齢介護課")
approver = User.objects.create_user(email="approver@example.jp", password=None, kind="staff")
StaffMembership.objects.create(user=approver, department=care, role=Role.APPROVE)
kind = types.type_create(actor="t", slug="kaigo-hoken", name="介護保険料", department=care)
types.template_publish(actor="t", notice_type=kind, title="{{ 年度 }}", body="{{ 保険料 }} {{ 納期限 }}")
Recipient.objects.bulk_create([Recipient(atena_number=f"{i:010d}", name=f"区民 {i}", postal_code="102-8688",
    address="千代田区", birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=i)) for i in range(1, 101)])
for r in Recipient.objects.order_by("pk")[:30]:
    u = User.objects.create_user(email=f"r{r.pk}@example.jp", password=None)
    recipients.account_link(user=u, atena_number=r.atena_number, birth_date=r.birth_date)
    recipients.consent_give(user=u, notice_type=kind, version=kind.consent_version)
"""

COUNTS = """
from django.db import connection, transaction
from hiroba.core.models import Notification
from hiroba.notices.models import Notice, NoticeEvent
# one snapshot: the killed sender's last COMMIT may land between two separate counts
with transaction.atomic():
    if connection.vendor == "postgresql":
        connection.cursor().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    # only the batch's own mails: on PostgreSQL the database is the suite's test database, where
    # an earlier test's process may have left other messages
    mails = Notification.objects.filter(object_type="notices.batch")
    print(Notice.objects.count(), Notice.objects.filter(status="created").count(),
          Notice.objects.filter(status="queued").count(), Notice.objects.filter(status="paper").count(),
          mails.count(), NoticeEvent.objects.count(), mails.values("recipient").distinct().count())
"""


def test_dispatcher_killed_mid_batch_resumes_without_doubles_or_gaps(request, tmp_path):
    from tests.processes import VENV_BIN, shared_database

    with shared_database(request, tmp_path) as db:
        db.shell(SETUP)
        lines = ["宛名番号,年度,保険料,納期限"] + [f"{i:010d},令和7,{i},7月31日" for i in range(1, 101)]
        (db.workdir / "batch.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        proc = db.start(str(VENV_BIN / "hiroba"), "notices", "batch", "send", "batch.csv", "--type", "kaigo-hoken",
            "--approved-by", "approver@example.jp", "--chunk", "5", "--pause", "1", log="send")
        # paced (20 chunks a second apart), so the kill lands mid-batch even when each look below
        # (a `hiroba shell` process) takes seconds on a loaded machine
        deadline = time.time() + 60
        while time.time() < deadline:
            total, created, *_rest = map(int, db.shell(COUNTS).split())
            if total and 0 < created < 100 - 10:
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        total, created, queued, paper, mails, events, addresses = map(int, db.shell(COUNTS).split())
        assert total == 100 and 0 < created < 100, (total, created)
        assert queued + paper + created == 100 and events == queued + paper and mails == queued
        batch_id = db.shell("from hiroba.notices.models import Batch; print(Batch.objects.get().pk)").strip()
        resumed = db.hiroba("notices", "batch", "dispatch", batch_id, "--chunk", "50")
        assert resumed.returncode == 0, resumed.stderr
        total, created, queued, paper, mails, events, addresses = map(int, db.shell(COUNTS).split())
        assert (total, created, queued, paper) == (100, 0, 30, 70)
        assert mails == 30 and addresses == 30 and events == 100
        state = db.shell("from hiroba.notices.models import Batch; print(Batch.objects.get().state)").strip()
        assert state == "dispatched"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_fallbacks_and_openings_reach_everyone_exactly_once(notice_type, clerk, approver):
    people = make_recipients(60)
    users = [opt_in(p, notice_type) for p in people[:40]]
    batch = _send(notice_type, people, clerk, approver)
    later = timezone.now() + timezone.timedelta(days=notice_type.fallback_days + 1)
    notices = {n.recipient_id: n for n in batch.notices.select_related("recipient")}
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def fallback() -> None:
        try:
            start.wait()
            printing.fallback(now=later)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    def opener(chunk: list[User]) -> None:
        try:
            start.wait()
            for user in chunk:
                notice = notices[user.notice_recipient.pk]
                delivery.notice_open(notice=Notice.objects.get(pk=notice.pk), user=user, as_="self")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=fallback) for _ in range(3)]
    threads += [threading.Thread(target=opener, args=(users[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    printing.fallback(now=later)
    for notice in batch.notices.all():
        reached = notice.status in REACHED_DIGITALLY
        printed = PrintItem.objects.filter(notice=notice).count()
        assert reached != (printed == 1), (notice.pk, notice.status, printed)
        assert printed <= 1
    assert PrintItem.objects.count() == batch.notices.exclude(status__in=REACHED_DIGITALLY).count()
