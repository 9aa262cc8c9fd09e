from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hiroba.core import paging
from hiroba.core.models import AuditEntry
from hiroba.proposals import services
from hiroba.proposals.models import Proposal
from tests.proposals.conftest import (
    AFTER_DEADLINE,
    DURING_SCREENING,
    DURING_SUBMISSION,
    DURING_VOTING,
    RESULTS_DAY,
    TEXT,
)

pytestmark = pytest.mark.django_db

FORM = {**TEXT, "proposer_category": "individual", "proposer_label": ""}


@pytest.fixture
def resident_client(client, make_resident):
    user = make_resident(residency=None)
    client.force_login(user)
    client.user = user
    return client


class TestProposing:
    def test_it_walks_form_confirmation_and_receipt(self, resident_client, call, time_machine, media):
        time_machine.move_to(DURING_SUBMISSION)
        url = reverse("proposals:propose", args=[call.slug])
        response = resident_client.post(url, {**FORM, "attachments": [SimpleUploadedFile("図.png", b"\x89PNG\r\n\x1a\nxx")]})
        draft = Proposal.objects.get()
        assert response.status_code == 302 and response.url == reverse("proposals:confirm", args=[call.slug, draft.pk])
        page = resident_client.get(response.url).content.decode()
        assert "まだ受け付けていません" in page and TEXT["idea"] in page and "図.png" in page
        response = resident_client.post(reverse("proposals:confirm", args=[call.slug, draft.pk]))
        assert response.url == reverse("proposals:done", args=[call.slug, draft.pk])
        assert "DX25-0001" in resident_client.get(response.url).content.decode()
        # Pressing 送信 again (back button) receives nothing new.
        resident_client.post(reverse("proposals:confirm", args=[call.slug, draft.pk]))
        assert Proposal.objects.filter(status="submitted").count() == 1

    def test_it_explains_a_dangerous_attachment_and_keeps_nothing(self, resident_client, call, time_machine, media):
        time_machine.move_to(DURING_SUBMISSION)
        evil = SimpleUploadedFile("提案.pdf", b"%PDF-1.5\n<< /OpenAction << /S /JavaScript /JS (x) >> >>")
        response = resident_client.post(reverse("proposals:propose", args=[call.slug]), {**FORM, "attachments": [evil]})
        assert response.status_code == 400
        assert "JavaScript" in response.content.decode() and "入力内容を確認してください" in response.content.decode()
        assert not Proposal.objects.exists()

    def test_it_rejects_text_over_the_limit_with_a_message(self, resident_client, call, time_machine):
        time_machine.move_to(DURING_SUBMISSION)
        response = resident_client.post(reverse("proposals:propose", args=[call.slug]), {**FORM, "title": "あ" * 81})
        assert response.status_code == 400 and "80 文字以下" in response.content.decode()

    def test_it_is_closed_after_the_deadline(self, resident_client, call, time_machine):
        time_machine.move_to(AFTER_DEADLINE)
        response = resident_client.post(reverse("proposals:propose", args=[call.slug]), FORM)
        assert response.status_code == 403 and "募集期間" in response.content.decode()
        assert not Proposal.objects.exists()

    def test_staff_cannot_use_the_resident_form(self, client, call, handler, time_machine):
        time_machine.move_to(DURING_SUBMISSION)
        client.force_login(handler)
        assert client.get(reverse("proposals:propose", args=[call.slug])).status_code == 403

    def test_it_requires_signing_in(self, client, call):
        response = client.get(reverse("proposals:propose", args=[call.slug]))
        assert response.status_code == 302 and "/accounts/login/" in response.url


