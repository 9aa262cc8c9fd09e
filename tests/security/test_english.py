"""The security and survey pages in English: headings, labels and sentences carry no template
Japanese (data from the database — names, titles — stays as entered)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from hiroba.security import importing
from hiroba.security.models import Finding
from hiroba.surveys import services as surveys
from tests.security.test_import import first_scan
from tests.security.zapgen import zap_json

pytestmark = pytest.mark.django_db
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def texts(html: str, *tags: str) -> list[str]:
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    found = []
    for tag in tags:
        for m in re.finditer(rf"<{tag}\b[^>]*>(.*?)</{tag}>", main, re.S):
            found.append(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(1))).strip())
    return found


def assert_english(items: list[str], data: tuple[str, ...]) -> None:
    for text in items:
        for value in sorted(data, key=len, reverse=True):
            text = text.replace(value, "")
        assert not JAPANESE.search(text), text


def test_the_register_pages_are_english(client, site, office_clerk, departments):
    importing.round_import(actor="test", system=site, stream=importing.spooled(zap_json(first_scan())),
                           filename="a.json", performed_on=date(2024, 10, 15))
    client.force_login(office_clerk)
    names = tuple(d.name for d in departments.values()) + tuple(d.full_name for d in departments.values())
    data = names + (site.name, "注意", "警告", "重要", "緊急", "情報", "未対応") + tuple(
        Finding.objects.values_list("title", flat=True))
    for url in (reverse("security_staff:home"), reverse("security_staff:queue"), reverse("security_staff:overdue"),
                reverse("security_staff:systems"), reverse("security_staff:system", args=[site.pk]),
                reverse("security_staff:system_import", args=[site.pk]), reverse("security_staff:audits"),
                reverse("security_staff:incidents"), reverse("security_staff:courses"),
                reverse("security_staff:policy"), reverse("security_staff:acceptances")):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert_english(texts(html, "h1", "h2", "th", "label", "button", "caption", "p"), data)


def test_the_public_form_and_survey_pages_are_english(client, departments, office_clerk):
    html = client.get(reverse("security:report"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert_english(texts(html, "h1", "label", "button", "p"), ())
    survey = surveys.survey_create(actor="test", title="研修アンケート", department=departments["systems"],
                                   questions=[surveys.QuestionSpec("内容")])
    client.force_login(office_clerk)
    html = client.get(reverse("surveys_staff:detail", args=[survey.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    data = ("研修アンケート", "内容", "情報システム課", "準備中", "非常に良い", "良い", "普通", "あまり良くない", "良くない")
    assert_english(texts(html, "h1", "h2", "button", "caption", "dt"), data)
