"""Reviewers never see who proposed: neither on their pages nor in the queries behind them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hiroba.proposals import queries, services
from hiroba.proposals.models import ReviewAssignment
from tests.proposals.conftest import DURING_SCREENING, DURING_SUBMISSION, TEXT

pytestmark = pytest.mark.django_db

SECRET_NAMES = ["千代田 秘密", "secret.proposer@example.jp", "株式会社ひみつ商事", "ひみつ提案書.pdf"]


@pytest.fixture
def setup(call, make_staff, make_resident, handler, media, time_machine):
    time_machine.move_to(DURING_SUBMISSION)
    proposer = make_resident(email="secret.proposer@example.jp", display_name="千代田 秘密")
    draft = services.proposal_save(
        proposer=proposer, call=call, proposer_category="business", proposer_label="株式会社ひみつ商事",
        new_files=[SimpleUploadedFile("ひみつ提案書.pdf", b"%PDF-1.4\nplain\n")], **TEXT)
    services.proposal_submit(proposer=proposer, proposal=draft)
    # The reviewer holds a handle role in the call's own department: blindness must not depend on roles.
    judges = [make_staff(email=f"judge{i}@example.jp", department="digital") for i in (1, 2)]
    for j in judges:
        services.reviewer_add(actor=handler, call=call, user=j.user)
    time_machine.move_to(DURING_SCREENING)
    services.reviews_assign(actor=handler, call=call)
    return judges


def test_the_review_pages_do_not_show_the_proposer(client, setup, call):
    judge = setup[0]
    client.force_login(judge.user)
    assignment = ReviewAssignment.objects.get(reviewer__user=judge.user)
    pages = [reverse("proposals_staff:my_reviews"), reverse("proposals_staff:review", args=[assignment.pk]),
             reverse("proposals_staff:proposal", args=[call.slug, assignment.proposal.receipt_number]),
             reverse("proposals_staff:call", args=[call.slug])]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for secret in SECRET_NAMES:
            assert secret not in html, (url, secret)
        assert ">事業者<" not in html and "（事業者）" not in html, url
    assert TEXT["idea"] in client.get(pages[1]).content.decode()


def test_the_attachment_reaches_a_reviewer_under_a_neutral_name(client, setup):
    judge = setup[0]
    client.force_login(judge.user)
    attachment = ReviewAssignment.objects.get(reviewer__user=judge.user).proposal.attachments.get()
    response = client.get(reverse("proposals_staff:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert "ひみつ" not in response["Content-Disposition"] and "pdf" in response["Content-Disposition"]


def test_the_blind_queries_never_select_proposer_columns(setup):
    judge = setup[0]
    assignment = ReviewAssignment.objects.get(reviewer__user=judge.user)
    with CaptureQueriesContext(connection) as ctx:
        rows = list(queries.blind_assignments(judge.user))
        blind = queries.blind_proposal(assignment.pk)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    for column in ("proposer_id", "proposer_label", "proposer_category", "source", "entered_by_id",
                   "original_name", "email", "display_name"):
        assert column not in sql, column
    assert set(blind) == set(queries.BLIND_FIELDS) | {"attachments"}
    assert rows[0].proposal.title == TEXT["title"]


def test_staff_who_are_not_reviewers_see_the_proposer(client, setup, call, make_staff):
    other = make_staff(email="clerk2@example.jp", department="digital")
    client.force_login(other.user)
    proposal = ReviewAssignment.objects.first().proposal
    html = client.get(reverse("proposals_staff:proposal", args=[call.slug, proposal.receipt_number])).content.decode()
    assert "secret.proposer@example.jp" in html and "株式会社ひみつ商事" in html


def test_a_reviewer_cannot_open_someone_elses_assignment(client, setup):
    judge1, judge2 = setup
    client.force_login(judge2.user)
    mine = ReviewAssignment.objects.get(reviewer__user=judge1.user)
    assert client.get(reverse("proposals_staff:review", args=[mine.pk])).status_code == 404
