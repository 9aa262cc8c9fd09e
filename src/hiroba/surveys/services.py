"""Every write to surveys: create, open, close, answer, import answers. Other modules call these."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.surveys import audit_actions as actions
from hiroba.surveys.models import DEFAULT_SCALE, Answer, Question, Response, Survey


@dataclass(frozen=True)
class QuestionSpec:
    text: str
    kind: str = Question.Kind.LIKERT
    required: bool = True
    scale: Sequence[str] = field(default_factory=lambda: list(DEFAULT_SCALE))
    favourable: int = 2


def _who(actor: ActorLike) -> Any:
    who = Actor.of(actor)
    return who.user or who.audit_label


@transaction.atomic
def survey_create(
    *, actor: ActorLike, title: str, department: Department, questions: Sequence[QuestionSpec], anonymous: bool = True,
    description: str = "", purpose: str = "", opens_on: date | None = None, closes_on: date | None = None,
) -> Survey:
    """A survey in 準備中 with its questions (numbered in the order given)."""
    title = title.strip()
    if not title:
        raise ServiceError(_("アンケート名を入力してください。"), code="title_required", field="title")
    if not questions:
        raise ServiceError(_("設問を1つ以上入れてください。"), code="no_questions", field="questions")
    if opens_on and closes_on and closes_on < opens_on:
        raise ServiceError(_("回答締切日は回答開始日以降にしてください。"), code="period_order", field="closes_on")
    survey = Survey.objects.create(title=title, department=department, anonymous=anonymous, description=description,
                                   purpose=purpose, opens_on=opens_on, closes_on=closes_on)
    rows = []
    for number, spec in enumerate(questions, start=1):
        if not spec.text.strip():
            raise ServiceError(format_lazy(_("問{n}の設問文を入力してください。"), n=number), code="question_text")
        scale = list(spec.scale) if spec.kind == Question.Kind.LIKERT else []
        if spec.kind == Question.Kind.LIKERT and len(scale) < 2:
            raise ServiceError(format_lazy(_("問{n}の選択肢を2つ以上にしてください。"), n=number), code="scale")
        rows.append(Question(survey=survey, number=number, kind=spec.kind, text=spec.text.strip(),
                             required=spec.required, scale=scale, favourable=min(spec.favourable, len(scale))))
    Question.objects.bulk_create(rows)
    audit.record(actor=_who(actor), action=actions.SURVEY_CREATE, obj=survey,
                 changes={"title": title, "questions": len(rows), "anonymous": anonymous, "purpose": purpose})
    return survey


def _set_state(actor: ActorLike, survey: Survey, state: str, action: str, allowed_from: Iterable[str]) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.state not in allowed_from:
        raise ServiceError(format_lazy(_("現在の状態（{state}）ではこの操作はできません。"),
                                       state=survey.get_state_display()), code="invalid_state")
    before = survey.state
    survey.state = state
    survey.save(update_fields=["state"])
    audit.record(actor=_who(actor), action=action, obj=survey, changes={"state": [before, state]})
    return survey


@transaction.atomic
def survey_open(*, actor: ActorLike, survey: Survey) -> Survey:
    """Start taking answers."""
    return _set_state(actor, survey, Survey.State.OPEN, actions.SURVEY_OPEN, [Survey.State.DRAFT, Survey.State.CLOSED])


@transaction.atomic
def survey_close(*, actor: ActorLike, survey: Survey) -> Survey:
    """Stop taking answers (results stay readable)."""
    return _set_state(actor, survey, Survey.State.CLOSED, actions.SURVEY_CLOSE, [Survey.State.OPEN])


def respondent_key(survey: Survey, user: Any) -> str:
    """An HMAC of the account and the survey, keyed outside the database: the same person gets
    the same key (one answer each) but the key does not say who they are."""
    key = settings.AUDIT_KEY.encode()
    return hmac.new(key, f"survey:{survey.pk}:user:{user.pk}".encode(), hashlib.sha256).hexdigest()


def _clean_answers(survey: Survey, questions: Sequence[Question], values: Mapping[int, Any], *,
                   by_number: bool = False) -> list[Answer]:
    """The answers keyed by question id (a form) or, with `by_number`, by question number (an import)."""
    answers = []
    for q in questions:
        raw = values.get(q.number if by_number else q.pk)
        if q.kind == Question.Kind.LIKERT:
            if raw in (None, ""):
                if q.required:
                    raise ServiceError(format_lazy(_("問{n}を選んでください。"), n=q.number), code="answer_required",
                                       field=f"q{q.pk}")
                continue
            try:
                choice = int(raw)
            except (TypeError, ValueError):
                choice = -1
            if not 0 <= choice < len(q.scale):
                raise ServiceError(format_lazy(_("問{n}の回答が選択肢にありません。"), n=q.number),
                                   code="answer_out_of_scale", field=f"q{q.pk}")
            answers.append(Answer(question=q, choice=choice))
        else:
            text = str(raw or "").strip()
            if not text:
                if q.required:
                    raise ServiceError(format_lazy(_("問{n}を記入してください。"), n=q.number), code="answer_required",
                                       field=f"q{q.pk}")
                continue
            if len(text) > 4000:
                raise ServiceError(format_lazy(_("問{n}は4,000字以内で記入してください。"), n=q.number),
                                   code="answer_too_long", field=f"q{q.pk}")
            answers.append(Answer(question=q, text=text))
    return answers


@transaction.atomic
def response_submit(*, actor: ActorLike, survey: Survey, answers: Mapping[int, Any],
                    department: Department | None = None, on: datetime | None = None) -> Response:
    """One person's answers to an open survey (keys: question ids). Anonymous surveys
    keep no link to the person; everyone answers once."""
    who = Actor.of(actor)
    if who.user is None:
        raise NotAllowed(_("回答するにはログインしてください。"))
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    today = timezone.localdate()
    if survey.state != Survey.State.OPEN or (survey.opens_on and today < survey.opens_on) or (
            survey.closes_on and today > survey.closes_on):
        raise ServiceError(_("このアンケートは回答を受け付けていません。"), code="survey_closed")
    questions = list(survey.questions.order_by("number"))
    rows = _clean_answers(survey, questions, answers)
    response = Response(survey=survey, respondent=None if survey.anonymous else who.user,
                        respondent_department=department, respondent_key=respondent_key(survey, who.user),
                        submitted_at=on or timezone.now())
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        raise ServiceError(_("このアンケートには回答済みです。"), code="already_answered") from None
    for row in rows:
        row.response = response
    Answer.objects.bulk_create(rows)
    Survey.objects.filter(pk=survey.pk).update(response_count=F("response_count") + 1)
    # Anonymous: the audit entry names the survey, never the person's account.
    audit.record(actor=who.audit_label if survey.anonymous else who.user, action=actions.RESPONSE_SUBMIT,
                 obj=survey, changes={"answers": len(rows)})
    return response


@transaction.atomic
def responses_import(*, actor: ActorLike, survey: Survey, rows: Iterable[Mapping[int, Any]],
                     submitted_at: datetime | None = None, departments: Sequence[Department | None] = ()) -> int:
    """Answers collected elsewhere (the video platform's questionnaire, paper forms, a survey of
    departments), one mapping per respondent keyed by question number, with the answering
    department of each when given; all stored or none. Returns how many."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    questions = list(survey.questions.order_by("number"))
    when = submitted_at or timezone.now()
    cleaned = []
    for index, values in enumerate(rows, start=1):
        try:
            cleaned.append(_clean_answers(survey, questions, values, by_number=True))
        except ServiceError as exc:
            raise ServiceError(format_lazy(_("{row}件目: {message}"), row=index, message=exc.message),
                               code=exc.code) from None
    by_department = list(departments) + [None] * (len(cleaned) - len(departments))
    responses = Response.objects.bulk_create([Response(survey=survey, submitted_at=when, respondent_department=d)
                                              for _, d in zip(cleaned, by_department, strict=False)])
    if responses and responses[0].pk is None:  # databases that do not return ids from a bulk insert
        responses = list(survey.responses.order_by("-id")[:len(cleaned)])[::-1]
    answers = []
    for response, rows_of_one in zip(responses, cleaned, strict=True):
        for answer in rows_of_one:
            answer.response = response
            answers.append(answer)
    Answer.objects.bulk_create(answers, batch_size=2000)
    Survey.objects.filter(pk=survey.pk).update(response_count=F("response_count") + len(cleaned))
    audit.record(actor=_who(actor), action=actions.RESPONSES_IMPORT, obj=survey, changes={"responses": len(cleaned)})
    return len(cleaned)
