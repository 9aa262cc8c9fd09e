"""The end of a period: 廃棄・移管 only with the records manager's approval and never under a
legal hold, 延長 with a reason and a new period, the disposal record kept forever, the April notice."""

from __future__ import annotations

from datetime import date

import pytest

from hiroba.core.errors import InvalidTransition, NotAllowed, ServiceError
from hiroba.core.models import AuditEntry, Notification
from hiroba.records import audit_actions as actions
from hiroba.records import lifecycle, register
from hiroba.records.models import Action, DisposalRecord, Disposition, LegalHold, RecordFile
from tests.records.conftest import file_data

pytestmark = pytest.mark.django_db
TODAY = date(2024, 4, 10)


def test_disposal_needs_a_request_and_the_records_managers_approval(expired_file, care_clerk, care_approver,
                                                                    records_manager):
    d = lifecycle.disposition_request(actor=care_clerk, file=expired_file, kind="dispose", today=TODAY)
    with pytest.raises(NotAllowed):  # the department's own approver is not the records manager
        lifecycle.disposition_approve(actor=care_approver, disposition=d)
    with pytest.raises(NotAllowed):
        RecordFile.workflow.apply(expired_file, "dispose", actor=care_approver)
    expired_file.refresh_from_db()
    assert expired_file.state == RecordFile.State.ACTIVE
    lifecycle.disposition_approve(actor=records_manager, disposition=d, note="保存期間満了")
    expired_file.refresh_from_db()
    assert expired_file.state == RecordFile.State.DISPOSED
    record = DisposalRecord.objects.get()
    assert record.kind == "dispose" and record.snapshot["name"] == "H30_要介護認定調査票"
    assert "5年" in record.rule and "2024-03-31" in record.rule
    assert record.approved_by_name and record.requested_by_name
    assert AuditEntry.objects.filter(action=actions.FILE_DISPOSE, object_id=str(expired_file.pk)).exists()
    with pytest.raises(ServiceError):
        lifecycle.disposition_request(actor=care_clerk, file=expired_file, kind="dispose", today=TODAY)


def test_the_disposal_record_cannot_be_changed_or_deleted(expired_file, care_clerk, records_manager):
    d = lifecycle.disposition_request(actor=care_clerk, file=expired_file, kind="dispose", today=TODAY)
    lifecycle.disposition_approve(actor=records_manager, disposition=d)
    record = DisposalRecord.objects.get()
    with pytest.raises(TypeError):
        record.save()
    with pytest.raises(TypeError):
        record.delete()
    with pytest.raises(TypeError):
        DisposalRecord.objects.all().delete()
    with pytest.raises(TypeError):
        DisposalRecord.objects.update(rule="x")
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        RecordFile.objects.filter(pk=expired_file.pk).delete()


def test_the_requester_cannot_approve_their_own_request(expired_file, records_manager):
    d = lifecycle.disposition_request(actor=records_manager, file=expired_file, kind="dispose", today=TODAY)
    with pytest.raises(NotAllowed):
        lifecycle.disposition_approve(actor=records_manager, disposition=d)


def test_a_legal_hold_blocks_disposal_until_released(expired_file, care_clerk, care_approver, records_manager):
    d = lifecycle.disposition_request(actor=care_clerk, file=expired_file, kind="dispose", today=TODAY)
    hold = lifecycle.hold_place(actor=care_approver, file=expired_file, kind=LegalHold.Kind.DISCLOSURE,
                                reason="令和6年 開示請求第12号")
    with pytest.raises(ServiceError) as exc:
        lifecycle.disposition_approve(actor=records_manager, disposition=d)
    assert exc.value.code == "on_hold"
    lifecycle.disposition_reject(actor=records_manager, disposition=d, reason="開示請求対応中")
    with pytest.raises(ServiceError):
        lifecycle.disposition_request(actor=care_clerk, file=expired_file, kind="dispose", today=TODAY)
    assert lifecycle.expiring(2024).get().on_hold
    lifecycle.hold_release(actor=care_approver, hold=hold, reason="開示決定済み")
    d2 = lifecycle.disposition_request(actor=care_clerk, file=expired_file, kind="dispose", today=TODAY)
    lifecycle.disposition_approve(actor=records_manager, disposition=d2)
    assert AuditEntry.objects.filter(action__in=[actions.HOLD_PLACE, actions.HOLD_RELEASE]).count() == 2


def test_the_action_settled_in_the_register_is_the_one_taken(departments, care_clerk, records_manager):
    f = register.file_create(actor="test", data=file_data(departments["care"], action=Action.TRANSFER,
                                                          name="H30_介護保険事業計画"))
    with pytest.raises(ServiceError) as exc:
        lifecycle.disposition_request(actor=care_clerk, file=f, kind="dispose", today=TODAY)
    assert exc.value.code == "action_mismatch"
    d = lifecycle.disposition_request(actor=care_clerk, file=f, kind="transfer", today=TODAY)
    lifecycle.disposition_approve(actor=records_manager, disposition=d)
    f.refresh_from_db()
    assert f.state == RecordFile.State.TRANSFERRED
    assert DisposalRecord.objects.get().kind == "transfer"


def test_extension_needs_a_reason_and_moves_the_end(expired_file, care_clerk, records_manager):
    with pytest.raises(ServiceError) as exc:
        lifecycle.disposition_request(actor=care_clerk, file=expired_file, kind="extend", extend_years=2, today=TODAY)
    assert exc.value.field == "reason"
    d = lifecycle.disposition_request(actor=care_clerk, file=expired_file, kind="extend", extend_years=2,
                                      reason="審査請求の係属中", today=TODAY)
    lifecycle.disposition_approve(actor=records_manager, disposition=d)
    expired_file.refresh_from_db()
    assert expired_file.expiry_date == date(2026, 3, 31)
    assert expired_file.state == RecordFile.State.ACTIVE and expired_file.extended_times == 1
    assert not DisposalRecord.objects.exists()
    assert not lifecycle.expiring(2024).exists()


def test_a_file_whose_period_has_not_ended_cannot_be_disposed_of(departments, care_clerk):
    f = register.file_create(actor="test", data=file_data(departments["care"], fiscal_year=2023, name="R05_新しい"))
    with pytest.raises(ServiceError) as exc:
        lifecycle.disposition_request(actor=care_clerk, file=f, kind="dispose", today=TODAY)
    assert exc.value.code == "not_expiring"


def test_reject_needs_a_reason(expired_file, care_clerk, records_manager):
    d = lifecycle.disposition_request(actor=care_clerk, file=expired_file, kind="dispose", today=TODAY)
    with pytest.raises(ServiceError):
        lifecycle.disposition_reject(actor=records_manager, disposition=d, reason=" ")
    lifecycle.disposition_reject(actor=records_manager, disposition=d, reason="移管の要否を確認")
    with pytest.raises(InvalidTransition):
        lifecycle.disposition_approve(actor=records_manager, disposition=Disposition.objects.get(pk=d.pk))


def test_the_april_notice_goes_once_to_each_departments_handlers(expired_file, care_clerk, departments):
    register.file_create(actor="test", data=file_data(departments["digital"], name="別の課のファイル", fiscal_year=2023))
    assert lifecycle.expiry_notices_send() == 1  # today: memberships start today
    note = Notification.objects.get()
    assert note.recipient == care_clerk.email and "高齢介護課" in note.subject and "1 件" in note.body
    assert lifecycle.expiry_notices_send() == 0
    assert AuditEntry.objects.filter(action=actions.EXPIRY_NOTICE).count() == 1
