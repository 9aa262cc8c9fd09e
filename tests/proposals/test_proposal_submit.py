from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from hiroba.core.models import AuditEntry
from hiroba.proposals import services
from hiroba.proposals.models import PROBLEM_MAX, Attachment, Proposal, ProposalVersion
from tests.proposals.conftest import AFTER_DEADLINE, DURING_SUBMISSION, LAST_MINUTE, TEXT

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _save(call, proposer, now=DURING_SUBMISSION, **over):
    fields = {**TEXT, "proposer_category": "individual", "proposer_label": "", **over}
    return services.proposal_save(proposer=proposer, call=call, now=now, **fields)


def test_a_draft_gets_its_receipt_number_only_when_confirmed(call, make_resident):
    resident = make_resident()
    draft = _save(call, resident)
    assert draft.status == Proposal.Status.DRAFT and draft.receipt_number is None
    received = services.proposal_submit(proposer=resident, proposal=draft, now=DURING_SUBMISSION)
    assert received.receipt_number == "DX25-0001" and received.submitted_at is not None
    assert ProposalVersion.objects.filter(proposal=received).count() == 1
    assert AuditEntry.objects.filter(action="proposals.proposal_submit", object_id=str(received.pk)).exists()


def test_confirming_twice_is_idempotent(call, make_resident):
    resident = make_resident()
    draft = _save(call, resident)
    first = services.proposal_submit(proposer=resident, proposal=draft, now=DURING_SUBMISSION)
    again = services.proposal_submit(proposer=resident, proposal=draft, now=DURING_SUBMISSION)
    assert first.receipt_number == again.receipt_number == "DX25-0001"
    assert Proposal.objects.filter(status="submitted").count() == 1


def test_receipt_numbers_follow_each_other(call, make_proposal):
    numbers = [make_proposal(call).receipt_number for _ in range(3)]
    assert numbers == ["DX25-0001", "DX25-0002", "DX25-0003"]


def test_it_can_be_edited_until_the_deadline_keeping_each_version(call, make_proposal):
    proposal = make_proposal(call)
    services.proposal_save(proposer=proposal.proposer, call=call, proposal=proposal, now=LAST_MINUTE,
                           **{**TEXT, "title": "区報アプリ", "proposer_category": "individual"})
    proposal.refresh_from_db()
    assert proposal.title == "区報アプリ"
    assert list(proposal.versions.values_list("title", flat=True)) == [TEXT["title"], "区報アプリ"]
    entry = AuditEntry.objects.get(action="proposals.proposal_revise")
    assert entry.changes["title"] == [TEXT["title"], "区報アプリ"]


def test_it_rejects_an_edit_after_the_deadline(call, make_proposal):
    proposal = make_proposal(call)
    with pytest.raises(services.SubmissionRefused, match="募集期間外"):
        services.proposal_save(proposer=proposal.proposer, call=call, proposal=proposal, now=AFTER_DEADLINE,
                               **{**TEXT, "title": "遅れた修正", "proposer_category": "individual"})
    proposal.refresh_from_db()
    assert proposal.title == TEXT["title"]


def test_it_rejects_a_new_proposal_after_the_deadline(call, make_resident):
    with pytest.raises(services.SubmissionRefused, match="募集期間外"):
        _save(call, make_resident(), now=AFTER_DEADLINE)
    assert not Proposal.objects.exists()


def test_it_rejects_text_over_the_length_limit(call, make_resident):
    with pytest.raises(services.SubmissionRefused, match=f"地域の課題は{PROBLEM_MAX}文字以内"):
        _save(call, make_resident(), problem="あ" * (PROBLEM_MAX + 1))
    assert not Proposal.objects.exists()


def test_a_business_must_name_itself_and_is_shown_as_a_business(call, make_resident):
    with pytest.raises(services.SubmissionRefused, match="事業者"):
        _save(call, make_resident(), proposer_category="business", proposer_label="")
    proposal = _save(call, make_resident(), proposer_category="business", proposer_label="株式会社ちよだテック")
    assert proposal.public_proposer == "株式会社ちよだテック（事業者）"


def test_an_individual_is_never_named_publicly(call, make_resident):
    proposal = _save(call, make_resident(display_name="千代田 太郎"), proposer_label="千代田 太郎")
    assert proposal.proposer_label == "" and proposal.public_proposer == "個人"


def test_staff_cannot_propose_as_residents(call, handler):
    with pytest.raises(services.SubmissionRefused, match="区民等"):
        _save(call, handler)


