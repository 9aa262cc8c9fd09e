from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from hiroba.accounts.models import Relationship
from hiroba.core.models import AuditEntry
from hiroba.proposals import ballots, exports, services
from hiroba.proposals.models import Ballot, FollowUp
from tests.proposals.conftest import AFTER_VOTING, DURING_VOTING, RESULTS_DAY, VOTING_LAST_MOMENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def voted(call, shortlisted, make_resident, handler):
    """Five online voters and one paper voter; one changes their vote."""
    a, b, c, _ = shortlisted
    choices = [[a, b], [a], [a, b, c], [c], [b, c]]
    voters = []
    for chosen in choices:
        voter = make_resident()
        services.ballot_replace(voter=voter, call=call, proposal_ids=[p.pk for p in chosen], now=DURING_VOTING)
        voters.append(voter)
    services.ballot_replace(voter=voters[1], call=call, proposal_ids=[b.pk], now=VOTING_LAST_MOMENT)
    person = services.voter_verify(actor=handler, display_name="紙 一票", residency=Relationship.RESIDENT,
                                   name_kana="かみ いっぴょう", birth_date=date(1945, 3, 3), address="千代田区2")
    services.paper_ballot_enter(actor=handler, call=call, verification=person, proposal_ids=[a.pk],
                                received_on=date(2025, 7, 24), now=DURING_VOTING)
    return shortlisted


def test_publishing_counts_applications_voters_and_votes(call, voted, approver):
    a, b, c, _ = voted
    result = services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
    assert (result.applications, result.voters, result.votes) == (4, 6, 10)
    assert (result.online_voters, result.paper_voters) == (5, 1)
    assert result.tally == {a.receipt_number: 3, b.receipt_number: 4, c.receipt_number: 3}
    entry = AuditEntry.objects.get(action="proposals.results_publish")
    assert entry.changes["digest"] == result.digest and entry.changes["votes"] == 10


def test_results_wait_for_the_close_and_are_published_once(call, voted, approver):
    with pytest.raises(services.ProposalsError, match="投票期間が終わるまで"):
        services.results_publish(actor=approver, call=call, now=VOTING_LAST_MOMENT)
    services.results_publish(actor=approver, call=call, now=AFTER_VOTING)
    with pytest.raises(services.ProposalsError, match="すでに公表"):
        services.results_publish(actor=approver, call=call, now=AFTER_VOTING)


def test_publishing_seals_the_ballots_so_nobody_can_link_them_any_more(call, voted, approver, make_resident):
    voter_tokens = {services.ballot_token(call.pk, p) for p in call.participations.values_list("pk", flat=True)}
    assert voter_tokens == set(Ballot.objects.values_list("token", flat=True))
    services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
    sealed = set(Ballot.objects.values_list("token", flat=True))
    assert len(sealed) == 6 and not sealed & voter_tokens


def test_the_digest_is_the_sha256_of_the_canonical_anonymised_ballots(call, voted, approver):
    result = services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
    document = exports.ballots_document(call)
    assert document["digest"] == result.digest
    assert ballots.digest(document["ballots"]) == result.digest
    import hashlib

    assert hashlib.sha256(ballots.canonical(document["ballots"])).hexdigest() == result.digest
    assert sorted(len(b["choices"]) for b in document["ballots"]) == [1, 1, 1, 2, 2, 3]


def test_anyone_can_recheck_the_count_and_the_digest_from_the_export(call, voted, approver, tmp_path, capsys):
    result = services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
    path = tmp_path / "ballots.json"
    call_command("proposals", "export-ballots", call.slug, "--out", str(path))
    document = json.loads(path.read_text(encoding="utf-8"))
    check = ballots.verify(document, expected_digest=result.digest, expected_tally=result.tally)
    assert check.ok and check.votes == 10 and check.voters == 6 and check.tally == result.tally
    # The stand-alone verifier (no Django) says the same.
    assert ballots.main([str(path), "--digest", result.digest]) == 0
    assert capsys.readouterr().out.strip().endswith("OK")
    call_command("proposals", "recount", call.slug)


