"""デジタル活用提案制度: calls (募集), proposals, blind screening, secret ballots, results, follow-up.

Ballot secrecy is a property of the schema, not of the views: `Ballot` rows carry no user, no
participation id and no timestamp, only a pseudonymous `token` (an HMAC of the participation
id with a key that is not in the database, replaced by a salted hash when the results are
published — see docs/proposals.md). `Participation` says who voted and how many votes they
hold, never for what.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone

from hiroba.accounts.models import IdentityLevel, Relationship, ResidentVerification

TITLE_MAX = 80
PROBLEM_MAX = 2000
IDEA_MAX = 4000
BENEFICIARIES_MAX = 1000
LABEL_MAX = 100
REASON_MAX = 1000


class Phase(models.TextChoices):
    UPCOMING = "upcoming", "募集前"
    SUBMISSION = "submission", "募集"
    SCREENING = "screening", "審査"
    VOTING = "voting", "投票"
    COUNTING = "counting", "集計中"
    RESULTS = "results", "結果"
    IMPLEMENTATION = "implementation", "事業化"


def _today(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now())


class Call(models.Model):
    """A 募集: one round of the idea contest, with its rules, rubric and phases (JST days)."""

    department = models.ForeignKey("core.Department", verbose_name="担当所属", on_delete=models.PROTECT,
                                   related_name="proposal_calls")
    slug = models.SlugField("識別子", max_length=60, unique=True)
    title = models.CharField("募集名", max_length=120)
    theme = models.TextField("テーマ")
    rules = models.TextField("応募のきまり", blank=True)
    receipt_prefix = models.CharField("受付番号の接頭辞", max_length=12)
    eligible_residencies = models.JSONField("投票できる方（在住・在勤・在学）", default=list)
    min_age = models.PositiveSmallIntegerField("投票できる年齢（以上）", null=True, blank=True)
    max_age = models.PositiveSmallIntegerField("投票できる年齢（以下）", null=True, blank=True)
    submission_start = models.DateField("募集開始日")
    submission_end = models.DateField("募集締切日")
    voting_start = models.DateField("投票開始日")
    voting_end = models.DateField("投票締切日")
    results_on = models.DateField("結果公表予定日")
    implementation_on = models.DateField("事業化の検討開始日")
    votes_per_voter = models.PositiveSmallIntegerField("1人あたりの票数", default=3)
    voting_identity_level = models.CharField("投票に必要な本人確認", max_length=10,
                                             choices=IdentityLevel.choices, default=IdentityLevel.VERIFIED)
    reviewers_per_proposal = models.PositiveSmallIntegerField("1提案あたりの審査員数", default=2)
    disagreement_threshold = models.DecimalField(
        "評価のばらつきの基準", max_digits=4, decimal_places=2, default=1.5,
        help_text="審査員ごとに標準化した得点の差（最大−最小）がこの値を超えると、協議が必要として示します。",
    )
    published_at = models.DateTimeField("公開日時", null=True, blank=True)
    last_receipt_seq = models.PositiveIntegerField("最後の受付番号", default=0)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    class Meta:
        verbose_name = "募集"
        verbose_name_plural = "募集"
        ordering = ["-submission_start", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(submission_start__lte=F("submission_end"))
                & Q(submission_end__lt=F("voting_start"))
                & Q(voting_start__lte=F("voting_end"))
                & Q(voting_end__lt=F("results_on"))
                & Q(results_on__lte=F("implementation_on")),
                name="proposals_call_phases_in_order",
            ),
            models.CheckConstraint(condition=Q(votes_per_voter__gte=1, votes_per_voter__lte=20),
                                   name="proposals_call_votes_per_voter_range"),
            models.CheckConstraint(condition=Q(reviewers_per_proposal__gte=1, reviewers_per_proposal__lte=10),
                                   name="proposals_call_reviewers_range"),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(min_age__lte=F("max_age")),
                name="proposals_call_age_range",
            ),
            # Age and residency can only be checked against a verified identity.
            models.CheckConstraint(
                condition=Q(voting_identity_level="verified")
                | Q(min_age__isnull=True, max_age__isnull=True),
                name="proposals_call_age_needs_verified",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("proposals:call", args=[self.slug])

    def phase(self, now: datetime | None = None) -> Phase:
        today = _today(now)
        if today < self.submission_start:
            return Phase.UPCOMING
        if today <= self.submission_end:
            return Phase.SUBMISSION
        if today < self.voting_start:
            return Phase.SCREENING
        if today <= self.voting_end:
            return Phase.VOTING
        if not hasattr(self, "result"):
            return Phase.COUNTING
        if today < self.implementation_on:
            return Phase.RESULTS
        return Phase.IMPLEMENTATION

    def is_submission_open(self, now: datetime | None = None) -> bool:
        return self.submission_start <= _today(now) <= self.submission_end

    def is_screening(self, now: datetime | None = None) -> bool:
        return self.submission_end < _today(now) < self.voting_start

    def is_voting_open(self, now: datetime | None = None) -> bool:
        return self.voting_start <= _today(now) <= self.voting_end

    def residency_labels(self) -> list[str]:
        return [str(Relationship(r).label) for r in self.eligible_residencies if r in Relationship.values]

    def phases(self) -> list[tuple[str, date, date | None]]:
        """(label, first day, last day) for the public schedule."""
        from datetime import timedelta

        return [
            (Phase.SUBMISSION.label, self.submission_start, self.submission_end),
            (Phase.SCREENING.label, self.submission_end + timedelta(days=1), self.voting_start - timedelta(days=1)),
            (Phase.VOTING.label, self.voting_start, self.voting_end),
            (Phase.RESULTS.label, self.results_on, None),
            (Phase.IMPLEMENTATION.label, self.implementation_on, None),
        ]


class RubricCriterion(models.Model):
    """One line of the 審査基準: a criterion, its weight and its score scale (1..scale_max)."""

    call = models.ForeignKey(Call, verbose_name="募集", on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField("審査項目", max_length=60)
    description = models.CharField("説明", max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField("重み", default=1)
    scale_max = models.PositiveSmallIntegerField("満点", default=5)
    order = models.PositiveSmallIntegerField("表示順", default=0)

    class Meta:
        verbose_name = "審査項目"
        verbose_name_plural = "審査項目"
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["call", "name"], name="proposals_criterion_unique_name"),
            models.CheckConstraint(condition=Q(weight__gte=1, weight__lte=10), name="proposals_criterion_weight"),
            models.CheckConstraint(condition=Q(scale_max__gte=2, scale_max__lte=10), name="proposals_criterion_scale"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（×{self.weight}、{self.scale_max}点満点）"


class ProposerCategory(models.TextChoices):
    INDIVIDUAL = "individual", "個人"
    GROUP = "group", "団体・グループ"
    BUSINESS = "business", "事業者"


class ScreeningDecision(models.TextChoices):
    PENDING = "", "未決定"
    SHORTLISTED = "shortlisted", "投票対象（選定）"
    NOT_SHORTLISTED = "not_shortlisted", "選定せず"


class Proposal(models.Model):
    """A resident's idea. A draft until confirmed; then it has a 受付番号."""

    class Status(models.TextChoices):
        DRAFT = "draft", "確認前"
        SUBMITTED = "submitted", "受付済み"

    call = models.ForeignKey(Call, verbose_name="募集", on_delete=models.PROTECT, related_name="proposals")
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.DRAFT)
    receipt_number = models.CharField("受付番号", max_length=32, null=True, blank=True, unique=True)
    proposer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提案者", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="proposals")
    proposer_category = models.CharField("提案者の区分", max_length=12, choices=ProposerCategory.choices,
                                         default=ProposerCategory.INDIVIDUAL)
    proposer_label = models.CharField("団体名・事業者名", max_length=LABEL_MAX, blank=True)
    title = models.CharField("提案名", max_length=TITLE_MAX)
    problem = models.TextField("地域の課題")
    idea = models.TextField("解決のアイデア（デジタルの活用方法）")
    beneficiaries = models.TextField("誰のためになるか")
    source = models.CharField("受付経路", max_length=100, default="web")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="代理入力した職員", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    submitted_at = models.DateTimeField("受付日時", null=True, blank=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    hidden_at = models.DateTimeField("非公開にした日時", null=True, blank=True)
    hidden_reason = models.CharField("非公開の理由", max_length=REASON_MAX, blank=True)
    screening_decision = models.CharField("審査結果", max_length=16, choices=ScreeningDecision.choices,
                                          default=ScreeningDecision.PENDING, blank=True)
    screening_reason = models.CharField("審査結果の理由", max_length=REASON_MAX, blank=True)
    decided_at = models.DateTimeField("審査結果の決定日時", null=True, blank=True)
    adopted_at = models.DateTimeField("採用日時", null=True, blank=True)
    adoption_reason = models.CharField("採用の理由", max_length=REASON_MAX, blank=True)

    class Meta:
        verbose_name = "提案"
        verbose_name_plural = "提案"
        ordering = ["call", "receipt_number", "pk"]
        indexes = [models.Index(fields=["call", "status", "screening_decision"])]
        constraints = [
            models.CheckConstraint(condition=LessThanOrEqual(Length("title"), TITLE_MAX), name="proposals_title_len"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("problem"), PROBLEM_MAX),
                                   name="proposals_problem_len"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("idea"), IDEA_MAX), name="proposals_idea_len"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("beneficiaries"), BENEFICIARIES_MAX),
                                   name="proposals_beneficiaries_len"),
            # Groups and businesses say who they are (the vendor question: disclosed openly).
            models.CheckConstraint(condition=Q(proposer_category="individual") | ~Q(proposer_label=""),
                                   name="proposals_group_or_business_named"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(receipt_number__isnull=False, submitted_at__isnull=False),
                name="proposals_submitted_has_receipt",
            ),
            models.CheckConstraint(condition=Q(proposer__isnull=False) | Q(entered_by__isnull=False),
                                   name="proposals_has_author"),
            models.CheckConstraint(condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""),
                                   name="proposals_hidden_has_reason"),
            models.CheckConstraint(condition=Q(screening_decision="") | ~Q(screening_reason=""),
                                   name="proposals_decision_has_reason"),
            models.CheckConstraint(condition=Q(adopted_at__isnull=True) | Q(screening_decision="shortlisted"),
                                   name="proposals_adopted_was_shortlisted"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number or '（確認前）'} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("proposals:proposal", args=[self.call.slug, self.receipt_number])

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_shortlisted(self) -> bool:
        return self.screening_decision == ScreeningDecision.SHORTLISTED

    @property
    def public_proposer(self) -> str:
        """What the public sees: a group's or a business's name; never an individual's."""
        if self.proposer_category == ProposerCategory.INDIVIDUAL:
            return ProposerCategory.INDIVIDUAL.label
        return f"{self.proposer_label}（{self.get_proposer_category_display()}）"


