"""Electronic-document management (電子文書管理).

- `Guideline`: the ward's electronic-document guideline as data, versioned; the published
  version is the one in force (its naming rules and folder zones are what the scanner checks).
- `Classification`: the file plan (大分類・中分類・小分類 per department) with the retention on
  the category, as in Alfresco Records Management and the national guideline's 保存期間表.
- `RecordFile`: one row of the 行政文書ファイル管理簿 (a folder of records) with 起算日 and
  保存期間満了日 computed, and its lifecycle state (現用 → 廃棄済 / 移管済).
- `LegalHold`: 訴訟・開示請求対応 — an active hold blocks disposal.
- `Disposition`: the decision at the end of the period (廃棄・移管・延長), asked for by the
  department and approved by the records manager; `DisposalRecord` keeps what was disposed of
  or transferred, when, who approved and under which rule — forever (it cannot be changed or
  deleted through the ORM).
- `TransferRequest` / `TransferFile` / `TransferRendering`: segment transfer (the files as received,
  their safe copies, and the PDF copy of an Office file).
- `Scan` / `InventoryFile` / `ScanFinding`: a share-folder scan, the inventory it keeps for the
  next (incremental) scan, and what it found.

Every record that belongs to a department carries `department_id`, so access is decided as in
the security register (`hiroba.records.access`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core.states import StateMachine, Transition


class Retention(models.IntegerChoices):
    """保存期間 in years (the national guideline's 保存期間表). 常用 has no end; 1年未満 only for
    the cases the guideline allows (`ShortReason`)."""

    PERMANENT_USE = -1, "常用"
    UNDER_ONE_YEAR = 0, "1年未満"
    ONE = 1, "1年"
    THREE = 3, "3年"
    FIVE = 5, "5年"
    TEN = 10, "10年"
    THIRTY = 30, "30年"


class ShortReason(models.TextChoices):
    """The cases for which the national guideline allows a retention of less than a year."""

    NONE = "", "—"
    COPY = "copy", "別途、正本・原本が管理されている行政文書の写し"
    ROUTINE = "routine", "定型的・日常的な業務連絡、日程表等"
    PUBLISHED = "published", "出版物や公表物を編集した文書"
    EASILY_OBTAINED = "obtained", "所掌事務に関する事実関係の問合せへの応答"
    DRAFT = "draft", "明白な誤り等の客観的な正確性の観点から利用に適さなくなった文書"
    INTERIM = "interim", "意思決定の途中段階で作成したもので、当該意思決定に与える影響がないもの"


class Action(models.TextChoices):
    """保存期間満了時の措置."""

    DISPOSE = "dispose", "廃棄"
    TRANSFER = "transfer", "移管"


class Medium(models.TextChoices):
    ELECTRONIC = "electronic", "電子"
    PAPER = "paper", "紙"
    BOTH = "both", "電子・紙"


def start_of_period(fiscal_year: int) -> date:
    """起算日: the 1st of April after the fiscal year of creation (作成・取得年度の翌年度の4月1日)."""
    return date(fiscal_year + 1, 4, 1)


def end_of_period(fiscal_year: int, retention: int) -> date | None:
    """保存期間満了日: the day before the 起算日's anniversary after `retention` years (a 31 March).
    1年未満 ends with the fiscal year of creation (31 March after it); 常用 never ends."""
    if retention < 0:
        return None
    if retention == 0:
        return date(fiscal_year + 1, 3, 31)
    return date(fiscal_year + 1 + retention, 3, 31)


# --- the guideline ------------------------------------------------------------------------

class Guideline(models.Model):
    """One version of the electronic-document guideline. Only one is published at a time; a
    published version is never edited (a change is a new version)."""

    class State(models.TextChoices):
        DRAFT = "draft", "案"
        PUBLISHED = "published", "施行中"
        SUPERSEDED = "superseded", "旧版"

    version = models.PositiveIntegerField("版", unique=True)
    title = models.CharField("名称", max_length=200, default="電子文書管理ガイドライン")
    effective_on = models.DateField("施行日")
    state = models.CharField("状態", max_length=12, choices=State.choices, default=State.DRAFT)
    sections = models.JSONField("本文", default=list, help_text="[{heading, body}]: 位置付け、適用範囲、管理体制 …")
    naming_rules = models.JSONField("命名ルール", default=list)
    zones = models.JSONField("フォルダ区分", default=list)
    stale_days = models.PositiveIntegerField("作業用ファイルの放置日数", default=180)
    change_note = models.TextField("改定の概要", blank=True)
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    published_at = models.DateTimeField("施行手続日時", null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="施行手続者", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    workflow = StateMachine("state", [
        Transition("publish", source=[State.DRAFT], target=State.PUBLISHED, label=_("この版を施行する"),
                   permission="records.manage_guideline",
                   confirm=_("施行すると、現在の版は旧版になり、この版の命名ルールとフォルダ区分で点検します。")),
        Transition("supersede", source=[State.PUBLISHED], target=State.SUPERSEDED, label=_("旧版にする"),
                   permission="records.manage_guideline"),
    ])

    class Meta:
        verbose_name = "電子文書管理ガイドライン"
        verbose_name_plural = "電子文書管理ガイドライン"
        ordering = ["-version"]
        permissions = []
        constraints = [
            models.UniqueConstraint(fields=["state"], condition=Q(state="published"), name="one_published_guideline"),
        ]

    def __str__(self) -> str:
        return f"{self.title}（第{self.version}版）"


class Classification(models.Model):
    """A category of the file plan: 大分類 / 中分類 / 小分類 of one department, with its
    retention and the action at its end (settled early, as the national guideline asks)."""

    department = models.ForeignKey("core.Department", verbose_name="所属", on_delete=models.PROTECT,
                                   related_name="record_classifications")
    large = models.CharField("大分類", max_length=100)
    medium = models.CharField("中分類", max_length=100)
    small = models.CharField("小分類", max_length=100)
    retention = models.SmallIntegerField("保存期間", choices=Retention.choices)
    short_reason = models.CharField("1年未満とする理由", max_length=12, choices=ShortReason.choices, blank=True)
    action = models.CharField("満了時の措置", max_length=10, choices=Action.choices, default=Action.DISPOSE)
    note = models.CharField("備考", max_length=300, blank=True)

    class Meta:
        verbose_name = "文書分類"
        verbose_name_plural = "文書分類"
        ordering = ["department__sort_order", "large", "medium", "small"]
        constraints = [
            models.UniqueConstraint(fields=["department", "large", "medium", "small"], name="classification_unique"),
            models.CheckConstraint(condition=~Q(retention=0) | ~Q(short_reason=""), name="classification_short_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.large} / {self.medium} / {self.small}"


# --- the register (行政文書ファイル管理簿) ---------------------------------------------------

class RecordFile(models.Model):
    """A 行政文書ファイル: one row of the register."""

    class State(models.TextChoices):
        ACTIVE = "active", "保存中"
        DISPOSED = "disposed", "廃棄済"
        TRANSFERRED = "transferred", "移管済"

    department = models.ForeignKey("core.Department", verbose_name="所属", on_delete=models.PROTECT,
                                   related_name="record_files")
    classification = models.ForeignKey(Classification, verbose_name="文書分類", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="files")
    fiscal_year = models.PositiveSmallIntegerField("作成・取得年度（西暦）")
    large = models.CharField("大分類", max_length=100)
    medium = models.CharField("中分類", max_length=100)
    small = models.CharField("小分類", max_length=100, blank=True)
    name = models.CharField("名称", max_length=300)
    author = models.CharField("作成・取得者", max_length=100)
    start_date = models.DateField("起算日")
    retention = models.SmallIntegerField("保存期間", choices=Retention.choices)
    short_reason = models.CharField("1年未満とする理由", max_length=12, choices=ShortReason.choices, blank=True)
    expiry_date = models.DateField("保存期間満了日", null=True, blank=True)
    medium_type = models.CharField("媒体", max_length=12, choices=Medium.choices, default=Medium.ELECTRONIC)
    location = models.CharField("保存場所", max_length=300)
    share_path = models.CharField("共有フォルダ上の場所", max_length=500, blank=True,
                                  help_text="所属の共有フォルダからの相対パス（例: 30_保存用/R01_文書管理）")
    manager = models.CharField("管理者", max_length=100)
    action = models.CharField("保存期間満了時の措置", max_length=10, choices=Action.choices)
    note = models.CharField("備考", max_length=500, blank=True)
    is_public = models.BooleanField("公開する", default=True)
    extended_times = models.PositiveSmallIntegerField("延長回数", default=0)
    state = models.CharField("状態", max_length=12, choices=State.choices, default=State.ACTIVE)
    source_type = models.CharField("hiroba の記録の種類", max_length=60, blank=True)
    source_id = models.CharField("hiroba の記録のID", max_length=40, blank=True)
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    workflow = StateMachine("state", [
        Transition("dispose", source=[State.ACTIVE], target=State.DISPOSED, label=_("廃棄する"),
                   permission="records.approve_disposition"),
        Transition("transfer", source=[State.ACTIVE], target=State.TRANSFERRED, label=_("移管する"),
                   permission="records.approve_disposition"),
    ])

    class Meta:
        verbose_name = "行政文書ファイル"
        verbose_name_plural = "行政文書ファイル管理簿"
        ordering = ["department__sort_order", "-fiscal_year", "large", "medium", "small", "name"]
        indexes = [
            models.Index(fields=["department", "expiry_date"], name="recordfile_dept_expiry"),
            models.Index(fields=["state", "expiry_date"], name="recordfile_state_expiry"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["department", "fiscal_year", "name"], name="recordfile_unique"),
            models.UniqueConstraint(fields=["source_type", "source_id"], condition=~Q(source_type=""),
                                    name="recordfile_source_unique"),
            models.CheckConstraint(condition=~Q(retention=0) | ~Q(short_reason=""), name="recordfile_short_reason"),
            models.CheckConstraint(condition=Q(state__in=["active", "disposed", "transferred"]),
                                   name="recordfile_state_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def fiscal_year_display(self) -> str:
        from hiroba.records.queries import fiscal_label

        return fiscal_label(self.fiscal_year)

    def is_expired(self, today: date | None = None) -> bool:
        return self.expiry_date is not None and self.expiry_date < (today or timezone.localdate())

    def active_hold(self) -> LegalHold | None:
        return self.holds.filter(released_at__isnull=True).first()


class LegalHold(models.Model):
    """訴訟・開示請求対応: while a hold is active the file cannot be disposed of or transferred."""

    class Kind(models.TextChoices):
        LITIGATION = "litigation", "訴訟"
        DISCLOSURE = "disclosure", "開示請求"
        AUDIT = "audit", "監査・調査"

    file = models.ForeignKey(RecordFile, verbose_name="行政文書ファイル", on_delete=models.PROTECT, related_name="holds")
    kind = models.CharField("種別", max_length=12, choices=Kind.choices)
    reason = models.CharField("理由", max_length=500)
    placed_at = models.DateTimeField("設定日時", default=timezone.now)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="設定者", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    released_at = models.DateTimeField("解除日時", null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="解除者", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "保存の継続（訴訟・開示請求対応）"
        verbose_name_plural = "保存の継続（訴訟・開示請求対応）"
        ordering = ["-placed_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reason}"

    @property
    def department_id(self) -> int:
        return self.file.department_id


class Decided(models.Model):
    """Who asked and when, who decided, when and why: a request someone other than the
    requester approves (a disposition, a segment transfer)."""

    requested_at = models.DateTimeField("申請日時", default=timezone.now)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申請者", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("決定日時", null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="決定者", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decision_note = models.CharField("決定の理由", max_length=500, blank=True)

    class Meta:
        abstract = True


class Disposition(Decided):
    """The decision for a file at the end of its period: 廃棄, 移管 or 延長 (with a reason and
    the new period), asked for by the department and approved by the records manager."""

    class Kind(models.TextChoices):
        DISPOSE = "dispose", "廃棄"
        TRANSFER = "transfer", "移管"
        EXTEND = "extend", "延長"

    class State(models.TextChoices):
        REQUESTED = "requested", "承認待ち"
        APPROVED = "approved", "承認済"
        REJECTED = "rejected", "差戻し"

    file = models.ForeignKey(RecordFile, verbose_name="行政文書ファイル", on_delete=models.PROTECT,
                             related_name="dispositions")
    kind = models.CharField("措置", max_length=10, choices=Kind.choices)
    reason = models.CharField("理由", max_length=500, blank=True)
    extend_years = models.PositiveSmallIntegerField("延長する年数", null=True, blank=True)
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.REQUESTED)

    workflow = StateMachine("state", [
        Transition("approve", source=[State.REQUESTED], target=State.APPROVED, label=_("承認する"),
                   permission="records.approve_disposition",
                   confirm=_("承認すると、廃棄・移管はその場で記録され、取り消せません。")),
        Transition("reject", source=[State.REQUESTED], target=State.REJECTED, label=_("差し戻す"),
                   permission="records.approve_disposition", reason="always", style="secondary"),
    ])

    class Meta:
        verbose_name = "満了時の措置"
        verbose_name_plural = "満了時の措置"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["file"], condition=Q(state="requested"), name="one_open_disposition"),
            models.CheckConstraint(condition=~Q(kind="extend") | Q(extend_years__gte=1), name="extend_has_years"),
        ]

    def __str__(self) -> str:
        return f"{self.file} {self.get_kind_display()}（{self.get_state_display()}）"

    @property
    def department_id(self) -> int:
        return self.file.department_id


class DisposalRecordQuerySet(models.QuerySet["DisposalRecord"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("disposal records are kept as written")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("disposal records are kept forever")


class DisposalRecord(models.Model):
    """廃棄・移管の記録, kept forever: what (the register row as it was), when, who approved it,
    and under which rule (classification and retention)."""

    file = models.ForeignKey(RecordFile, verbose_name="行政文書ファイル", on_delete=models.PROTECT,
                             related_name="disposal_records")
    disposition = models.OneToOneField(Disposition, verbose_name="措置の決定", on_delete=models.PROTECT,
                                       related_name="record")
    kind = models.CharField("措置", max_length=10, choices=Action.choices)
    executed_at = models.DateTimeField("実施日時", default=timezone.now)
    approved_by_name = models.CharField("承認者", max_length=200)
    requested_by_name = models.CharField("申請者", max_length=200)
    rule = models.CharField("根拠（分類・保存期間）", max_length=400)
    snapshot = models.JSONField("管理簿の記載（実施時点）")

    objects = DisposalRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "廃棄・移管の記録"
        verbose_name_plural = "廃棄・移管の記録"
        ordering = ["-executed_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.snapshot.get('name', '')}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("disposal records are kept as written")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("disposal records are kept forever")

    @property
    def department_id(self) -> int:
        return self.file.department_id


# --- share scans --------------------------------------------------------------------------

class Scan(models.Model):
    """One scan of a shared folder (`hiroba records scan`)."""

    root = models.CharField("対象フォルダ", max_length=500)
    department = models.ForeignKey("core.Department", verbose_name="所属", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="record_scans")
    guideline = models.ForeignKey(Guideline, verbose_name="ガイドライン", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="scans")
    started_at = models.DateTimeField("開始日時", default=timezone.now)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    seconds = models.FloatField("所要時間（秒）", default=0)
    files = models.PositiveBigIntegerField("ファイル数", default=0)
    folders = models.PositiveBigIntegerField("フォルダ数", default=0)
    bytes = models.PositiveBigIntegerField("容量（バイト）", default=0)
    hashed = models.PositiveBigIntegerField("読み込んだファイル数", default=0)
    duplicate_sets = models.PositiveIntegerField("重複の組", default=0)
    duplicate_bytes = models.PositiveBigIntegerField("重複による容量", default=0)
    violation_count = models.PositiveIntegerField("ルール違反", default=0)
    stale_count = models.PositiveIntegerField("放置された作業ファイル", default=0)
    error_count = models.PositiveIntegerField("読めなかったもの", default=0)
    capacity = models.JSONField("容量の内訳", default=dict)
    duplicates = models.JSONField("重複", default=list)
    errors = models.JSONField("エラー", default=list)
    # naming.Rules.digest of the rules this scan checked names with: the next scan with the same
    # digest reuses the naming results of files it already knows ("" before it was recorded)
    rules_digest = models.CharField("命名ルールの指紋", max_length=64, blank=True, default="")
    # how many paths the change journal named when the scan looked only at those (ShareWatch);
    # None when it walked every file
    journal_paths = models.PositiveIntegerField("変更ログから点検したパス", null=True, blank=True)

    class Meta:
        verbose_name = "共有フォルダの点検"
        verbose_name_plural = "共有フォルダの点検"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.root} {self.started_at:%Y-%m-%d %H:%M}"


class InventoryFile(models.Model):
    """The inventory of a root as of its latest scan: size, mtime and hashes, so that a re-scan
    hashes only files whose size or modification time changed."""

    root = models.CharField("対象フォルダ", max_length=500)
    path = models.CharField("パス", max_length=1000)
    size = models.BigIntegerField("大きさ")
    mtime_ns = models.BigIntegerField("更新日時（ns）")
    partial_hash = models.CharField("先頭64KBのハッシュ", max_length=40, blank=True)
    full_hash = models.CharField("ハッシュ", max_length=40, blank=True)

    class Meta:
        verbose_name = "共有フォルダのファイル"
        verbose_name_plural = "共有フォルダのファイル"
        constraints = [models.UniqueConstraint(fields=["root", "path"], name="inventory_unique")]
        # a re-scan from the journal finds a changed file's possible duplicates by size and partial hash
        # and the files that aged past a limit (stale, the capacity by age) by their mtime
        indexes = [models.Index(fields=["root", "size", "partial_hash"], name="inventory_size_partial"),
                   models.Index(fields=["root", "mtime_ns"], name="inventory_mtime")]

    def __str__(self) -> str:
        return self.path


class ShareWatch(models.Model):
    """A running `hiroba records watch PATH`: the change journal of one root (inotify on the host
    that holds the files). A re-scan reads the paths it journaled instead of walking every file,
    while the watcher has run without a gap since the previous scan began (see scans.delta_plan).

    `drained_at`: the watcher had read every change the kernel queued before this time, and
    written them (in the transaction that set it). `overflowed_at`: the kernel dropped events
    (its queue was full), so the journal has a gap from then on. `epoch` names one run of the
    watcher: a restart is a new epoch, and changes made while none ran are not in any."""

    root = models.CharField("対象フォルダ", max_length=500, unique=True)
    epoch = models.CharField("監視の回", max_length=32)
    host = models.CharField("ホスト", max_length=255, blank=True)
    pid = models.PositiveIntegerField("プロセス番号", default=0)
    started_at = models.DateTimeField("開始")
    ready_at = models.DateTimeField("監視の準備ができた時刻", null=True, blank=True)
    drained_at = models.DateTimeField("変更を書き終えた時刻", null=True, blank=True)
    overflowed_at = models.DateTimeField("取りこぼしが起きた時刻", null=True, blank=True)
    stopped_at = models.DateTimeField("停止", null=True, blank=True)
    folders = models.PositiveIntegerField("監視しているフォルダ", default=0)
    # folders it could not watch (unreadable): a re-scan from the journal walks them every time
    blind = models.JSONField("監視できないフォルダ", default=list, blank=True)

    class Meta:
        verbose_name = "共有フォルダの変更監視"
        verbose_name_plural = "共有フォルダの変更監視"

    def __str__(self) -> str:
        return f"{self.root} ({self.epoch})"


class ShareChange(models.Model):
    """One path the watcher saw change (created, written, attributes, removed, moved) under a
    root: relative, `/`-separated, as the scanner shows it. A re-scan looks at each again."""

    id = models.BigAutoField(primary_key=True)
    root = models.CharField("対象フォルダ", max_length=500)
    epoch = models.CharField("監視の回", max_length=32)
    path = models.CharField("パス", max_length=1000)

    class Meta:
        verbose_name = "共有フォルダの変更"
        verbose_name_plural = "共有フォルダの変更"
        indexes = [models.Index(fields=["root", "id"], name="sharechange_root_id")]

    def __str__(self) -> str:
        return self.path


class ScanState(models.Model):
    """What a root's latest scan leaves for a re-scan from the journal (scans.py): the report's
    figures in full (capacity by folder, type, zone and department; the folders; the duplicate
    groups; the errors) and the conditions they hold under (rules, zones, retention, the journal
    position). One row per root, replaced by every scan."""

    root = models.CharField("対象フォルダ", max_length=500, unique=True)
    scan = models.ForeignKey(Scan, verbose_name="点検", on_delete=models.CASCADE, related_name="+")
    data = models.JSONField("状態", default=dict)
    # the large part (the folders, the duplicate groups, the errors, the figures): JSON, zlib-compressed
    # (a million-file share's groups are 8 MB of JSON, written by every scan)
    bulk = models.BinaryField("状態（大きい部分）", default=b"")

    class Meta:
        verbose_name = "共有フォルダの点検の状態"
        verbose_name_plural = "共有フォルダの点検の状態"

    def __str__(self) -> str:
        return self.root


class ScanFinding(models.Model):
    """A rule break or a stale work file found under a root: a proposal, never an action. The
    rows are the root's current findings: a re-scan adds the new ones (`scan` is the scan that
    first found it) and removes those no longer there, so it writes only what changed."""

    class Kind(models.TextChoices):
        NAMING = "naming", "命名ルール"
        DEPTH = "depth", "階層"
        ZONE = "zone", "フォルダ区分"
        RETENTION = "retention", "保存期間満了"
        ENCODING = "encoding", "文字コード"
        STALE = "stale", "放置された作業ファイル"

    scan = models.ForeignKey(Scan, verbose_name="最初に見つけた点検", on_delete=models.CASCADE, related_name="findings")
    root = models.CharField("対象フォルダ", max_length=500, default="")
    kind = models.CharField("種別", max_length=12, choices=Kind.choices)
    path = models.CharField("パス", max_length=1000)
    rule = models.CharField("ルール", max_length=40)
    message = models.CharField("内容", max_length=500)
    suggestion = models.CharField("提案する名前", max_length=1000, blank=True)

    class Meta:
        verbose_name = "点検結果"
        verbose_name_plural = "点検結果"
        ordering = ["kind", "path"]
        indexes = [models.Index(fields=["root", "kind"], name="scanfinding_root_kind"),
                   # a re-scan from the journal reads and replaces the findings of the paths it looked at
                   models.Index(fields=["root", "path"], name="scanfinding_root_path")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.path}"


class ExpiryNotice(models.Model):
    """The April notice of one department's expiry list for one fiscal year (sent once)."""

    department = models.ForeignKey("core.Department", verbose_name="所属", on_delete=models.PROTECT,
                                   related_name="record_expiry_notices")
    fiscal_year = models.PositiveSmallIntegerField("年度（西暦）")
    file_count = models.PositiveIntegerField("満了したファイル数")
    sent_at = models.DateTimeField("送信日時", default=timezone.now)
    recipients = models.PositiveIntegerField("送信先の数", default=0)

    class Meta:
        verbose_name = "保存期間満了の通知"
        verbose_name_plural = "保存期間満了の通知"
        constraints = [models.UniqueConstraint(fields=["department", "fiscal_year"], name="expiry_notice_once")]

    def __str__(self) -> str:
        return f"{self.department} {self.fiscal_year}"