class TestVotingPage:
    def test_a_vote_is_received_and_a_replay_is_explained(self, client, call, shortlisted, make_resident, time_machine):
        time_machine.move_to(DURING_VOTING)
        voter = make_resident()
        client.force_login(voter)
        url = reverse("proposals:vote", args=[call.slug])
        data = {"proposals": [str(shortlisted[0].pk), str(shortlisted[1].pk)], "idempotency_key": "abc"}
        response = client.post(url, data, follow=True)
        assert "投票を受け付けました（2票）" in response.content.decode()
        response = client.post(url, {**data, "proposals": [str(shortlisted[2].pk)]}, follow=True)
        assert "二重送信のため" in response.content.decode()
        assert services.my_choices(voter=voter, call=call) == {shortlisted[0].pk, shortlisted[1].pk}

    def test_too_many_choices_are_refused_clearly(self, client, call, shortlisted, make_resident, approver,
                                                  time_machine):
        time_machine.move_to(DURING_SCREENING)
        services.proposal_decide(actor=approver, proposal=shortlisted[3], decision="shortlisted", reason="追加")
        time_machine.move_to(DURING_VOTING)
        client.force_login(make_resident())
        response = client.post(reverse("proposals:vote", args=[call.slug]),
                               {"proposals": [str(p.pk) for p in shortlisted], "idempotency_key": "k"})
        assert response.status_code == 400 and "3件まで" in response.content.decode()
        assert not services.tally(call)

    def test_an_unverified_resident_is_told_how_to_become_eligible(self, resident_client, call, shortlisted,
                                                                    time_machine):
        time_machine.move_to(DURING_VOTING)
        page = resident_client.get(reverse("proposals:vote", args=[call.slug])).content.decode()
        assert "窓口で本人確認" in page and "<form method=\"post\" class=\"form\"" not in page
        response = resident_client.post(reverse("proposals:vote", args=[call.slug]),
                                        {"proposals": [str(shortlisted[0].pk)], "idempotency_key": "k"})
        assert response.status_code == 400 and "本人確認が必要" in response.content.decode()


class TestStaffPages:
    def test_calls_of_other_departments_are_not_disclosed(self, client, call, make_staff):
        care = make_staff(email="care@example.jp", department="care")
        client.force_login(care.user)
        assert client.get(reverse("proposals_staff:call", args=[call.slug])).status_code == 404
        assert call.title not in client.get(reverse("proposals_staff:list")).content.decode()

    def test_a_reader_cannot_hide_proposals(self, client, call, make_proposal, make_staff, time_machine):
        time_machine.move_to(DURING_SUBMISSION)
        proposal = make_proposal(call, now=DURING_SUBMISSION)
        reader = make_staff(email="reader@example.jp", role=10)
        client.force_login(reader.user)
        url = reverse("proposals_staff:moderate", args=[call.slug, proposal.receipt_number, "hide"])
        assert client.post(url, {"reason": "x"}).status_code == 403
        assert not Proposal.objects.get().is_hidden

    def test_a_handler_hides_a_proposal_with_a_reason(self, client, call, make_proposal, handler):
        proposal = make_proposal(call)
        client.force_login(handler)
        url = reverse("proposals_staff:moderate", args=[call.slug, proposal.receipt_number, "hide"])
        client.post(url, {"reason": "個人の電話番号が書かれていた"})
        proposal.refresh_from_db()
        assert proposal.hidden_reason == "個人の電話番号が書かれていた"
        assert AuditEntry.objects.filter(action="proposals.proposal_hide", actor_id=handler.pk).exists()

    def test_the_staff_create_a_call_with_its_rubric(self, client, handler, departments):
        client.force_login(handler)
        data = {"title": "新しい募集", "slug": "new-call", "theme": "テーマ", "rules": "",
                "eligible_residencies": ["resident", "worker", "student"], "submission_start": "2025-06-01",
                "submission_end": "2025-06-30", "voting_start": "2025-07-20", "voting_end": "2025-07-31",
                "results_on": "2025-08-10", "implementation_on": "2025-09-01", "votes_per_voter": 3,
                "voting_identity_level": "verified", "reviewers_per_proposal": 2, "disagreement_threshold": "1.5",
                "department": departments["digital"].pk, "publish": "1",
                "criteria-TOTAL_FORMS": 2, "criteria-INITIAL_FORMS": 0, "criteria-MIN_NUM_FORMS": 1,
                "criteria-MAX_NUM_FORMS": 12,
                "criteria-0-name": "効果", "criteria-0-weight": 3, "criteria-0-scale_max": 5,
                "criteria-1-name": "費用", "criteria-1-weight": 1, "criteria-1-scale_max": 5}
        response = client.post(reverse("proposals_staff:call_new"), data)
        assert response.status_code == 302, response.content.decode()[:3000]
        from hiroba.proposals.models import Call

        created = Call.objects.get(slug="new-call")
        assert created.published_at and list(created.criteria.values_list("name", "weight")) == [("効果", 3), ("費用", 1)]

    def test_the_voter_list_shows_who_voted_but_not_for_what(self, client, call, shortlisted, make_resident,
                                                            handler, time_machine):
        time_machine.move_to(DURING_VOTING)
        voter = make_resident(email="voter@example.jp", display_name="投票 する子")
        services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[2].pk])
        client.force_login(handler)
        html = client.get(reverse("proposals_staff:voters", args=[call.slug])).content.decode()
        assert "投票 する子" in html and "1人・1票" in html
        row = html[html.index("投票 する子"):].split("</tr>")[0]
        assert shortlisted[2].title not in row and shortlisted[2].receipt_number not in row