class ProposalVersion(models.Model):
    """The text of a proposal as it stood at each save: originals are never overwritten."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版")
    title = models.CharField("提案名", max_length=TITLE_MAX)
    problem = models.TextField("地域の課題")
    idea = models.TextField("解決のアイデア")
    beneficiaries = models.TextField("誰のためになるか")
    saved_at = models.DateTimeField("保存日時", default=timezone.now)

    class Meta:
        verbose_name = "提案の版"
        verbose_name_plural = "提案の版"
        ordering = ["proposal", "number"]
        constraints = [models.UniqueConstraint(fields=["proposal", "number"], name="proposals_version_unique")]

    def __str__(self) -> str:
        return f"{self.proposal} 第{self.number}版"


def _attachment_path(instance: Attachment, filename: str) -> str:
    return f"proposals/{instance.proposal.call_id}/{uuid.uuid4().hex}.{filename.rsplit('.', 1)[-1]}"


class Attachment(models.Model):
    """A file attached to a proposal. Its type comes from its bytes, never from its name."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("ファイル", upload_to=_attachment_path)
    original_name = models.CharField("元のファイル名", max_length=200)
    content_type = models.CharField("種類", max_length=40)
    size = models.PositiveIntegerField("大きさ（バイト）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_at = models.DateTimeField("登録日時", auto_now_add=True)

    class Meta:
        verbose_name = "添付ファイル"
        verbose_name_plural = "添付ファイル"
        ordering = ["proposal", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["application/pdf", "image/png", "image/jpeg"]),
                name="proposals_attachment_type",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[self.content_type]


# --- Screening (審査) ---------------------------------------------------------------------------


class Reviewer(models.Model):
    """A member of a call's screening panel (審査員)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="審査員", on_delete=models.PROTECT,
                             related_name="proposal_reviews")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "審査員"
        verbose_name_plural = "審査員"
        ordering = ["call", "pk"]
        constraints = [models.UniqueConstraint(fields=["call", "user"], name="proposals_reviewer_once")]

    def __str__(self) -> str:
        return str(self.user)


class ReviewAssignment(models.Model):
    """One reviewer's review of one proposal: the scores, a comment, or a declared conflict."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "審査中"
        SUBMITTED = "submitted", "採点済み"
        CONFLICT = "conflict", "利害関係のため辞退"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(Reviewer, on_delete=models.PROTECT, related_name="assignments")
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.ASSIGNED)
    comment = models.TextField("講評", blank=True)
    conflict_reason = models.CharField("利害関係の内容", max_length=REASON_MAX, blank=True)
    assigned_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField("採点日時", null=True, blank=True)

    class Meta:
        verbose_name = "審査の割当て"
        verbose_name_plural = "審査の割当て"
        ordering = ["proposal__receipt_number", "reviewer_id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "reviewer"], name="proposals_assignment_once"),
            models.CheckConstraint(condition=~Q(status="conflict") | ~Q(conflict_reason=""),
                                   name="proposals_conflict_has_reason"),
            models.CheckConstraint(condition=~Q(status="submitted") | Q(submitted_at__isnull=False),
                                   name="proposals_submitted_review_dated"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal.receipt_number} / {self.reviewer}"


class Score(models.Model):
    assignment = models.ForeignKey(ReviewAssignment, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.PROTECT, related_name="scores")
    value = models.PositiveSmallIntegerField("点数")

    class Meta:
        verbose_name = "評点"
        verbose_name_plural = "評点"
        constraints = [
            models.UniqueConstraint(fields=["assignment", "criterion"], name="proposals_score_once"),
            models.CheckConstraint(condition=Q(value__gte=1), name="proposals_score_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion.name}: {self.value}"


# --- Voters and ballots --------------------------------------------------------------------------


#: The stored verification is hiroba.accounts' (one per resident, for every module); the
#: former name stays importable.
VoterVerification = ResidentVerification


class Participation(models.Model):
    """Who voted in a call (投票者), by which channel, and how many votes they hold — not for what.

    The row is locked (SELECT … FOR UPDATE) while a voter's ballots change, and `ballot_count` is
    raised only by a conditional UPDATE, so concurrent requests can never exceed the limit.
    """

    class Channel(models.TextChoices):
        ONLINE = "online", "オンライン"
        PAPER = "paper", "紙（窓口）"

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="participations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="proposal_participations")
    verification = models.ForeignKey(ResidentVerification, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="participations")
    channel = models.CharField("投票方法", max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    ballot_count = models.PositiveSmallIntegerField("票数", default=0)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="入力した職員", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "投票者"
        verbose_name_plural = "投票者"
        ordering = ["call", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["call", "user"], condition=Q(user__isnull=False),
                                    name="proposals_one_participation_per_user"),
            models.UniqueConstraint(fields=["call", "verification"], condition=Q(verification__isnull=False),
                                    name="proposals_one_participation_per_person"),
            models.CheckConstraint(condition=Q(user__isnull=False) | Q(verification__isnull=False),
                                   name="proposals_participation_has_voter"),
            models.CheckConstraint(
                condition=Q(channel="online") | Q(verification__isnull=False, entered_by__isnull=False),
                name="proposals_paper_is_verified_and_entered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call} / #{self.pk}"


class VoteRequest(models.Model):
    """An idempotency key already used by a voter: a replayed request changes nothing."""

    participation = models.ForeignKey(Participation, on_delete=models.CASCADE, related_name="requests")
    key = models.CharField(max_length=64)

    class Meta:
        verbose_name = "投票リクエスト"
        constraints = [models.UniqueConstraint(fields=["participation", "key"], name="proposals_request_once")]

    def __str__(self) -> str:
        return f"{self.participation_id}:{self.key}"


class Ballot(models.Model):
    """One vote for one proposal, under the voter's pseudonymous token. No voter, no time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="ballots")
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="ballots")
    token = models.CharField(max_length=64)

    class Meta:
        verbose_name = "票"
        verbose_name_plural = "票"
        indexes = [models.Index(fields=["call", "proposal"], name="proposals_ballot_tally")]
        constraints = [
            models.UniqueConstraint(fields=["call", "token", "proposal"], name="proposals_one_vote_per_proposal"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id}:{self.proposal_id}"


# --- Results and follow-up -----------------------------------------------------------------------


class CallResult(models.Model):
    """The published result of a call: the counts, the per-proposal tally and the ballot digest."""

    call = models.OneToOneField(Call, on_delete=models.PROTECT, related_name="result")
    published_at = models.DateTimeField("公表日時")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    applications = models.PositiveIntegerField("応募件数")
    voters = models.PositiveIntegerField("投票者数")
    votes = models.PositiveIntegerField("票数")
    online_voters = models.PositiveIntegerField("オンライン投票者数")
    paper_voters = models.PositiveIntegerField("紙の投票者数")
    tally = models.JSONField("提案別の票数", default=dict)
    digest = models.CharField("投票データのSHA-256", max_length=64)

    class Meta:
        verbose_name = "結果"
        verbose_name_plural = "結果"

    def __str__(self) -> str:
        return f"{self.call}: {self.applications}件 {self.voters}人・{self.votes}票"


class FollowUp(models.Model):
    """What became of an adopted proposal (事業化): the accountability record shown publicly."""

    class Status(models.TextChoices):
        CONSIDERING = "considering", "事業化を検討中"
        BUDGET_REQUEST = "budget_request", "予算要求中"
        BUDGETED = "budgeted", "予算化"
        IN_PROGRESS = "in_progress", "実施中"
        DONE = "done", "実施済み"
        DROPPED = "dropped", "見送り"

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="followup")
    department = models.ForeignKey("core.Department", verbose_name="担当所属", on_delete=models.PROTECT,
                                   related_name="+")
    status = models.CharField("状況", max_length=16, choices=Status.choices, default=Status.CONSIDERING)
    budget_step = models.CharField("予算の段階", max_length=200, blank=True)
    summary = models.TextField("取組みの内容", blank=True)
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    class Meta:
        verbose_name = "事業化の状況"
        verbose_name_plural = "事業化の状況"
        ordering = ["proposal__call", "proposal__receipt_number"]

    def __str__(self) -> str:
        return f"{self.proposal.title}: {self.get_status_display()}"


class Milestone(models.Model):
    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField("節目", max_length=200)
    due_on = models.DateField("予定日")
    done_on = models.DateField("完了日", null=True, blank=True)

    class Meta:
        verbose_name = "節目"
        verbose_name_plural = "節目"
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.title