class DocumentText(models.Model):
    """The text of one document on a scanned share (PDF, Word, Excel, text), for the records search
    (`hiroba records index`). Rows follow the root's inventory: a file whose size and mtime are
    unchanged is not read again. On SQLite an FTS5 table with the trigram tokenizer indexes `name`
    and `text` (kept in step by triggers); on PostgreSQL pg_trgm GIN indexes (migration 0002)."""

    root = models.CharField("対象フォルダ", max_length=500)
    path = models.CharField("パス", max_length=1000)
    name = models.CharField("名称", max_length=1300, help_text="ファイル名と、管理簿のファイルの名称")
    kind = models.CharField("種類", max_length=8)
    department = models.ForeignKey("core.Department", verbose_name="所属", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="record_documents")
    record_file = models.ForeignKey(RecordFile, verbose_name="行政文書ファイル", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="documents")
    fiscal_year = models.PositiveSmallIntegerField("年度（西暦）", null=True, blank=True)
    large = models.CharField("大分類", max_length=100, blank=True)
    size = models.BigIntegerField("大きさ")
    mtime_ns = models.BigIntegerField("更新日時（ns）")
    text = models.TextField("本文", blank=True)
    error = models.CharField("読めなかった理由", max_length=40, blank=True)
    indexed_at = models.DateTimeField("索引日時", default=timezone.now)

    class Meta:
        verbose_name = "文書の本文"
        verbose_name_plural = "文書の本文"
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["root", "path"], name="documenttext_unique")]
        indexes = [models.Index(fields=["department", "fiscal_year"], name="documenttext_dept_year")]

    def __str__(self) -> str:
        return self.path


