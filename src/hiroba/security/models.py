"""The information-security register (情報セキュリティの取組み).

Systems and their web diagnoses (診断) with findings (検出事項) and risk acceptances; audits
(監査) with their evaluations and corrective actions; incidents and drills (インシデント・訓練)
with an append-only timeline, checklists from playbooks and improvement actions; training
courses (研修) and attendance; policy documents (情報セキュリティポリシー) and staff
acknowledgements (誓約); the CISO office's own posture checks.

Every record that belongs to a department carries `department_id` (directly or as a property),
so `hiroba.accounts.rules.role_on_department` decides who may act on it.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core.states import StateMachine, Transition


class Severity(models.IntegerChoices):
    """The ward's four grades of a finding (IPA's Japanese grading), plus 情報 (no fix ordered)."""

    INFO = 0, _("情報")
    LOW = 1, _("注意")
    MEDIUM = 2, _("警告")
    HIGH = 3, _("重要")
    CRITICAL = 4, _("緊急")


class Contractor(models.Model):
    """A 委託先: the vendor who runs or diagnoses a system, or an outsourced operator audited."""

    name = models.CharField("事業者名", max_length=200, unique=True)
    service = models.CharField("委託業務", max_length=200, blank=True)
    contact_email = models.EmailField("連絡先", blank=True)
    is_active = models.BooleanField("有効", default=True)

    class Meta:
        verbose_name = "委託先"
        verbose_name_plural = "委託先"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class System(models.Model):
    """A web site or web application the ward (or its contractor) runs: the unit of diagnosis."""

    class Hosting(models.TextChoices):
        ONPREM = "onprem", _("庁内")
        DATACENTER = "datacenter", _("データセンター")
        CLOUD = "cloud", _("クラウド")
        VENDOR = "vendor", _("委託先の環境")

    name = models.CharField("システム名", max_length=200)
    url = models.URLField("URL", max_length=500, unique=True)
    department = models.ForeignKey("core.Department", verbose_name="所管所属", on_delete=models.PROTECT,
                                   related_name="security_systems")
    contractor = models.ForeignKey(Contractor, verbose_name="委託先", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="systems")
    hosting = models.CharField("設置場所", max_length=12, choices=Hosting.choices, default=Hosting.DATACENTER)
    holds_personal_data = models.BooleanField("個人情報の有無", default=False)
    personal_data_note = models.CharField("保有する個人情報", max_length=300, blank=True)
    description = models.TextField("概要", blank=True)
    is_active = models.BooleanField("稼働中", default=True)
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = "システム"
        verbose_name_plural = "システム"
        ordering = ["department__sort_order", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(hosting__in=["onprem", "datacenter", "cloud", "vendor"]),
                                   name="system_hosting_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class DiagnosisRound(models.Model):
    """One diagnosis of one system (a ZAP / wapiti scan or a vendor's report), imported once."""

    class Tool(models.TextChoices):
        ZAP = "zap", _("OWASP ZAP")
        WAPITI = "wapiti", _("Wapiti")
        VENDOR = "vendor", _("委託事業者の報告書")

    system = models.ForeignKey(System, verbose_name="システム", on_delete=models.PROTECT, related_name="rounds")
    fiscal_year = models.PositiveSmallIntegerField("年度（西暦）")
    performed_on = models.DateField("診断日")
    tool = models.CharField("診断ツール", max_length=8, choices=Tool.choices)
    file_format = models.CharField("ファイル形式", max_length=12)
    scanner_version = models.CharField("ツールのバージョン", max_length=40, blank=True)
    vendor = models.ForeignKey(Contractor, verbose_name="診断事業者", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="diagnoses")
    source_name = models.CharField("ファイル名", max_length=255, blank=True)
    source_sha256 = models.CharField("ファイルのSHA-256", max_length=64, blank=True)
    source_bytes = models.BigIntegerField("ファイルの大きさ", default=0)
    report_file = models.FileField("報告書ファイル", upload_to="security/reports/%Y/", blank=True)
    imported_at = models.DateTimeField("取込日時", default=timezone.now)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="取込者", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    instance_count = models.PositiveIntegerField("検出箇所数", default=0)
    finding_count = models.PositiveIntegerField("検出事項数", default=0)
    new_count = models.PositiveIntegerField("新規", default=0)
    unchanged_count = models.PositiveIntegerField("継続", default=0)
    closed_count = models.PositiveIntegerField("解消", default=0)
    reopened_count = models.PositiveIntegerField("再発", default=0)

    class Meta:
        verbose_name = "診断"
        verbose_name_plural = "診断"
        ordering = ["-performed_on", "-id"]
        indexes = [models.Index(fields=["fiscal_year", "system"], name="round_year_system")]

    def __str__(self) -> str:
        return f"{self.system} {self.performed_on:%Y-%m-%d}"

    @property
    def department_id(self) -> int:
        return self.system.department_id

    def summary(self) -> str:
        return (f"new {self.new_count}, unchanged {self.unchanged_count}, "
                f"closed {self.closed_count}, reopened {self.reopened_count}")


class Rule(models.Model):
    """What a scanner checks (a ZAP plugin, a wapiti category, a vendor's item), with its text."""

    source = models.CharField("出典", max_length=8)
    rule_id = models.CharField("ルールID", max_length=120)
    name = models.CharField("名称", max_length=300)
    cweid = models.IntegerField("CWE", null=True, blank=True)
    wascid = models.IntegerField("WASC", null=True, blank=True)
    description = models.TextField("説明", blank=True)
    solution = models.TextField("対策", blank=True)
    reference = models.TextField("参考情報", blank=True)
    otherinfo = models.TextField("その他の情報", blank=True)
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    class Meta:
        verbose_name = "検出ルール"
        verbose_name_plural = "検出ルール"
        constraints = [models.UniqueConstraint(fields=["source", "rule_id"], name="rule_unique")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.name}"


class FindingStatus(models.TextChoices):
    OPEN = "open", _("未対応")
    IN_PROGRESS = "in_progress", _("対応中")
    FIXED = "fixed", _("対応済（確認待ち）")
    RESOLVED = "resolved", _("解消")
    FALSE_POSITIVE = "false_positive", _("誤検知")
    RISK_ACCEPTED = "risk_accepted", _("リスク受容")


#: Statuses a re-import may close (the department is still working on them) …
ACTIVE_STATUSES = (FindingStatus.OPEN, FindingStatus.IN_PROGRESS, FindingStatus.FIXED)
#: … and the decisions it never touches.
DECIDED_STATUSES = (FindingStatus.FALSE_POSITIVE, FindingStatus.RISK_ACCEPTED)


class FindingQuerySet(models.QuerySet["Finding"]):
    def active(self) -> FindingQuerySet:
        """Still to be fixed: 注意 and above, not yet resolved or decided."""
        return self.filter(status__in=ACTIVE_STATUSES, severity__gte=Severity.LOW)

    def overdue(self, today: date | None = None) -> FindingQuerySet:
        return self.active().filter(due_on__lt=today or timezone.localdate())


class Finding(models.Model):
    """One alert (rule) at one endpoint (method, URI without its query string, parameter) of one
    system. Its `key` is a SHA-256 of exactly those parts; (system, key) is unique, so the same
    finding seen again in a later diagnosis is the same row."""

    system = models.ForeignKey(System, verbose_name="システム", on_delete=models.PROTECT, related_name="findings")
    key = models.CharField("識別キー", max_length=64)
    rule = models.ForeignKey(Rule, verbose_name="検出ルール", on_delete=models.PROTECT, related_name="findings")
    title = models.CharField("名称", max_length=300)
    severity = models.PositiveSmallIntegerField("危険度", choices=Severity.choices)
    riskcode = models.SmallIntegerField("ZAPのリスク", null=True, blank=True)
    confidence = models.SmallIntegerField("ZAPの信頼度", null=True, blank=True)
    cvss = models.DecimalField("CVSS基本値", max_digits=3, decimal_places=1, null=True, blank=True)
    alert_ref = models.CharField("alertRef", max_length=40, blank=True)
    method = models.CharField("メソッド", max_length=16, blank=True)
    path = models.TextField("URI（クエリ文字列を除く）")
    param = models.CharField("パラメータ", max_length=500, blank=True)
    uri = models.TextField("URI")
    attack = models.TextField("攻撃文字列", blank=True)
    evidence = models.TextField("証跡", blank=True)
    otherinfo = models.TextField("その他の情報", blank=True)
    #: Every instance of the latest diagnosis at this endpoint beyond the first (other query
    #: strings, other alertRefs): [{"uri", "method", "param", "attack", "evidence", "otherinfo", …}].
    more_instances = models.JSONField("他の検出箇所", default=list, blank=True)
    instance_count = models.PositiveIntegerField("検出箇所数", default=1)
    #: A digest of what the last diagnosis said about the finding (the fields above): a re-import
    #: rewrites only the rows whose digest changed, and just marks the others as seen again.
    content_hash = models.CharField("内容のハッシュ", max_length=32, blank=True)
    status = models.CharField("対応状況", max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    due_on = models.DateField("対応期限", null=True, blank=True)
    first_round = models.ForeignKey(DiagnosisRound, verbose_name="初回検出の診断", on_delete=models.PROTECT,
                                    related_name="+")
    last_round = models.ForeignKey(DiagnosisRound, verbose_name="最後に検出された診断", on_delete=models.PROTECT,
                                   related_name="+")
    first_seen_on = models.DateField("初回検出日")
    last_seen_on = models.DateField("最終検出日")
    closed_round = models.ForeignKey(DiagnosisRound, verbose_name="解消を確認した診断", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    resolved_on = models.DateField("解消日", null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField("再発回数", default=0)
    decision_reason = models.TextField("判断の理由", blank=True)
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    objects = FindingQuerySet.as_manager()

    workflow = StateMachine("status", [
        Transition("start", source=[FindingStatus.OPEN], target=FindingStatus.IN_PROGRESS,
                   label=_("対応を始める"), permission="security.change_finding"),
        Transition("mark_fixed", source=[FindingStatus.OPEN, FindingStatus.IN_PROGRESS], target=FindingStatus.FIXED,
                   label=_("対応済みにする（確認を依頼）"), permission="security.change_finding", reason="always"),
        Transition("confirm", source=[FindingStatus.FIXED], target=FindingStatus.RESOLVED,
                   label=_("解消を確認する"), permission="security.verify_finding"),
        Transition("send_back", source=[FindingStatus.FIXED], target=FindingStatus.IN_PROGRESS,
                   label=_("差し戻す"), permission="security.verify_finding", reason="always", style="secondary"),
        Transition("false_positive", source=list(ACTIVE_STATUSES), target=FindingStatus.FALSE_POSITIVE,
                   label=_("誤検知とする"), permission="security.decide_finding", reason="always", style="secondary",
                   confirm=_("誤検知とした検出事項は、再診断で再び検出されても状態が変わりません。")),
        Transition("accept_risk", source=list(ACTIVE_STATUSES), target=FindingStatus.RISK_ACCEPTED,
                   label=_("リスク受容を承認する"), permission="security.approve_risk"),
        Transition("reopen", source=[FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE,
                                     FindingStatus.RISK_ACCEPTED],
                   target=FindingStatus.OPEN, label=_("未対応に戻す"), permission="security.decide_finding",
                   reason="always", style="danger"),
    ])

    class Meta:
        verbose_name = "検出事項"
        verbose_name_plural = "検出事項"
        ordering = ["-severity", "due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "key"], name="finding_unique_per_system"),
            models.CheckConstraint(condition=Q(severity__gte=0, severity__lte=4), name="finding_severity_valid"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in FindingStatus]),
                                   name="finding_status_valid"),
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="finding_status_due"),
            models.Index(fields=["system", "status"], name="finding_system_status"),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.method} {self.path}{' [' + self.param + ']' if self.param else ''}"

    @property
    def department_id(self) -> int:
        return self.system.department_id

    @property
    def is_overdue(self) -> bool:
        return (self.status in ACTIVE_STATUSES and self.due_on is not None
                and self.due_on < timezone.localdate())


class RiskAcceptance(models.Model):
    """リスク受容: a department asks to live with a finding for a while, and a different person
    holding 承認 on the department approves it; when it expires the finding opens again."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("承認待ち")
        APPROVED = "approved", _("承認済")
        REJECTED = "rejected", _("却下")
        EXPIRED = "expired", _("期限切れ")
        WITHDRAWN = "withdrawn", _("取消")

    finding = models.ForeignKey(Finding, verbose_name="検出事項", on_delete=models.CASCADE,
                                related_name="acceptances")
    reason = models.TextField("受容の理由（代替策を含む）")
    expires_on = models.DateField("受容の期限")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申請者", on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField("申請日時", default=timezone.now)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="承認者", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("承認・却下の日時", null=True, blank=True)
    decision_note = models.TextField("承認者のコメント", blank=True)
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.REQUESTED)

    class Meta:
        verbose_name = "リスク受容"
        verbose_name_plural = "リスク受容"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["finding"], condition=Q(state__in=["requested", "approved"]),
                                    name="one_live_acceptance_per_finding"),
            models.CheckConstraint(condition=Q(approver__isnull=True) | ~Q(approver=models.F("requested_by")),
                                   name="acceptance_approver_is_another_person"),
        ]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.get_state_display()} 〜{self.expires_on}"

    @property
    def department_id(self) -> int:
        return self.finding.system.department_id


# --- Audits ---------------------------------------------------------------------------------

class Audit(models.Model):
    """情報セキュリティ監査: internal peer audit, external advisory audit or an audit of contractors."""

    class Kind(models.TextChoices):
        INTERNAL = "internal", _("内部監査（職員による相互監査）")
        EXTERNAL = "external", _("外部監査（専門家による助言型）")
        VENDOR = "vendor", _("業務委託先監査")

    fiscal_year = models.PositiveSmallIntegerField("年度（西暦）")
    kind = models.CharField("監査の種類", max_length=10, choices=Kind.choices)
    theme = models.CharField("監査テーマ", max_length=300)
    method = models.CharField("監査方式", max_length=200)
    starts_on = models.DateField("実施開始日")
    ends_on = models.DateField("実施終了日")
    auditor = models.CharField("監査人", max_length=200, blank=True)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="監査責任者（是正の確認者）", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    scope_note = models.CharField("監査対象", max_length=300, blank=True)
    departments = models.ManyToManyField("core.Department", verbose_name="対象所属", blank=True, related_name="+")
    systems = models.ManyToManyField(System, verbose_name="対象システム", blank=True, related_name="audits")
    contractors = models.ManyToManyField(Contractor, verbose_name="対象委託先", blank=True, related_name="audits")
    department = models.ForeignKey("core.Department", verbose_name="実施所属", on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = "監査"
        verbose_name_plural = "監査"
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="audit_period_order"),
            models.CheckConstraint(condition=Q(kind__in=["internal", "external", "vendor"]), name="audit_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.theme}"


class AuditEvaluation(models.Model):
    """評価: a good point (良い点) or an issue (課題・指摘事項), as the audit report words it."""

    class Kind(models.TextChoices):
        GOOD = "good", _("良い点")
        ISSUE = "issue", _("課題")

    audit = models.ForeignKey(Audit, verbose_name="監査", on_delete=models.CASCADE, related_name="evaluations")
    kind = models.CharField("区分", max_length=5, choices=Kind.choices)
    text = models.TextField("内容")
    number = models.PositiveSmallIntegerField("番号")

    class Meta:
        verbose_name = "監査の評価"
        verbose_name_plural = "監査の評価"
        ordering = ["audit", "kind", "number"]
        constraints = [models.UniqueConstraint(fields=["audit", "kind", "number"], name="evaluation_number_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:40]}"


class CorrectiveAction(models.Model):
    """是正措置 for an issue: owner department, due date, evidence, closed by the audit's lead."""

    class State(models.TextChoices):
        OPEN = "open", _("未完了")
        SUBMITTED = "submitted", _("完了報告済（確認待ち）")
        CLOSED = "closed", _("完了確認済")

    evaluation = models.ForeignKey(AuditEvaluation, verbose_name="課題", on_delete=models.PROTECT,
                                   related_name="actions")
    description = models.TextField("是正措置")
    department = models.ForeignKey("core.Department", verbose_name="担当所属", on_delete=models.PROTECT,
                                   related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="担当者", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    due_on = models.DateField("期限")
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.OPEN)
    evidence = models.FileField("証跡ファイル", upload_to="security/evidence/%Y/", blank=True)
    evidence_note = models.TextField("完了報告", blank=True)
    submitted_at = models.DateTimeField("完了報告日時", null=True, blank=True)
    closed_at = models.DateTimeField("完了確認日時", null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="完了確認者", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")

    workflow = StateMachine("state", [
        Transition("submit", source=[State.OPEN], target=State.SUBMITTED, label=_("完了を報告する"),
                   permission="security.change_action"),
        Transition("close", source=[State.SUBMITTED], target=State.CLOSED, label=_("完了を確認する"),
                   permission="security.close_action"),
        Transition("send_back", source=[State.SUBMITTED], target=State.OPEN, label=_("差し戻す"),
                   permission="security.close_action", reason="always", style="secondary"),
    ])

    class Meta:
        verbose_name = "是正措置"
        verbose_name_plural = "是正措置"
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.description[:60]


# --- Incidents and drills -------------------------------------------------------------------

class Incident(models.Model):
    """An information-security incident, a public report of one, or a drill (訓練) that uses
    the same record with a scenario."""

    class Channel(models.TextChoices):
        PUBLIC_FORM = "public_form", _("「セキュリティに関するご連絡」フォーム")
        INQUIRY_FORM = "inquiry_form", _("ホームページの問い合わせフォーム")
        STAFF = "staff", _("職員からの報告")
        CONTRACTOR = "contractor", _("委託先からの報告")
        MONITORING = "monitoring", _("監視・検知")
        EXTERNAL = "external", _("外部機関からの通報")

    class Level(models.TextChoices):
        UNKNOWN = "unknown", _("未判定")
        LOW = "low", _("軽微")
        MEDIUM = "medium", _("中程度")
        HIGH = "high", _("重大")

    class State(models.TextChoices):
        RECEIVED = "received", _("受付")
        INVESTIGATING = "investigating", _("調査中")
        CONTAINED = "contained", _("封じ込め済")
        RECOVERED = "recovered", _("復旧済")
        CLOSED = "closed", _("終結")

    receipt_number = models.CharField("受付番号", max_length=24, unique=True)
    title = models.CharField("件名", max_length=300)
    description = models.TextField("内容")
    related_url = models.URLField("関係するURL", max_length=1000, blank=True)
    channel = models.CharField("検知経路", max_length=14, choices=Channel.choices)
    detected_at = models.DateTimeField("検知日時", default=timezone.now)
    level = models.CharField("重大度", max_length=8, choices=Level.choices, default=Level.UNKNOWN)
    state = models.CharField("状況", max_length=14, choices=State.choices, default=State.RECEIVED)
    department = models.ForeignKey("core.Department", verbose_name="所管所属", on_delete=models.PROTECT,
                                   related_name="+")
    system = models.ForeignKey(System, verbose_name="関係するシステム", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="incidents")
    # Personal information (個人情報の保護に関する法律 第68条 の報告の要否を判断する材料)
    personal_data = models.BooleanField("個人情報の漏えい等のおそれ", default=False)
    persons_affected = models.PositiveIntegerField("本人の数（見込み）", null=True, blank=True)
    sensitive_data = models.BooleanField("要配慮個人情報を含む", default=False)
    property_damage_risk = models.BooleanField("不正利用による財産的被害のおそれ", default=False)
    wrongful_purpose = models.BooleanField("不正の目的によるおそれ（不正アクセス等）", default=False)
    ppc_quick_reported_on = models.DateField("個人情報保護委員会への速報日", null=True, blank=True)
    ppc_final_reported_on = models.DateField("個人情報保護委員会への確報日", null=True, blank=True)
    persons_notified_on = models.DateField("本人への通知日", null=True, blank=True)
    containment = models.TextField("封じ込め・復旧の措置", blank=True)
    cause = models.TextField("原因", blank=True)
    lessons = models.TextField("教訓・再発防止策", blank=True)
    closed_at = models.DateTimeField("終結日時", null=True, blank=True)
    # The person who reported it through the public form (kept only on this record).
    reporter_name = models.CharField("通報者の氏名", max_length=100, blank=True)
    reporter_email = models.EmailField("通報者の連絡先", blank=True)
    # Drills (訓練)
    is_drill = models.BooleanField("訓練", default=False)
    scenario = models.TextField("訓練のシナリオ", blank=True)
    participants = models.CharField("参加者", max_length=300, blank=True)
    participant_count = models.PositiveIntegerField("参加者数", null=True, blank=True)
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    workflow = StateMachine("state", [
        Transition("investigate", source=[State.RECEIVED], target=State.INVESTIGATING, label=_("調査を始める"),
                   permission="security.change_incident"),
        Transition("contain", source=[State.RECEIVED, State.INVESTIGATING], target=State.CONTAINED,
                   label=_("封じ込め済みにする"), permission="security.change_incident"),
        Transition("recover", source=[State.CONTAINED], target=State.RECOVERED, label=_("復旧済みにする"),
                   permission="security.change_incident"),
        Transition("close", source=[State.RECEIVED, State.INVESTIGATING, State.CONTAINED, State.RECOVERED],
                   target=State.CLOSED, label=_("終結する"), permission="security.close_incident",
                   confirm=_("終結すると記録は変更できなくなります（経過の追記は続けられます）。")),
    ])

    class Meta:
        verbose_name = "インシデント"
        verbose_name_plural = "インシデント"
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["received", "investigating", "contained", "recovered",
                                                          "closed"]), name="incident_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.title}"

    # 個人情報の保護に関する法律施行規則 第43条（行政機関等の報告対象事態）: see docs/security.md.
    @property
    def ppc_report_required(self) -> bool:
        if not self.personal_data:
            return False
        return bool(self.sensitive_data or self.property_damage_risk or self.wrongful_purpose
                    or (self.persons_affected or 0) > 100)

    @property
    def ppc_quick_due_on(self) -> date | None:
        """速報: 「速やかに」— the commission's guidance reads this as about 3 to 5 days."""
        if not self.ppc_report_required:
            return None
        return timezone.localtime(self.detected_at).date() + timedelta(days=5)

    @property
    def ppc_final_due_on(self) -> date | None:
        """確報: within 30 days of learning of it, 60 days when it was done for a wrongful purpose."""
        if not self.ppc_report_required:
            return None
        days = 60 if self.wrongful_purpose else 30
        return timezone.localtime(self.detected_at).date() + timedelta(days=days)


class ReceiptCounter(models.Model):
    """The 受付番号 counter of incidents, one row per fiscal year."""

    fiscal_year = models.PositiveSmallIntegerField("年度（西暦）", primary_key=True)
    last_number = models.PositiveIntegerField("最後の番号", default=0)

    class Meta:
        verbose_name = "受付番号の採番"
        verbose_name_plural = "受付番号の採番"

    def __str__(self) -> str:
        return f"{self.fiscal_year}: {self.last_number}"


class TimelineEntry(models.Model):
    """One entry in an incident's timeline (経過). Append-only: never changed or removed."""

    class Kind(models.TextChoices):
        DETECTION = "detection", _("検知・受付")
        ANALYSIS = "analysis", _("調査・分析")
        CONTAINMENT = "containment", _("封じ込め")
        NOTIFICATION = "notification", _("報告・通知")
        RECOVERY = "recovery", _("復旧")
        DISCUSSION = "discussion", _("グループ討議")
        NOTE = "note", _("記録")

    incident = models.ForeignKey(Incident, verbose_name="インシデント", on_delete=models.PROTECT,
                                 related_name="timeline")
    occurred_at = models.DateTimeField("日時")
    kind = models.CharField("区分", max_length=14, choices=Kind.choices, default=Kind.NOTE)
    text = models.TextField("内容")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="記録者", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    recorded_label = models.CharField("記録者（表示）", max_length=254, blank=True)
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)

    class Meta:
        verbose_name = "経過"
        verbose_name_plural = "経過"
        ordering = ["incident", "occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.text[:40]}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise PermissionError("経過は追記のみです (timeline entries are append-only)")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("経過は削除できません (timeline entries are append-only)")


class Playbook(models.Model):
    """手順書: a response procedure as an ordered checklist."""

    title = models.CharField("手順書名", max_length=200, unique=True)
    description = models.TextField("概要", blank=True)
    steps = models.JSONField("手順", default=list)  # ["…", "…"]
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    class Meta:
        verbose_name = "手順書"
        verbose_name_plural = "手順書"
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ChecklistItem(models.Model):
    """A playbook's step attached to one incident, ticked off as it is done."""

    incident = models.ForeignKey(Incident, verbose_name="インシデント", on_delete=models.CASCADE,
                                 related_name="checklist")
    playbook = models.ForeignKey(Playbook, verbose_name="手順書", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField("番号")
    text = models.CharField("手順", max_length=500)
    done_at = models.DateTimeField("実施日時", null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="実施者", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "チェック項目"
        verbose_name_plural = "チェック項目"
        ordering = ["incident", "playbook", "number"]
        constraints = [models.UniqueConstraint(fields=["incident", "playbook", "number"],
                                               name="checklist_item_unique")]

    def __str__(self) -> str:
        return self.text


class ImprovementAction(models.Model):
    """改善事項 from an incident or a drill (participants' points), tracked to closure."""

    class State(models.TextChoices):
        OPEN = "open", _("検討中")
        DONE = "done", _("完了")

    incident = models.ForeignKey(Incident, verbose_name="インシデント・訓練", on_delete=models.CASCADE,
                                 related_name="improvements")
    opinion = models.TextField("意見・気づき")
    action = models.TextField("改善の内容", blank=True)
    department = models.ForeignKey("core.Department", verbose_name="担当所属", on_delete=models.PROTECT,
                                   related_name="+")
    due_on = models.DateField("期限", null=True, blank=True)
    state = models.CharField("状態", max_length=6, choices=State.choices, default=State.OPEN)
    closed_at = models.DateTimeField("完了日時", null=True, blank=True)
    closing_note = models.TextField("完了の内容", blank=True)

    class Meta:
        verbose_name = "改善事項"
        verbose_name_plural = "改善事項"
        ordering = ["incident", "id"]

    def __str__(self) -> str:
        return self.opinion[:60]


# --- Training -------------------------------------------------------------------------------

class Course(models.Model):
    """研修: a course for a fiscal year, with its sessions and (optionally) its questionnaire."""

    class Audience(models.TextChoices):
        ALL_STAFF = "all", _("全職員")
        VOLUNTEERS = "volunteers", _("受講を希望する職員")
        SYSTEM_STAFF = "system", _("各所属のシステム担当者")
        MANAGERS = "managers", _("管理職")

    fiscal_year = models.PositiveSmallIntegerField("年度（西暦）")
    title = models.CharField("研修名", max_length=200)
    description = models.TextField("内容", blank=True)
    audience = models.CharField("対象", max_length=12, choices=Audience.choices, default=Audience.ALL_STAFF)
    required = models.BooleanField("全職員の受講必須", default=False)
    department = models.ForeignKey("core.Department", verbose_name="実施所属", on_delete=models.PROTECT,
                                   related_name="+")
    survey = models.ForeignKey("surveys.Survey", verbose_name="アンケート", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    attendee_count = models.PositiveIntegerField("受講者数", default=0)

    class Meta:
        verbose_name = "研修"
        verbose_name_plural = "研修"
        ordering = ["-fiscal_year", "id"]
        constraints = [models.UniqueConstraint(fields=["fiscal_year", "title"], name="course_unique_per_year")]

    def __str__(self) -> str:
        return self.title


class Session(models.Model):
    class Kind(models.TextChoices):
        VIDEO = "video", _("動画")
        IN_PERSON = "in_person", _("対面")

    course = models.ForeignKey(Course, verbose_name="研修", on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField("回の名称", max_length=200)
    kind = models.CharField("方法", max_length=10, choices=Kind.choices)
    starts_on = models.DateField("開始日")
    ends_on = models.DateField("終了日")
    place = models.CharField("会場", max_length=200, blank=True)

    class Meta:
        verbose_name = "研修の回"
        verbose_name_plural = "研修の回"
        ordering = ["course", "starts_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                              name="session_period_order")]

    def __str__(self) -> str:
        return f"{self.course} {self.title}"


class Attendance(models.Model):
    """One person's completion of a course, imported from the video platform (職員番号, 受講日時)
    or recorded at an in-person session. Kept by staff number, linked to the account when one
    has that number (temporary staff without an account still count as attendees)."""

    course = models.ForeignKey(Course, verbose_name="研修", on_delete=models.CASCADE, related_name="attendances")
    session = models.ForeignKey(Session, verbose_name="回", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="attendances")
    staff_number = models.CharField("職員番号", max_length=20)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="職員", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    attended_at = models.DateTimeField("受講日時")

    class Meta:
        verbose_name = "受講記録"
        verbose_name_plural = "受講記録"
        ordering = ["course", "attended_at", "id"]
        constraints = [models.UniqueConstraint(fields=["course", "staff_number"], name="attendance_once_per_course")]

    def __str__(self) -> str:
        return f"{self.course} {self.staff_number}"


# --- Policy ---------------------------------------------------------------------------------

class PolicyDocument(models.Model):
    class Kind(models.TextChoices):
        POLICY = "policy", _("情報セキュリティポリシー")
        GUIDELINE = "guideline", _("ガイドライン")
        PROCEDURE = "procedure", _("実施手順")

    title = models.CharField("文書名", max_length=200, unique=True)
    kind = models.CharField("種類", max_length=10, choices=Kind.choices)
    requires_acknowledgement = models.BooleanField("職員の誓約が必要", default=True)

    class Meta:
        verbose_name = "ポリシー文書"
        verbose_name_plural = "ポリシー文書"
        ordering = ["kind", "title"]

    def __str__(self) -> str:
        return self.title


class PolicyVersion(models.Model):
    """One version of a document; the newest in effect is the current one. Immutable once stored."""

    document = models.ForeignKey(PolicyDocument, verbose_name="文書", on_delete=models.PROTECT,
                                 related_name="versions")
    version = models.CharField("版", max_length=40)
    effective_on = models.DateField("施行日")
    summary = models.TextField("改定の概要", blank=True)
    body = models.TextField("本文", blank=True)
    file = models.FileField("ファイル", upload_to="security/policy/", blank=True)
    published_at = models.DateTimeField("登録日時", default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登録者", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "ポリシーの版"
        verbose_name_plural = "ポリシーの版"
        ordering = ["document", "-effective_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["document", "version"], name="policy_version_unique")]

    def __str__(self) -> str:
        return f"{self.document} {self.version}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise PermissionError("登録した版は変更できません。新しい版を登録してください。")
        super().save(*args, **kwargs)


class Acknowledgement(models.Model):
    """誓約: a staff member has read and will follow one version."""

    version = models.ForeignKey(PolicyVersion, verbose_name="版", on_delete=models.PROTECT,
                                related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="職員", on_delete=models.CASCADE,
                             related_name="+")
    acknowledged_at = models.DateTimeField("誓約日時", default=timezone.now)

    class Meta:
        verbose_name = "誓約"
        verbose_name_plural = "誓約"
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="acknowledge_once")]

    def __str__(self) -> str:
        return f"{self.version} {self.user_id}"


# --- Reminders and posture ------------------------------------------------------------------

class ReminderLog(models.Model):
    """A reminder sent (kind, recipient, day): the daily job sends each at most once a day."""

    kind = models.CharField("種類", max_length=40)
    recipient = models.EmailField("宛先")
    sent_on = models.DateField("送信日")
    detail = models.CharField("内容", max_length=200, blank=True)

    class Meta:
        verbose_name = "督促の記録"
        verbose_name_plural = "督促の記録"
        constraints = [models.UniqueConstraint(fields=["kind", "recipient", "sent_on"], name="reminder_once_a_day")]

    def __str__(self) -> str:
        return f"{self.sent_on} {self.kind} {self.recipient}"


class PostureCheck(models.Model):
    """hiroba's own posture: the account review and the audit-chain verification, as checked."""

    checked_at = models.DateTimeField("点検日時", default=timezone.now)
    staff_total = models.PositiveIntegerField("職員アカウント数", default=0)
    account_findings = models.JSONField("アカウント点検の指摘（種類別件数）", default=dict)
    account_problems = models.PositiveIntegerField("重大・警告の指摘", default=0)
    chain_ok = models.BooleanField("監査ログのチェーン", default=True)
    chain_entries = models.PositiveIntegerField("監査ログの件数", default=0)
    chain_problem = models.CharField("チェーンの異常", max_length=300, blank=True)

    class Meta:
        verbose_name = "hirobaの点検"
        verbose_name_plural = "hirobaの点検"
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'OK' if self.chain_ok else 'NG'}"
