"""Surveys: Likert and free-text questions, anonymous or named answers, one answer per person,
results with the favourable share and an SVG chart beside its table, CSV / Excel export."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from hiroba.accounts.models import Role
from hiroba.core.errors import ServiceError
from hiroba.surveys import exports, queries, services
from hiroba.surveys.models import Question, Response, Survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(departments):
    s = services.survey_create(actor="test", title="クラウド研修アンケート", department=departments["systems"], questions=[
        services.QuestionSpec("研修の内容はいかがでしたか"),
        services.QuestionSpec("感想", kind=Question.Kind.TEXT, required=False),
    ])
    return services.survey_open(actor="test", survey=s)


def test_an_anonymous_answer_keeps_no_link_to_the_person_and_comes_once(survey, make_staff):
    user = make_staff(email="a@example.jp").user
    q1, q2 = survey.questions.order_by("number")
    response = services.response_submit(actor=user, survey=survey, answers={q1.pk: 1, q2.pk: "分かりやすかった"})
    assert response.respondent is None and response.respondent_key
    with pytest.raises(ServiceError) as exc:
        services.response_submit(actor=user, survey=survey, answers={q1.pk: 0})
    assert exc.value.code == "already_answered"
    survey.refresh_from_db()
    assert survey.response_count == 1


def test_answers_are_checked(survey, make_staff):
    user = make_staff(email="b@example.jp").user
    q1 = survey.questions.get(number=1)
    with pytest.raises(ServiceError):
        services.response_submit(actor=user, survey=survey, answers={})
    with pytest.raises(ServiceError):
        services.response_submit(actor=user, survey=survey, answers={q1.pk: 9})
    services.survey_close(actor="test", survey=survey)
    with pytest.raises(ServiceError):
        services.response_submit(actor=user, survey=survey, answers={q1.pk: 0})
    assert not Response.objects.exists()


def test_the_results_give_the_share_of_the_best_two_choices(survey):
    services.responses_import(actor="test", survey=survey, rows=[{1: c} for c in [0] * 4 + [1] * 4 + [2] * 2])
    res = queries.results(survey)
    assert res.responses == 10
    assert res.questions[0].counts == [4, 4, 2, 0, 0] and res.questions[0].favourable_share == 80.0
    chart = exports.likert_chart(res)
    assert chart.startswith("<svg") and 'role="img"' in chart and "80%" not in chart  # segments show each share
    assert "40%" in chart
    with pytest.raises(ServiceError):
        services.responses_import(actor="test", survey=survey, rows=[{1: 0}, {1: 7}])
    assert queries.results(survey).responses == 10


def test_csv_and_excel_exports(client, survey, make_staff):
    services.responses_import(actor="test", survey=survey, rows=[{1: 0, 2: "=HYPERLINK(\"x\")"}, {1: 2}])
    csv_body = exports.to_csv(survey).decode("utf-8-sig")
    assert "非常に良い" in csv_body and "肯定的な回答（上位2つ）" in csv_body
    answers = exports.answers_csv(survey).decode("utf-8-sig")
    assert "'=HYPERLINK" in answers  # the formula guard
    workbook = load_workbook(io.BytesIO(exports.to_xlsx(survey)))
    assert workbook.sheetnames == ["集計", "回答"]
    viewer = make_staff(email="v@example.jp", department="systems", role=Role.READ).user
    client.force_login(viewer)
    page = client.get(reverse("surveys_staff:detail", args=[survey.pk])).content.decode()
    assert "<svg" in page and "<table" in page and "50.0%" in page
    assert client.get(reverse("surveys_staff:results_xlsx", args=[survey.pk])).status_code == 200


def test_a_department_sees_only_its_surveys_but_anyone_can_answer_an_open_one(client, survey, make_staff):
    outsider = make_staff(email="o@example.jp", department="care").user
    client.force_login(outsider)
    assert client.get(reverse("surveys_staff:detail", args=[survey.pk])).status_code == 404
    assert "クラウド研修アンケート" in client.get(reverse("surveys_staff:list")).content.decode()
    q1 = survey.questions.get(number=1)
    response = client.post(reverse("surveys_staff:answer", args=[survey.pk]), {f"q{q1.pk}": "1"})
    assert response.status_code == 302
    assert Survey.objects.get(pk=survey.pk).response_count == 1


def test_imported_rows_are_read_by_question_number_never_by_id(departments):
    services.survey_create(actor="test", title="先のアンケート", department=departments["systems"],
                           questions=[services.QuestionSpec(f"設問{i}") for i in range(3)])
    survey = services.survey_create(actor="test", title="研修", department=departments["systems"], questions=[
        services.QuestionSpec("研修の内容はいかがでしたか"),
        services.QuestionSpec("感想", kind=Question.Kind.TEXT, required=False)])
    q1 = survey.questions.get(number=1)
    assert q1.pk not in (1, 2)
    # a row keyed by numbers that also happens to hold the likert question's id with text in it
    assert services.responses_import(actor="test", survey=survey, rows=[{1: 0, 2: "感想", q1.pk: "感想"}]) == 1
    assert queries.results(survey).questions[0].counts[0] == 1


@pytest.mark.django_db
def test_the_survey_form_offers_only_the_departments_given(departments):
    from hiroba.core.models import Department
    from hiroba.surveys.forms import SurveyForm

    form = SurveyForm({"title": "x", "department": departments["systems"].pk},
                      departments=Department.objects.filter(pk=departments["care"].pk))
    assert list(form.fields["department"].queryset) == [departments["care"]]
    assert not form.is_valid() and "department" in form.errors


def test_survey_states_are_labelled_in_the_reader_s_language():
    from django.utils import translation

    with translation.override("en"):
        assert str(Survey.State.CLOSED.label) == "Closed"
    with translation.override("ja"):
        assert str(Survey.State.CLOSED.label) == "締切"