def test_a_tampered_export_is_detected(call, voted, approver, tmp_path):
    result = services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
    document = exports.ballots_document(call)
    document["ballots"][0]["choices"] = [voted[0].receipt_number]
    document["ballots"].append({"ballot": "f" * 64, "choices": [voted[1].receipt_number]})
    check = ballots.verify(document, expected_digest=result.digest, expected_tally=result.tally)
    assert not check.ok and any("digest" in p for p in check.problems)
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError, match="NG"):
        call_command("proposals", "verify", str(path), "--digest", result.digest, stdout=io.StringIO())


def test_a_tampered_database_fails_the_recount(call, voted, approver):
    services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
    Ballot.objects.filter(proposal=voted[0]).delete()
    with pytest.raises(CommandError, match="一致しません"):
        call_command("proposals", "recount", call.slug, stdout=io.StringIO())


def test_exports_in_csv_excel_and_json(call, voted, approver):
    result = services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
    text = exports.results_csv(call).decode("utf-8-sig")
    assert "応募件数,4,投票者数,6,票数,10" in text and result.digest in text
    assert f"{voted[1].receipt_number},提案2,個人,,投票対象（選定）,審査会で決定,4,1" in text
    assert f"{voted[2].receipt_number},提案3,個人,,投票対象（選定）,審査会で決定,3,2" in text  # a tie shares the rank
    sheet = load_workbook(io.BytesIO(exports.results_xlsx(call))).active
    assert sheet["B2"].value == 4 and sheet["B3"].value == 6 and sheet["B4"].value == 10
    data = json.loads(exports.results_json(call))
    assert (data["applications"], data["voters"], data["votes"]) == (4, 6, 10)
    assert data["ballots_sha256"] == result.digest
    assert [p["votes"] for p in data["proposals"]][:3] == [4, 3, 3]


def test_an_adopted_proposal_gets_a_public_follow_up_record(call, voted, approver, handler):
    with pytest.raises(services.ProposalsError, match="結果の公表後"):
        services.proposal_adopt(actor=approver, proposal=voted[1], reason="得票1位")
    services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
    with pytest.raises(services.ProposalsError, match="投票対象"):
        services.proposal_adopt(actor=approver, proposal=voted[3], reason="選外")
    followup = services.proposal_adopt(actor=approver, proposal=voted[1], reason="得票1位で効果が大きい",
                                       budget_step="令和8年度予算要求")
    services.followup_update(actor=handler, followup=followup, status=FollowUp.Status.BUDGETED,
                             budget_step="令和8年第1回区議会定例会で予算案審議", summary="システム改修を実施")
    m = services.milestone_add(actor=handler, followup=followup, title="仕様書の作成", due_on=date(2025, 10, 31))
    services.milestone_complete(actor=handler, milestone=m, done_on=date(2025, 10, 20))
    followup.refresh_from_db()
    assert followup.get_status_display() == "予算化" and followup.milestones.get().done_on == date(2025, 10, 20)
    actions = list(AuditEntry.objects.filter(action__in=[
        "proposals.proposal_adopt", "proposals.followup_update", "proposals.milestone_add",
        "proposals.milestone_complete"]).values_list("action", flat=True))
    assert actions == ["proposals.proposal_adopt", "proposals.followup_update", "proposals.milestone_add",
                       "proposals.milestone_complete"]
    with pytest.raises(services.ProposalsError, match="すでに採用"):
        services.proposal_adopt(actor=approver, proposal=voted[1], reason="again")


