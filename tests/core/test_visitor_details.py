"""Small things a visitor notices (issue 12.13): the language menu names each language in its own
name, the login page links to the password reset once, the opinion form's step indicator marks the
current step, there is a favicon, and labels such as 全校, 個人 and 投票対象（選定） are English in
the English UI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.utils import translation

from hiroba.calendars.models import Calendar, School
from hiroba.proposals.models import ProposerCategory, ScreeningDecision
from tests.consultations.conftest import make_case  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_language_menu_names_each_language_in_its_own_name(client, language):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    options = re.findall(r'<option value="(\w+)" lang="\w+"[^>]*>([^<]+)</option>', html)
    assert options == [("ja", "日本語"), ("en", "English")]
    assert "英語" not in html


def test_the_login_page_links_to_the_password_reset_once(client):
    html = client.get("/accounts/login/").content.decode()
    assert html.count('href="/accounts/password/reset/"') == 1


def test_the_step_indicator_marks_the_current_step_and_is_styled():
    css = Path(finders.find("hiroba/hiroba.css")).read_text()
    assert '.steps li[aria-current="step"]' in css


def test_the_opinion_form_marks_its_current_step(client, make_case, time_machine):  # noqa: F811
    from tests.consultations.conftest import DURING

    time_machine.move_to(DURING)
    case = make_case()
    html = client.get(f"/consultations/{case.slug}/submit/").content.decode()
    assert re.search(r'<ol class="steps"[^>]*><li aria-current="step">入力</li><li>確認</li>', html)


def test_every_page_links_a_favicon_that_exists(client):
    html = client.get("/").content.decode()
    links = re.findall(r'<link rel="icon" href="/static/([^"]+)"', html)
    assert links == ["hiroba/favicon.svg", "hiroba/favicon.ico"]
    for path in links:
        assert finders.find(path), path
    assert Path(finders.find("hiroba/favicon.svg")).read_text().startswith("<svg")


def test_school_wide_individual_and_shortlisted_are_english_in_english(departments):
    school = School.objects.create(name="千代田区立テスト小学校", short_name="テスト小", slug="test-es", kind="elementary",
                                   department=departments["systems"])
    whole = Calendar.objects.create(school=school, audience=Calendar.Audience.SCHOOL, key="school")
    grade = Calendar.objects.create(school=school, audience=Calendar.Audience.GRADE, grade=1, key="g1")
    with translation.override("en"):
        assert whole.display_label == "Whole school" and grade.display_label == "Year 1"
        assert translation.pgettext("proposer category", ProposerCategory.INDIVIDUAL.label) == "Individual"
        assert translation.gettext(ScreeningDecision.SHORTLISTED.label) == "Shortlisted for the vote"
    with translation.override("ja"):
        assert whole.display_label == "全校" and whole.label == "全校"  # the import keeps its value
        assert grade.display_label == "1年"