class TestPublicPages:
    def test_the_results_page_and_exports(self, client, call, shortlisted, make_resident, approver, time_machine,
                                          django_assert_max_num_queries):
        time_machine.move_to(DURING_VOTING)
        for _ in range(2):
            services.ballot_replace(voter=make_resident(), call=call, proposal_ids=[shortlisted[0].pk])
        time_machine.move_to(RESULTS_DAY)
        result = services.results_publish(actor=approver, call=call)
        with django_assert_max_num_queries(12):
            html = client.get(reverse("proposals:results", args=[call.slug])).content.decode()
        assert 'data-testid="applications">4<' in html and 'data-testid="voters">2<' in html
        assert result.digest in html and "一致しています" in html
        for fmt in ("csv", "xlsx", "json", "ballots"):
            response = client.get(reverse("proposals:export", args=[call.slug, fmt]))
            assert response.status_code == 200 and "attachment" in response["Content-Disposition"]

    def test_results_are_not_shown_before_publication(self, client, call):
        assert client.get(reverse("proposals:results", args=[call.slug])).status_code == 404

    def test_unpublished_calls_are_not_public(self, client, make_call):
        draft = make_call(slug="draft-call", receipt_prefix="DR", publish=False)
        assert client.get(reverse("proposals:call", args=[draft.slug])).status_code == 404

    def test_proposals_are_listed_only_after_the_deadline(self, client, call, make_proposal, time_machine):
        proposal = make_proposal(call)
        time_machine.move_to(DURING_SUBMISSION)
        assert proposal.title not in client.get(reverse("proposals:call", args=[call.slug])).content.decode()
        time_machine.move_to(DURING_SCREENING)
        assert proposal.title in client.get(reverse("proposals:call", args=[call.slug])).content.decode()

    def test_the_call_list_uses_a_fixed_number_of_queries(self, client, make_call, django_assert_max_num_queries):
        for i in range(5):
            make_call(slug=f"c{i}", receipt_prefix=f"C{i}")
        with django_assert_max_num_queries(8):
            assert client.get(reverse("proposals:list")).status_code == 200


def test_the_staff_call_list_is_paginated(client, handler, make_call, monkeypatch):
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    for i in range(3):
        make_call(slug=f"dx-{i}", receipt_prefix=f"DX{i}", title=f"募集{i}")
    client.force_login(handler)
    first = client.get(reverse("proposals_staff:list")).content.decode()
    assert first.count("/staff/proposals/dx-") == 2 and 'class="pagination"' in first and "?page=2" in first
    second = client.get(reverse("proposals_staff:list") + "?page=2").content.decode()
    assert second.count("/staff/proposals/dx-") == 1


def test_the_proposals_of_a_call_are_paginated_and_counted_in_full(client, handler, call, make_proposal, monkeypatch):
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    for _ in range(3):
        make_proposal(call)
    client.force_login(handler)
    url = reverse("proposals_staff:call", args=[call.slug])
    first = client.get(url).content.decode()
    assert first.count(f"/staff/proposals/{call.slug}/p/") == 2 and "?page=2" in first
    assert "応募：3件" in first  # the count is of every proposal, not of the page
    assert client.get(url + "?page=2").content.decode().count(f"/staff/proposals/{call.slug}/p/") == 1
