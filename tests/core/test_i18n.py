"""The English pages: rendered with Accept-Language: en, the UI text (headings, labels, sentences
around numbers) is English; only data from the database (titles, names, places) stays Japanese."""

from __future__ import annotations

import re
import uuid

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse
from django.utils import translation

from hiroba.accounts import demo as accounts_demo
from hiroba.accounts.models import IdentityLevel, User
from hiroba.calendars import demo as calendars_demo
from hiroba.calendars.models import School
from hiroba.consultations import demo as consultations_demo
from hiroba.consultations.forms import CHOICE_LABELS
from hiroba.consultations.models import Case, Category, Channel
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


@pytest.fixture
def consultations(db):
    """The seed consultation (results published) and the open demo consultation."""
    accounts_demo.load(lambda line: None)
    consultations_demo.load(lambda line: None)
    return (Case.objects.get(slug=consultations_demo.OPEN_SLUG),
            Case.objects.get(slug=consultations_demo.SEED_SLUG))


def _case_data(case: Case) -> tuple[str, ...]:
    """What the ward wrote for the case: shown as written in every language."""
    sections = list(case.sections.all())
    values = {case.title, case.department.name, case.legal_basis, *case.channel_names.values(), *case.announced_in,
              *(s.heading for s in sections), *(s.body for s in sections),
              # where to submit, why it closed early, what a 訂正 changed: the ward's words too
              case.submit_address, case.hand_in_place, case.hand_in_hours, case.close_reason,
              *case.published_results.values_list("correction_note", flat=True)}
    return tuple(sorted(filter(None, values), key=len, reverse=True))  # 「デジタル政策課窓口」 before 「デジタル政策課」


def _opinion(case: Case, **overrides: object) -> dict[str, object]:
    section = case.sections.order_by("position").first()
    data = {"name": "Hanako Kumin", "address": "1-2-1 Kudan-minami", "category": "resident", "email": "",
            "phone": "", "section": section.pk, "text": "デジタル化を進めてください。",
            "idempotency_key": uuid.uuid4().hex}
    data.update(overrides)
    return data


def _post_main(client, url: str, data: dict[str, object], language: str = "en", status: int = 200) -> str:
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == status, url
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


def test_the_public_consultation_pages_are_english(client, consultations):
    case, _ = consultations
    data = _case_data(case)

    html = _main(client, case.get_absolute_url())
    _assert_english(_elements(html, "h1", "h2", "h3", "dt", "dd", "p"), data=data)
    text = _text(html)
    assert "Comment period" in text and "(both days included; until 23:59 on the last day)" in text
    assert "How to submit In person, By post, Fax, E-mail" in text
    assert "Who can submit Lives in the ward, Works in the ward, Studies in the ward" in text
    assert "Identity verification No identity verification" in text
    assert text.count("Comment on this section") == 3

    url = reverse("consultations:submit", args=[case.slug])
    html = _main(client, url)
    _assert_english(_elements(html, "h1", "p", "li", "label", "option", "button"), data=data)
    assert "Please choose" in html and ">Lives in the ward</option>" in html
    assert "No particular section (opinion on the whole draft)" in html

    html = _post_main(client, url, _opinion(case, name="", text="　\n "), status=400)
    _assert_english(_elements(html, "h1", "h2", "li", "label", "p", "button"), data=data)
    assert "Opinion cannot be left blank. Spaces alone cannot be submitted." in _text(html)

    html = _post_main(client, url, _opinion(case))
    _assert_english(_elements(html, "h1", "li", "p", "th", "button"), data=data)
    rows = dict(re.findall(r'<th scope="row">(.*?)</th><td[^>]*>(.*?)</td>', html, re.S))
    assert rows["Category"] == "Lives in the ward" and rows["Phone number"] == "(none)"
    assert rows["Opinion"].strip() == "デジタル化を進めてください。"  # the resident's words, as written
    assert "Check your opinion" in html and ">Submit</button>" in html


def test_the_published_results_are_english_and_the_download_stays_japanese(client, consultations):
    _, seed = consultations
    data = _case_data(seed)

    url = reverse("consultations:results", args=[seed.slug])
    html = _main(client, url)
    # the tables and headings; the opinions and answers in the rows are the case's own words
    _assert_english(_elements(html, "h1", "h2", "dt", "dd", "th", "caption", "li"), data=data)
    text = _text(html)
    assert "Comment period 5 January 2025 (Reiwa 7) to 20 January 2025 (Reiwa 7)" in text
    assert "Number of submitters 12 people" in text and "Number of opinions 12 opinions" in text
    assert "No. Section Opinion The ward's answer" in text
    assert "<td>1 opinion</td>" in html and "<td>1件</td>" not in html

    download = client.get(reverse("consultations:results_download", args=[seed.slug, "html"]),
                          HTTP_ACCEPT_LANGUAGE="en")
    assert "実施結果" in download.content.decode() and "Number of submitters" not in download.content.decode()


def test_the_japanese_consultation_pages_are_unchanged(client, consultations):
    case, seed = consultations
    text = _text(_main(client, case.get_absolute_url(), "ja"))
    assert "（両日を含む。最終日は23時59分まで）" in text
    assert "提出方法 持参、郵送、ファクス、電子メール、区HP送信フォーム" in text
    assert "提出できる方 在住、在勤、在学、事業者、利害関係者" in text and "本人確認 本人確認なし" in text
    assert "全体への意見を出す" in text and text.count("この箇所に意見を出す") == 3

    url = reverse("consultations:submit", args=[case.slug])
    html = _main(client, url, "ja")
    assert "<h1>意見を提出する</h1>" in html and ">在住</option>" in html and "確認画面へ進む" in html
    html = _post_main(client, url, _opinion(case), "ja")
    assert "<h1>入力内容の確認</h1>" in html and '<th scope="row">区分</th><td>在住</td>' in html
    assert "この内容で提出する" in html

    text = _text(_main(client, reverse("consultations:results", args=[seed.slug]), "ja"))
    assert "募集期間 令和7年1月5日～令和7年1月20日（2025年1月5日～2025年1月20日）" in text
    assert "提出者数 12名 意見件数 12件" in text and "No. 該当箇所 意見内容 区の考え方" in text


def test_every_choice_label_a_resident_sees_is_in_the_catalogue():
    labels = {str(label) for label in [*Channel.labels, *Category.labels, *IdentityLevel.labels]}  # the Japanese
    assert labels <= set(CHOICE_LABELS)
    with translation.override("en"):
        untranslated = [label for label in labels if translation.gettext(label) == label]
    assert not untranslated