def test_another_resident_cannot_edit_or_confirm_my_draft(call, make_resident):
    draft = _save(call, make_resident())
    with pytest.raises(PermissionDenied):
        services.proposal_submit(proposer=make_resident(), proposal=draft, now=DURING_SUBMISSION)


class TestAttachments:
    def test_it_reads_the_type_from_the_bytes_not_the_name(self, call, make_resident, media):
        proposal = _save(call, make_resident(), new_files=[SimpleUploadedFile("map.pdf", PNG)])
        attachment = proposal.attachments.get()
        assert attachment.content_type == "image/png" and attachment.file.name.endswith(".png")
        assert attachment.original_name == "map.pdf" and attachment.size == len(PNG)

    def test_it_rejects_a_program_named_like_a_pdf(self, call, make_resident, media):
        with pytest.raises(services.SubmissionRefused, match="受け付けられない形式"):
            _save(call, make_resident(), new_files=[SimpleUploadedFile("提案書.pdf", b"MZ\x90\x00" + b"\x00" * 100)])
        assert not Attachment.objects.exists() and not Proposal.objects.exists()

    def test_it_rejects_html_and_svg(self, call, make_resident, media):
        for name, data in (("a.png", b"<html><script>alert(1)</script>"), ("b.jpg", b"<svg onload=alert(1)>")):
            with pytest.raises(services.SubmissionRefused):
                _save(call, make_resident(), new_files=[SimpleUploadedFile(name, data)])

    def test_it_rejects_a_pdf_with_javascript_even_when_the_name_is_escaped(self, call, make_resident, media):
        for body in (b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>", b"<< /S /J#61vaScript >>"):
            with pytest.raises(services.SubmissionRefused, match="JavaScript"):
                _save(call, make_resident(), new_files=[SimpleUploadedFile("a.pdf", b"%PDF-1.4\n" + body)])

    def test_it_rejects_files_over_5_mb(self, call, make_resident, media):
        big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024)
        with pytest.raises(services.SubmissionRefused, match="大きすぎます"):
            _save(call, make_resident(), new_files=[SimpleUploadedFile("big.pdf", big)])

    def test_it_accepts_at_most_three_files(self, call, make_resident, media):
        with pytest.raises(services.SubmissionRefused, match="3件まで"):
            _save(call, make_resident(), new_files=[SimpleUploadedFile(f"{i}.pdf", PDF) for i in range(4)])

    def test_attachments_can_be_replaced_while_editing(self, call, make_resident, media):
        resident = make_resident()
        draft = _save(call, resident, new_files=[SimpleUploadedFile("a.pdf", PDF)])
        old = draft.attachments.get()
        path = old.file.path
        _save(call, resident, proposal=draft, new_files=[SimpleUploadedFile("b.jpg", b"\xff\xd8\xff\xe0rest")],
              remove_attachment_ids=[old.pk])
        assert list(draft.attachments.values_list("content_type", flat=True)) == ["image/jpeg"]
        import os

        assert not os.path.exists(path)


class TestOnBehalf:
    def test_staff_enter_a_workshop_output_as_a_group_proposal(self, call, handler):
        proposal = services.proposal_submit_on_behalf(
            actor=handler, call=call, title="通学路の危険箇所マップ", problem="危ない場所が共有されていない",
            idea="生徒が地図アプリに危険箇所を登録する", beneficiaries="小中学生と保護者",
            proposer_label="中学生ワークショップ 第1班", source="workshop:7", now=DURING_SUBMISSION)
        assert proposal.status == "submitted" and proposal.receipt_number == "DX25-0001"
        assert proposal.proposer_category == "group" and proposal.proposer is None
        assert proposal.entered_by == handler and proposal.source == "workshop:7"
        entry = AuditEntry.objects.get(action="proposals.proposal_submit_on_behalf")
        assert entry.actor_id == handler.pk and entry.changes["source"] == [None, "workshop:7"]

    def test_staff_of_other_departments_may_not(self, call, make_staff):
        outsider = make_staff(email="care@example.jp", department="care").user
        with pytest.raises(PermissionDenied):
            services.proposal_submit_on_behalf(actor=outsider, call=call, title="t", problem="p", idea="i",
                                               beneficiaries="b", proposer_label="班", source="workshop:1",
                                               now=DURING_SUBMISSION)

    def test_it_is_refused_after_the_deadline(self, call, handler):
        with pytest.raises(services.SubmissionRefused, match="締め切られています"):
            services.proposal_submit_on_behalf(actor=handler, call=call, title="t", problem="p", idea="i",
                                               beneficiaries="b", proposer_label="班", source="workshop:1",
                                               now=AFTER_DEADLINE)
