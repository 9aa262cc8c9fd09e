from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from hiroba.accounts import demo as accounts_demo
from hiroba.proposals import ballots, demo, exports
from hiroba.proposals.models import Call, FollowUp, Proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    lines: list[str] = []
    accounts_demo.load(lines.append)
    demo.load(lines.append)
    return lines


def test_the_demo_call_shows_the_committee_papers_figures(client, loaded):
    call = Call.objects.get(slug=demo.SLUG)
    result = call.result
    assert (result.applications, result.voters, result.votes) == (95, 665, 1669)
    html = client.get(reverse("proposals:results", args=[call.slug])).content.decode()
    assert 'data-testid="applications">95<' in html and 'data-testid="voters">665<' in html
    assert 'data-testid="votes">1,669<' in html and "一致しています" in html
    assert "区民投票：665人・1,669票" in client.get(reverse("proposals:list")).content.decode()
    adopted = set(Proposal.objects.filter(adopted_at__isnull=False).values_list("title", flat=True))
    assert adopted == {"デジタル書面送付サービス", "スクールカレンダーのiCalendar形式での公開"}
    assert FollowUp.objects.filter(status="budgeted").count() == 2
    page = client.get(reverse("proposals:followups")).content.decode()
    assert "令和7年第1回千代田区議会定例会にて予算案の審議" in page
    check = ballots.verify(exports.ballots_document(call), expected_digest=result.digest, expected_tally=result.tally)
    assert check.ok and check.voters == 665 and check.votes == 1669


def test_the_demo_is_idempotent_and_deterministic(loaded):
    call = Call.objects.get(slug=demo.SLUG)
    tally = dict(call.result.tally)
    demo.load(lambda line: None)
    assert Call.objects.filter(slug=demo.SLUG).count() == 1 and Proposal.objects.filter(call=call).count() == 95
    assert call.result.tally == tally
    # The same seed gives the same tally on any machine (the digest differs: sealing uses a fresh salt).
    assert sum(tally.values()) == 1669 and len(tally) == demo.SHORTLIST


def test_the_results_page_writes_the_figures_as_the_ward_does_in_both_languages(client, loaded):
    import re

    call = Call.objects.get(slug=demo.SLUG)
    url = reverse("proposals:results", args=[call.slug])
    japanese = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "票数</strong>：" in japanese and "行は全部で1,669行（票数）、投票用紙の番号は665種類" in japanese
    with translation.override(None):  # the request activates English; restore the default afterwards
        english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="votes">1,669<' in english
    assert "There are 1,669 rows in all (the votes) and 665 different ballot numbers" in english
    main = english.split("<main", 1)[1].split("</main>", 1)[0]
    section = main.split('id="verify-title"', 1)[1].split("</section>", 1)[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert "How to check (no programming needed)" in text and "For experts" in text
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), text
    # Every vote count in the table is grouped too (a shortlisted proposal here has fewer than
    # 1,000 votes, so check the filter is applied by the row of the most-voted proposal).
    top = max(call.result.tally.items(), key=lambda kv: kv[1])
    row = main.split(f'id="row-{top[0]}"', 1)[1].split("</tr>", 1)[0]
    assert f'<td class="num">{top[1]:,}</td>' in row


def test_every_demo_account_signs_in_with_the_demo_password(client):
    from django.core.management import call_command

    from hiroba.accounts.models import User
    from hiroba.notices.models import Recipient

    call_command("demo", stdout=open("/dev/null", "w"))
    users = list(User.objects.all())
    # the notices demo gives some of its 宛名 a resident account (kumin@ is one of them already)
    notice_residents = User.objects.filter(email__in=Recipient.objects.exclude(email="").values("email")).exclude(
        email=accounts_demo.RESIDENT[0]).count()
    assert len(users) == (len(accounts_demo.STAFF) + 1 + demo.APPLICATIONS + demo.VOTERS - demo.PAPER_VOTERS
                          + notice_residents)
    assert [u.email for u in users if not u.check_password(accounts_demo.DEMO_PASSWORD)] == []
    # Every staff account any demo makes is one of the listed ones (the README's table).
    staff = {u.email for u in users if u.kind == User.Kind.STAFF}
    assert staff == {s.email for s in accounts_demo.STAFF}
    # A reviewer, a school clerk and the residents really sign in through the login page.
    for email in ("shinsa1@hiroba.example", "kojimachi.kyomu@hiroba.example", "kumin@hiroba.example",
                  "teian0001@demo.hiroba.example", "tohyo0600@demo.hiroba.example"):
        response = client.post(reverse("account_login"), {"login": email, "password": accounts_demo.DEMO_PASSWORD})
        assert response.status_code == 302, email
        assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk), email
        client.logout()
    kojimachi = User.objects.get(email="kojimachi.kyomu@hiroba.example")
    assert list(kojimachi.memberships.values_list("department__code", "role")) == [("kojimachi-es", 20)]


def test_the_demo_proposals_read_like_residents_ideas(loaded):
    call = Call.objects.get(slug=demo.SLUG)
    proposals = list(Proposal.objects.filter(call=call))
    titles = [p.title for p in proposals]
    assert len(titles) == len(set(titles)) == 95
    # No machine-made "<subject>を<tool>" combinations, no template sentences repeated.
    assert "区報をセンサーで見守る" not in titles and not any(t.endswith("を見守る") for t in titles)
    for field in ("problem", "idea"):
        texts = [getattr(p, field) for p in proposals]
        assert len(set(texts)) == 95, field
        assert not any("について、必要な情報が届かず" in t for t in texts)
    assert "粗大ごみ受付のLINE対応" in titles and "帰宅困難者向け一時滞在施設の混雑マップ" in titles
    assert not any(p.proposer.display_name.startswith("デモ区民") for p in proposals)