class TransferRequest(Decided):
    """A request to carry files between the internet segment and LGWAN (インターネット系 ↔ LGWAN系),
    approved by the requester's supervisor (承認 on the department); only the safe copies of the
    files that passed the content check are handed over, and only after approval."""

    class Direction(models.TextChoices):
        TO_LGWAN = "to_lgwan", "インターネット系 → LGWAN系"
        TO_INTERNET = "to_internet", "LGWAN系 → インターネット系"

    class State(models.TextChoices):
        REQUESTED = "requested", "申請中"
        APPROVED = "approved", "承認"
        REJECTED = "rejected", "却下"
        WITHDRAWN = "withdrawn", "取下げ"
        DELIVERED = "delivered", "受け渡し済み"

    direction = models.CharField("方向", max_length=12, choices=Direction.choices)
    department = models.ForeignKey("core.Department", verbose_name="所属", on_delete=models.PROTECT,
                                   related_name="+")
    reason = models.CharField("理由", max_length=500)
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.REQUESTED)
    delivered_at = models.DateTimeField("受け渡し日時", null=True, blank=True)

    workflow = StateMachine("state", [
        Transition("approve", source=[State.REQUESTED], target=State.APPROVED, label=_("承認する"),
                   permission="records.approve_transfer",
                   confirm=_("承認すると、安全な写しを相手のセグメントへ受け渡せるようになります。")),
        Transition("reject", source=[State.REQUESTED], target=State.REJECTED, label=_("却下する"),
                   permission="records.approve_transfer", reason="always", style="danger"),
        Transition("withdraw", source=[State.REQUESTED], target=State.WITHDRAWN, label=_("取り下げる"),
                   permission="records.request_transfer", style="secondary"),
        Transition("deliver", source=[State.APPROVED], target=State.DELIVERED, label=_("受け渡す"),
                   permission="records.request_transfer"),
    ])

    class Meta:
        verbose_name = "セグメント間転送"
        verbose_name_plural = "セグメント間転送"
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} #{self.pk}（{self.get_state_display()}）"


