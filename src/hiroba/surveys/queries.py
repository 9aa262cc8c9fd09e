"""Reads: the surveys a user may see and a survey's results (counts per choice, favourable share)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.surveys.models import Answer, Question, Survey


def surveys_for(user: Any, minimum: Role = Role.READ) -> QuerySet[Survey]:
    """Surveys of the departments the user holds `minimum` on (all for a system administrator)."""
    ids = permissions.department_ids(user, minimum)
    qs = Survey.objects.select_related("department")
    return qs if ids is None else qs.filter(department_id__in=ids)


def open_surveys() -> QuerySet[Survey]:
    return Survey.objects.filter(state=Survey.State.OPEN).select_related("department")


@dataclass
class QuestionResult:
    question: Question
    counts: list[int] = field(default_factory=list)  # per choice, best first (Likert)
    texts: list[str] = field(default_factory=list)  # free-text answers, in the order given
    answered: int = 0

    @property
    def favourable(self) -> int:
        return sum(self.counts[: self.question.favourable])

    @property
    def favourable_share(self) -> float | None:
        """Share of the best `favourable` choices (非常に良い + 良い) among those who answered, 0–100."""
        if not self.answered or self.question.kind != Question.Kind.LIKERT:
            return None
        return 100.0 * self.favourable / self.answered

    @property
    def rows(self) -> list[tuple[str, int, float]]:
        """(choice, count, percent) for the table beside the chart."""
        total = self.answered or 1
        return [(label, n, 100.0 * n / total) for label, n in zip(self.question.scale, self.counts, strict=True)]


@dataclass
class SurveyResults:
    survey: Survey
    responses: int
    questions: list[QuestionResult]

    def likert(self) -> list[QuestionResult]:
        return [q for q in self.questions if q.question.kind == Question.Kind.LIKERT]


def results(survey: Survey, *, texts_limit: int | None = None) -> SurveyResults:
    """Every question's counts in two queries (choices grouped in SQL; free text listed)."""
    questions = list(survey.questions.order_by("number"))
    by_id = {q.pk: QuestionResult(q, counts=[0] * len(q.scale)) for q in questions}
    grouped = (Answer.objects.filter(question__survey=survey, choice__isnull=False)
               .values("question_id", "choice").annotate(n=Count("id")))
    for row in grouped:
        result = by_id[row["question_id"]]
        if row["choice"] is not None and row["choice"] < len(result.counts):
            result.counts[row["choice"]] += row["n"]
            result.answered += row["n"]
    texts = Answer.objects.filter(question__survey=survey, choice__isnull=True).exclude(text="").order_by("id")
    for question_id, text in texts.values_list("question_id", "text").iterator(chunk_size=2000):
        result = by_id[question_id]
        result.answered += 1
        if texts_limit is None or len(result.texts) < texts_limit:
            result.texts.append(text)
    return SurveyResults(survey, survey.responses.count(), [by_id[q.pk] for q in questions])


def favourable_share(survey: Survey, number: int = 1) -> float | None:
    """The favourable share of one Likert question (by number) — what a course report quotes."""
    for result in results(survey, texts_limit=0).questions:
        if result.question.number == number:
            return result.favourable_share
    return None