class TestTheBallotSetResidentsDownload:
    """The results page offers the ballot set in forms a resident can check without programming."""

    def _download(self, client, call, fmt):
        from django.urls import reverse

        response = client.get(reverse("proposals:export", args=[call.slug, fmt]))
        assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
        return response

    def test_the_text_download_is_exactly_the_bytes_the_digest_is_computed_over(self, client, call, voted,
                                                                                approver):
        import hashlib

        result = services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
        response = self._download(client, call, "ballots.txt")
        assert response["Content-Disposition"].endswith(f'{call.slug}-ballots.txt"')
        body = response.content
        assert hashlib.sha256(body).hexdigest() == result.digest
        assert body == ballots.canonical(exports.ballots_document(call)["ballots"])
        check = ballots.verify(ballots.load(body), expected_digest=result.digest, expected_tally=result.tally)
        assert check.ok and (check.voters, check.votes) == (6, 10)

    def test_counting_the_rows_of_the_ballot_csv_gives_the_published_table(self, client, call, voted, approver,
                                                                          tmp_path, capsys):
        import csv
        from collections import Counter

        result = services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
        body = self._download(client, call, "ballots.csv").content
        assert body.startswith("\ufeff".encode())  # Excel opens it as UTF-8
        header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert header == ["投票用紙の番号", "受付番号"]
        # What a resident does with a filter or a pivot table: rows per 受付番号, ballot numbers.
        assert dict(Counter(receipt for _, receipt in rows)) == result.tally
        assert len(rows) == result.votes and len({ballot for ballot, _ in rows}) == result.voters
        # The same ballots as the text: the CSV rebuilds the published digest.
        assert ballots.digest(ballots.from_csv(body)) == result.digest
        path = tmp_path / "ballots.csv"
        path.write_bytes(body)
        assert ballots.main([str(path), "--digest", result.digest]) == 0
        assert capsys.readouterr().out.strip().endswith("OK")
        call_command("proposals", "verify", str(path), "--digest", result.digest, stdout=io.StringIO())

    def test_a_ballot_csv_with_one_vote_moved_fails_the_check(self, client, call, voted, approver):
        result = services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
        body = self._download(client, call, "ballots.csv").content.decode("utf-8-sig")
        b, unvoted = voted[1].receipt_number, voted[3].receipt_number
        forged = body.replace(f",{b}\r\n", f",{unvoted}\r\n", 1).encode("utf-8")
        check = ballots.verify(ballots.load(forged), expected_digest=result.digest, expected_tally=result.tally)
        assert not check.ok and any("digest" in p for p in check.problems)
        assert any("tally differs" in p for p in check.problems)
        # A vote copied onto a ballot that already holds it is refused, not counted twice.
        a = voted[0].receipt_number
        line = next(row for row in body.split("\r\n") if row.endswith(f",{a}"))
        doubled = body.replace(line + "\r\n", line + "\r\n" + line + "\r\n", 1).encode("utf-8")
        check = ballots.verify(ballots.load(doubled), expected_digest=result.digest)
        assert not check.ok and any("votes twice" in p for p in check.problems)

    def test_the_page_explains_the_check_plainly_and_keeps_the_command_for_experts(self, client, call, voted,
                                                                                  approver):
        from django.urls import reverse

        result = services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
        html = client.get(reverse("proposals:results", args=[call.slug])).content.decode()
        plain, experts = html.split("<details", 1)
        assert "プログラムは要りません" in plain and "指紋" in plain and "だれが投票したかは入っていません" in plain
        assert "results.ballots.csv" in plain and "results.ballots.txt" in plain
        assert "python" not in plain.split('id="verify-title"', 1)[1]
        assert "<summary>専門家向け" in experts and f"--digest {result.digest}" in experts
        assert reverse("proposals:verifier") in experts

    def test_the_verifier_download_is_the_counting_module_itself(self, client):
        from pathlib import Path

        from django.urls import reverse

        response = client.get(reverse("proposals:verifier"))
        assert response.status_code == 200
        assert response.content == Path(ballots.__file__).read_bytes()
        assert b"\nimport django" not in response.content and b"from django" not in response.content