class KeptQuerySet(models.QuerySet[Any]):
    """Rows written once (transfer files and their PDF copies): a bulk update is refused too."""

    def update(self, **kwargs: object) -> int:
        raise TypeError("transfer files are kept as received")


class TransferFile(models.Model):
    """One file of a transfer: the original as received (never handed over, never changed) with
    its SHA-256, the type its content shows, the verdict, and the safe copy with its SHA-256."""

    class Verdict(models.TextChoices):
        PASSED = "passed", "通過"
        STRIPPED = "stripped", "マクロを除去して通過"
        RENDERED = "rendered", "画像化したPDFで通過"
        REFUSED = "refused", "拒否"

    request = models.ForeignKey(TransferRequest, verbose_name="申請", on_delete=models.PROTECT, related_name="files")
    name = models.CharField("ファイル名", max_length=255)
    size = models.PositiveBigIntegerField("大きさ（バイト）")
    original = models.BinaryField("原本", editable=False)
    sha256_before = models.CharField("原本のSHA-256", max_length=64)
    detected_type = models.CharField("内容から判定した種類", max_length=10)
    verdict = models.CharField("判定", max_length=10, choices=Verdict.choices)
    verdict_reason = models.CharField("判定の理由", max_length=500)
    safe = models.BinaryField("安全な写し", null=True, editable=False)
    safe_name = models.CharField("写しのファイル名", max_length=255, blank=True)
    sha256_after = models.CharField("写しのSHA-256", max_length=64, blank=True)

    objects = KeptQuerySet.as_manager()

    class Meta:
        verbose_name = "転送ファイル"
        verbose_name_plural = "転送ファイル"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(verdict="refused") | ~Q(sha256_after=""), name="transfer_safe_hashed"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise TypeError("transfer files are kept as received")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def crosses(self) -> bool:
        return self.verdict != self.Verdict.REFUSED

    @property
    def rendering_or_none(self) -> TransferRendering | None:
        """The PDF copy, once the worker has made it (or failed to)."""
        try:
            return self.rendering
        except TransferRendering.DoesNotExist:
            return None


class TransferRendering(models.Model):
    """The PDF copy of an Office file that crosses, drawn by LibreOffice in the background worker
    from the macro-free copy: made once, never changed (a failure is kept with its reason)."""

    file = models.OneToOneField(TransferFile, verbose_name="転送ファイル", on_delete=models.PROTECT,
                                related_name="rendering")
    pdf = models.BinaryField("PDF版", null=True, editable=False)
    sha256 = models.CharField("PDF版のSHA-256", max_length=64, blank=True)
    error = models.CharField("作成できなかった理由", max_length=500, blank=True)
    made_at = models.DateTimeField("作成日時", auto_now_add=True)

    objects = KeptQuerySet.as_manager()

    class Meta:
        verbose_name = "転送ファイルのPDF版"
        verbose_name_plural = "転送ファイルのPDF版"
        constraints = [
            models.CheckConstraint(condition=~Q(sha256="") | ~Q(error=""), name="transfer_rendering_made_or_failed"),
        ]

    def __str__(self) -> str:
        return f"{self.file} (PDF)"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise TypeError("a PDF copy is made once")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
