"""Questionnaires (アンケート): Likert and free-text questions, anonymous or named responses.

Other modules own what a survey is *about* (a training course, a staff survey on the LAN, a
hearing of departments) and create and read surveys through `hiroba.surveys.services` and
`hiroba.surveys.queries`; this app never imports theirs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: The five-point scale the ward's training questionnaires use, best first.
DEFAULT_SCALE = ["非常に良い", "良い", "普通", "あまり良くない", "良くない"]


class Survey(models.Model):
    """One questionnaire. Anonymous surveys never store who answered (only a keyed digest that
    stops a second answer from the same account)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("準備中")
        OPEN = "open", _("回答受付中")
        CLOSED = "closed", _("締切")

    title = models.CharField("アンケート名", max_length=200)
    description = models.TextField("説明", blank=True)
    department = models.ForeignKey("core.Department", verbose_name="担当所属", on_delete=models.PROTECT,
                                   related_name="surveys")
    anonymous = models.BooleanField("無記名", default=True)
    state = models.CharField("状態", max_length=8, choices=State.choices, default=State.DRAFT)
    opens_on = models.DateField("回答開始日", null=True, blank=True)
    closes_on = models.DateField("回答締切日", null=True, blank=True)
    #: Which module uses it and for what ("security.course:12"): shown, never dereferenced here.
    purpose = models.CharField("用途", max_length=100, blank=True)
    response_count = models.PositiveIntegerField("回答数", default=0)
    created_at = models.DateTimeField("作成日時", default=timezone.now)

    class Meta:
        verbose_name = "アンケート"
        verbose_name_plural = "アンケート"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["draft", "open", "closed"]), name="survey_state_valid"),
            models.CheckConstraint(condition=Q(opens_on__isnull=True) | Q(closes_on__isnull=True)
                                   | Q(closes_on__gte=models.F("opens_on")), name="survey_period_order"),
        ]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    class Kind(models.TextChoices):
        LIKERT = "likert", _("5段階評価")
        TEXT = "text", _("自由記述")

    survey = models.ForeignKey(Survey, verbose_name="アンケート", on_delete=models.CASCADE, related_name="questions")
    number = models.PositiveSmallIntegerField("設問番号")
    kind = models.CharField("種類", max_length=8, choices=Kind.choices, default=Kind.LIKERT)
    text = models.CharField("設問", max_length=500)
    required = models.BooleanField("回答必須", default=True)
    #: The labels of a Likert question, best first (index 0 is the best answer).
    scale = models.JSONField("選択肢", default=list, blank=True)
    #: How many of the best choices count as "favourable" (非常に良い + 良い = 2).
    favourable = models.PositiveSmallIntegerField("肯定的な回答とみなす上位の選択肢の数", default=2)

    class Meta:
        verbose_name = "設問"
        verbose_name_plural = "設問"
        ordering = ["survey", "number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="question_number_unique"),
            models.CheckConstraint(condition=Q(kind__in=["likert", "text"]), name="question_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"問{self.number} {self.text}"


class Response(models.Model):
    """One person's (or one department's) answers. Immutable once stored."""

    survey = models.ForeignKey(Survey, verbose_name="アンケート", on_delete=models.CASCADE, related_name="responses")
    respondent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="回答者", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    respondent_department = models.ForeignKey("core.Department", verbose_name="回答所属", null=True, blank=True,
                                              on_delete=models.PROTECT, related_name="+")
    #: HMAC of the account and the survey: blocks a second answer without saying who answered.
    respondent_key = models.CharField("回答者キー", max_length=64, blank=True)
    submitted_at = models.DateTimeField("回答日時", default=timezone.now)

    class Meta:
        verbose_name = "回答"
        verbose_name_plural = "回答"
        ordering = ["survey", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "respondent_key"], condition=~Q(respondent_key=""),
                                    name="response_once_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} #{self.pk}"


class Answer(models.Model):
    response = models.ForeignKey(Response, verbose_name="回答", on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, verbose_name="設問", on_delete=models.CASCADE, related_name="answers")
    choice = models.PositiveSmallIntegerField("選択（0が最上位）", null=True, blank=True)
    text = models.TextField("記述", blank=True)

    class Meta:
        verbose_name = "回答内容"
        verbose_name_plural = "回答内容"
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.choice if self.choice is not None else self.text[:20]}"
