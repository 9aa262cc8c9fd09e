"""The English pages: rendered with Accept-Language: en, the UI text (headings, labels, sentences
around numbers) is English; only data from the database (titles, names, places) stays Japanese."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from hiroba.accounts import demo as accounts_demo
from hiroba.accounts.models import User
from hiroba.calendars import demo as calendars_demo
from hiroba.calendars.models import School
from hiroba.proposals import demo as proposals_demo
from hiroba.proposals.models import Call
from hiroba.workshops import demo as workshops_demo
from hiroba.workshops.models import Programme

pytestmark = pytest.mark.django_db
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _elements(html: str, *tags: str) -> list[str]:
    alternatives = "|".join(tags)
    pattern = rf"<({alternatives})\b[^>]*>(.*?)</\1>"
    return [_text(m.group(2)) for m in re.finditer(pattern, html, re.S)]


def _main(client, url: str, language: str = "en") -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


def _assert_english(texts: list[str], *, data: tuple[str, ...] = ()) -> None:
    """No Japanese left in `texts` once the database values in `data` are taken out."""
    for text in texts:
        for value in data:
            text = text.replace(value, "")
        assert not JAPANESE.search(text), text


@pytest.fixture
def demo():
    for module in (accounts_demo, calendars_demo, proposals_demo, workshops_demo):
        module.load(lambda line: None)


def test_the_school_list_names_both_years_of_the_school_year(client, demo):
    school = School.objects.order_by("pk").first()
    url = reverse("calendars:school_list", args=[school.slug])
    lead = _elements(_main(client, url), "p")
    sentence = next(p for p in lead if p.startswith("Events for Reiwa"))
    fiscal_year = int(re.search(r"April (\d{4})", sentence).group(1))
    assert f"to March {fiscal_year + 1})" in sentence
    _assert_english([sentence])
    japanese = _text(_main(client, url, "ja"))
    assert f"{fiscal_year}年4月〜{fiscal_year + 1}年3月）の予定" in japanese


def test_public_workshop_and_proposal_pages_are_english(client, demo):
    programme = Programme.objects.get(code="r7-jhs")
    data = (programme.title, programme.audience, "千代田区", programme.department.name)

    html = _main(client, reverse("workshops:list"))
    _assert_english(_elements(html, "h1", "dt", "p"), data=data)

    html = _main(client, programme.get_absolute_url())
    _assert_english(_elements(html, "h2", "h3", "dt", "th", "summary", "li"), data=data)
    text = _text(html)
    assert "Applications have closed." in text
    assert "How the lottery works" in text
    assert "(22 entries)" in text and "Places: 15 · waiting list: 5" in text
    assert "Session 1" in text and "第1回" not in text
    assert "Waiting list no. 1" in text and "補欠" not in text

    html = _main(client, reverse("proposals:list"))
    _assert_english(_elements(html, "h1"))
    assert "Submission period" in _text(html)

    call = Call.objects.get(slug="dx-teian-r6")
    html = _main(client, reverse("proposals:results", args=[call.slug]))
    _assert_english(_elements(html, "h2", "th", "caption"))
    summary = _text(re.search(r'<p class="result-summary">(.*?)</p>', html, re.S).group(1))
    assert summary.startswith("Proposals received:") and "votes cast:" in summary
    _assert_english([summary])

    html = _main(client, reverse("proposals:call", args=[call.slug]))
    assert f"Up to {call.votes_per_voter} votes per person" in _text(html)
    assert re.search(r"<caption>\d+ proposals</caption>", html)


def test_staff_workshop_pages_are_english(client, demo):
    staff = User.objects.get(email="dx.approver@hiroba.example")
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    programme = Programme.objects.get(code="r7-jhs")
    data = (programme.title,)

    html = _main(client, reverse("workshops_staff:lottery", args=[programme.code]))
    _assert_english(_elements(html, "h1", "h2", "dt", "th"), data=data)
    text = _text(html)
    assert "Drawn on " in text and "22 entries" in text
    assert "Selected" in text and "Not selected" in text and "当選" not in text

    html = _main(client, reverse("workshops_staff:outputs", args=[programme.code]))
    _assert_english(_elements(html, "h1", "h2", "th"), data=data)
    assert "Submit 3 unsubmitted outputs" in _text(html)
    assert "件" not in _text(html)

    html = _main(client, reverse("workshops_staff:detail", args=[programme.code]))
    _assert_english(_elements(html, "h2", "dt", "th"), data=(*data, "千代田区", programme.audience))
