"""Survey downloads: the results table (counts and shares) and every answer, as CSV or Excel."""

from __future__ import annotations

from django.utils import timezone

from hiroba.core import charts, tabular
from hiroba.surveys.models import Answer, Question, Survey
from hiroba.surveys.queries import SurveyResults, results


def summary_table(res: SurveyResults) -> tabular.Table:
    rows = []
    for q in res.questions:
        if q.question.kind == Question.Kind.LIKERT:
            for label, n, pct in q.rows:
                rows.append([q.question.number, q.question.text, label, n, round(pct, 1)])
            share = q.favourable_share
            rows.append([q.question.number, q.question.text, f"肯定的な回答（上位{q.question.favourable}つ）",
                         q.favourable, round(share, 1) if share is not None else None])
        else:
            rows.append([q.question.number, q.question.text, "自由記述", q.answered, None])
    return tabular.Table(
        columns=[tabular.Column("設問番号", "number", width=8), tabular.Column("設問", "question", width=50, wrap=True),
                 tabular.Column("選択肢", "choice", width=24), tabular.Column("回答数", "count", width=10),
                 tabular.Column("割合（%）", "percent", width=10, number_format="0.0")],
        rows=rows, sheet="集計",
        preamble=[["アンケート", res.survey.title], ["回答数", res.responses]],
    )


def answers_table(survey: Survey) -> tabular.Table:
    questions = list(survey.questions.order_by("number"))
    index = {q.pk: i for i, q in enumerate(questions)}
    table: dict[int, list] = {}
    answers = (Answer.objects.filter(response__survey=survey).order_by("response_id", "question__number")
               .values_list("response_id", "response__submitted_at", "response__respondent_department__name",
                            "question_id", "choice", "text"))
    for response_id, submitted_at, department, question_id, choice, text in answers.iterator(chunk_size=2000):
        row = table.setdefault(response_id, [response_id, timezone.localtime(submitted_at).replace(tzinfo=None),
                                             department or ""] + [None] * len(questions))
        q = questions[index[question_id]]
        row[3 + index[question_id]] = q.scale[choice] if choice is not None and choice < len(q.scale) else text
    columns = [tabular.Column("回答番号", "response"), tabular.Column("回答日時", "submitted_at", width=18,
                                                                  number_format="yyyy/m/d h:mm"),
               tabular.Column("回答所属", "department", width=20)]
    columns += [tabular.Column(f"問{q.number} {q.text}", f"q{q.number}", width=30, wrap=True) for q in questions]
    return tabular.Table(columns=columns, rows=list(table.values()), sheet="回答")


def to_csv(survey: Survey) -> bytes:
    return tabular.to_csv(summary_table(results(survey)))


def answers_csv(survey: Survey) -> bytes:
    return tabular.to_csv(answers_table(survey))


def to_xlsx(survey: Survey) -> bytes:
    return tabular.to_xlsx(summary_table(results(survey)), answers_table(survey))


def likert_chart(res: SurveyResults, *, chart_id: str = "survey-chart") -> str:
    """One stacked bar per Likert question (share of each choice)."""
    likert = res.likert()
    if not likert:
        return ""
    legend = likert[0].question.scale
    rows = [(f"問{q.question.number}", q.counts) for q in likert]
    return charts.stacked_bar_chart(f"{res.survey.title}の回答の分布（詳細は下の表）", rows, legend, chart_id=chart_id)
