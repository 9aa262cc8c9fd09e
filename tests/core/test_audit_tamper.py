"""An audit entry once written does not vanish unseen, even before the chainer links it.

A pending entry cannot be deleted until it is in the chain; one deleted, altered, copied or
forged by someone who lifts the triggers (database rights, but not the audit key) is reported
by `verify`; and every declared row (a submission, an application, a paper ballot …) without
its entry is reported too. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from hiroba.accounts.models import StaffMembership
from hiroba.core import audit
from hiroba.core.models import AuditEntry, PendingAuditCounter, PendingAuditEntry

pytestmark = pytest.mark.django_db


def _pending(n: int, *, start: int = 1) -> None:
    for i in range(start, start + n):
        audit.record_pending(actor="resident", action="test.receive", object_type="x.thing", object_id=i,
                             object_repr=f"thing {i}", changes={"n": i})


def _as_attacker(*statements: tuple[str, list[object]]) -> None:
    """Someone with database rights: lift every trigger, then run the statements."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in ("core_pendingauditentry", "core_pendingauditcounter", "core_auditentry"):
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER "{name}"')
        for sql, params in statements:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            for table in ("core_pendingauditentry", "core_pendingauditcounter", "core_auditentry"):
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def _verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except SystemExit as exit_info:
        return int(exit_info.code), out.getvalue().strip()
    return 0, out.getvalue().strip()


# --- the triggers ----------------------------------------------------------------------------

def test_a_pending_entry_cannot_be_deleted_before_it_is_linked():
    _pending(2)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_pendingauditentry WHERE pending_seq = 1")
    with pytest.raises(DatabaseError), transaction.atomic():
        PendingAuditEntry.objects.all().delete()
    assert audit.pending_count() == 2


@pytest.mark.postgres
def test_the_pending_table_cannot_be_truncated():
    _pending(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE core_pendingauditentry")
    assert audit.pending_count() == 1


def test_the_chainer_removes_what_it_has_linked():
    _pending(3)
    assert audit.chain_pending(batch_size=2) == 3
    assert audit.pending_count() == 0
    assert list(AuditEntry.objects.values_list("pending_seq", flat=True)) == [1, 2, 3]
    assert _verify() == (0, "OK 3 entries")


def test_the_pending_counter_cannot_be_lowered_or_removed():
    _pending(3)
    with pytest.raises(DatabaseError), transaction.atomic():
        PendingAuditCounter.objects.update(last_seq=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        PendingAuditCounter.objects.all().delete()
    assert PendingAuditCounter.objects.get().last_seq == 3


def test_numbers_rolled_back_with_their_write_leave_no_gap():
    _pending(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        _pending(1, start=2)
        raise RuntimeError("the submission failed")
    _pending(1, start=3)
    audit.chain_pending()
    assert list(AuditEntry.objects.values_list("pending_seq", "object_id")) == [(1, "1"), (2, "3")]
    assert _verify() == (0, "OK 2 entries")


# --- what verify reports when the triggers were lifted ---------------------------------------

def test_verify_reports_a_pending_entry_deleted_before_it_was_linked():
    _pending(3)
    _as_attacker(("DELETE FROM core_pendingauditentry WHERE pending_seq = 2", []))
    code, message = _verify()
    assert code == 1
    assert message.startswith("NG entry 2: pending entries 2 missing (removed before they were linked")


def test_verify_reports_the_newest_pending_entries_deleted():
    _pending(3)
    _as_attacker(("DELETE FROM core_pendingauditentry WHERE pending_seq >= 2", []))
    assert _verify() == (1, "NG: pending entries 2–3 missing (removed before they were linked into the chain)")


def test_verify_reports_a_pending_entry_deleted_and_reinserted_with_other_content():
    _pending(2)
    row = PendingAuditEntry.objects.values().get(pending_seq=2)
    forged = {**row, "changes": json.dumps({"n": 99}), "ip_address": "198.51.100.66"}
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    columns = ", ".join(forged)
    values = ", ".join(f"%s{cast}" if name == "changes" else "%s" for name in forged)
    _as_attacker(("DELETE FROM core_pendingauditentry WHERE pending_seq = 2", []),
                 (f"INSERT INTO core_pendingauditentry ({columns}) VALUES ({values})", list(forged.values())))
    code, message = _verify()
    assert code == 1
    assert message == "NG entry 2: forged, or altered before it was linked (its pending entry's MAC does not match)"


def test_verify_reports_a_pending_entry_renumbered_to_fill_a_gap():
    _pending(3)
    _as_attacker(("DELETE FROM core_pendingauditentry WHERE pending_seq = 2", []),
                 ("UPDATE core_pendingauditentry SET pending_seq = 2 WHERE pending_seq = 3", []),
                 ("UPDATE core_pendingauditcounter SET last_seq = 2", []))
    code, message = _verify()
    assert (code, message) == (1, "NG entry 2: forged, or altered before it was linked (its pending entry's MAC "
                                  "does not match)")


def test_verify_reports_a_copy_of_a_linked_entry_sent_through_again():
    _pending(1)
    audit.chain_pending()
    entry = AuditEntry.objects.get()
    copy = {"pending_seq": 2, "nonce": entry.pending_nonce, "mac": entry.pending_mac,
            **{name: getattr(entry, name) for name in ("occurred_at", "actor_id", "actor_label", "action",
                                                        "object_type", "object_id", "object_repr", "request_id",
                                                        "ip_address")}}
    PendingAuditEntry.objects.bulk_create([PendingAuditEntry(changes=entry.changes, **copy)])
    PendingAuditCounter.objects.update(last_seq=2)
    code, message = _verify()
    assert code == 1
    assert "entry 2" in message and ("copy of entry 1" in message or "MAC" in message)


def test_verify_reports_a_forged_pending_entry():
    _pending(1)
    PendingAuditEntry.objects.bulk_create([PendingAuditEntry(
        pending_seq=2, nonce="on" + "0" * 32, mac="f" * 64, occurred_at=PendingAuditEntry.objects.get().occurred_at,
        actor_label="resident", action="test.receive", object_type="x.thing", object_id="2", object_repr="thing 2")])
    PendingAuditCounter.objects.update(last_seq=2)
    code, message = _verify()
    assert code == 1 and message.startswith("NG entry 2: forged")


# --- declared rows without their entry --------------------------------------------------------

@pytest.fixture
def memberships_need_entries():
    """A declaration like the domain apps' (consultations, workshops, proposals), on a core model."""
    requirement = ("accounts.staffmembership", "test.membership_grant")
    audit.require_entries(model=StaffMembership, action="test.membership_grant")
    yield
    audit._REQUIRED.pop(requirement)


def test_verify_reports_each_declared_row_without_its_entry(memberships_need_entries, make_staff):
    audited = make_staff(email="one@example.jp").user.memberships.get()
    audit.record(actor="test", action="test.membership_grant", obj=audited)
    silent = make_staff(email="two@example.jp").user.memberships.get()
    code, message = _verify()
    assert code == 1
    assert message == (f"NG: 1 accounts.staffmembership without their audit entry test.membership_grant "
                       f"(id {silent.pk})")
    audit.record(actor="test", action="test.membership_grant", obj=silent)
    assert _verify()[0] == 0


def test_the_domain_apps_declare_their_resident_writes():
    declared = {(r.label, r.action) for r in audit.required_entries()}
    assert {("consultations.submission", "consultations.submission_receive"),
            ("workshops.application", "workshops.application_submit"),
            ("proposals.participation", "proposals.paper_ballot_enter"),
            ("proposals.call", "proposals.results_publish")} <= declared


def test_verify_reports_a_submission_whose_pending_entry_was_deleted(departments):
    """The probe's case: `DELETE FROM core_pendingauditentry` after a flood, then `verify` said OK."""
    from datetime import timedelta

    from django.utils import timezone

    from hiroba.consultations import services
    from hiroba.consultations.models import Case, Channel

    today = timezone.localdate()
    case = services.case_create(actor="test", slug="tamper", title="改ざんの検出", department=departments["digital"],
                                period_start=today - timedelta(days=1), period_end=today + timedelta(days=30),
                                channels=[Channel.WEB], receipt_code="TP")
    services.section_add(actor="test", case=case, heading="全体")
    Case.objects.filter(pk=case.pk).update(state=Case.State.OPEN)  # as the consultations tests do
    case.refresh_from_db()
    submissions = [services.submission_receive(actor="resident", case=case, idempotency_key=f"tamper-{i}",
                                               channel=Channel.WEB, text=f"意見 {i}")[0] for i in range(3)]
    assert _verify()[0] == 0
    for submission in submissions[1:]:
        services.submission_receive(actor="resident", case=case, idempotency_key=f"tamper-late-{submission.pk}",
                                    channel=Channel.WEB, text="あとの意見")
    late = list(case.submissions.order_by("pk")[3:])
    _as_attacker(("DELETE FROM core_pendingauditentry", []))
    code, message = _verify()
    assert code == 1 and "missing (removed before they were linked" in message
    # Even with the counter lowered to hide the gap, the submissions without their entry show.
    _as_attacker(("UPDATE core_pendingauditcounter SET last_seq = last_seq - 2", []))
    code, message = _verify()
    assert code == 1
    assert message == (f"NG: 2 consultations.submission without their audit entry consultations.submission_receive "
                       f"(id {late[0].pk}, {late[1].pk})")
