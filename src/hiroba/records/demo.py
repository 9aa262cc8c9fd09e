"""Demo data for 電子文書管理 (the committee paper's 取組み1: the electronic-document guideline),
deterministic and idempotent (each part is skipped when it is already there).

- the guideline's first version (構成案 of the paper: 位置付け, 適用範囲, 管理体制, ライフサイクル,
  フォルダ体系, 命名ルール, 維持定着), published;
- a file plan per department and a register of a few hundred files over 平成27年度–令和7年度, so
  that this April's expiry list has rows (one under a disclosure-request hold, one asked for and
  waiting, one disposed of with its record);
- hiroba's own records (public-comment cases, proposal calls, workshop programmes) in the register;
- a generated shared folder under HIROBA_DATA_DIR/records/share (departments, zones, fiscal
  years, good and bad names, duplicates, stale work files), scanned.

Names and counts are illustrative; the structure follows the national guideline.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from hiroba.accounts.models import User
from hiroba.core.actors import Actor
from hiroba.core.models import Department
from hiroba.records import guidelines, lifecycle, own_records, register, scans, sharegen
from hiroba.records.models import Action, Classification, LegalHold, RecordFile, Retention, Scan

ACTOR = Actor.system("demo")

#: (大分類, 中分類, 小分類, 保存期間, 措置) common to every department, and each one's own.
COMMON = [
    ("総務", "庶務", "文書の収受・発送", Retention.ONE, Action.DISPOSE),
    ("総務", "予算", "予算要求", Retention.FIVE, Action.DISPOSE),
    ("総務", "決算", "決算資料", Retention.FIVE, Action.DISPOSE),
    ("総務", "議会", "議会答弁", Retention.TEN, Action.TRANSFER),
    ("総務", "契約", "委託契約", Retention.FIVE, Action.DISPOSE),
    ("総務", "人事", "職員の研修", Retention.THREE, Action.DISPOSE),
]
OWN = {
    "joho-system": [("情報化", "情報セキュリティ", "情報セキュリティ監査", Retention.FIVE, Action.DISPOSE),
                    ("情報化", "システム", "システム調達", Retention.TEN, Action.DISPOSE),
                    ("情報化", "文書管理", "電子文書管理ガイドライン", Retention.THIRTY, Action.TRANSFER)],
    "digital-seisaku": [("企画", "DX推進", "DX戦略", Retention.THIRTY, Action.TRANSFER),
                        ("企画", "DX推進", "デジタル活用提案制度", Retention.FIVE, Action.DISPOSE)],
    "korei-kaigo": [("介護保険", "要介護認定", "認定調査", Retention.FIVE, Action.DISPOSE),
                    ("介護保険", "事業計画", "介護保険事業計画", Retention.TEN, Action.TRANSFER),
                    ("介護保険", "給付", "給付費の審査", Retention.FIVE, Action.DISPOSE)],
    "shido": [("教育", "学校指導", "指導計画", Retention.FIVE, Action.DISPOSE),
              ("教育", "学校指導", "学校行事", Retention.THREE, Action.DISPOSE)],
    "shoko-kanko": [("産業", "商工振興", "補助金交付", Retention.FIVE, Action.DISPOSE),
                    ("産業", "観光", "観光イベント", Retention.THREE, Action.DISPOSE)],
}
SUBJECTS = ["第1四半期", "第2四半期", "上半期", "下半期", "通年"]


def _user(email: str) -> User | None:
    return User.objects.filter(email=email).first()


def _guideline(say: Callable[[str], None]) -> None:
    if guidelines.current() is not None:
        return
    g = guidelines.guideline_create(actor=ACTOR, effective_on=timezone.localdate().replace(month=4, day=1),
                                    change_note="アンケート（全所属）とヒアリング（12所属）の結果を踏まえた初版")
    guidelines.guideline_publish(actor=ACTOR, guideline=g)
    say(f"{g} を施行")


def _plan_and_register(say: Callable[[str], None], depts: dict[str, Department]) -> None:
    if RecordFile.objects.filter(source_type="").exists():
        return
    rng = random.Random(17)
    made = 0
    this_year = timezone.localdate().year
    for code in OWN:
        department = depts.get(code)
        if department is None:
            continue
        for large, medium, small, retention, action in COMMON + OWN[code]:
            c, _ = Classification.objects.get_or_create(
                department=department, large=large, medium=medium, small=small,
                defaults={"retention": retention, "action": action,
                          "short_reason": "routine" if retention == Retention.UNDER_ONE_YEAR else ""})
            for fiscal_year in range(2015, min(2025, this_year) + 1):
                for subject in rng.sample(SUBJECTS, 1 if retention >= 10 else 2):
                    prefix = sharegen.fiscal_prefix(fiscal_year)
                    data = register.from_classification(
                        c, fiscal_year=fiscal_year, name=f"{prefix}{small}（{subject}）",
                        author=f"{department.name} {medium}係", location=f"{department.name} 共有フォルダ 30_保存用",
                        share_path=f"30_保存用/{prefix}{small}", manager=f"{department.name}長",
                        medium_type=rng.choice(["electronic", "electronic", "both"]))
                    register.file_create(actor=ACTOR, data=data)
                    made += 1
    say(f"行政文書ファイル管理簿 {made} 件")
    year = timezone.localdate().year if timezone.localdate().month >= 4 else timezone.localdate().year - 1
    expiring = list(lifecycle.expiring(year).filter(department__code="korei-kaigo", action=Action.DISPOSE)[:3])
    clerk, manager = _user("kaigo.clerk@hiroba.example"), _user("admin@hiroba.example")
    if len(expiring) == 3:
        lifecycle.hold_place(actor=ACTOR, file=expiring[0], kind=LegalHold.Kind.DISCLOSURE,
                             reason="開示請求（令和7年 第8号）に係る文書")
        lifecycle.disposition_request(actor=clerk or ACTOR, file=expiring[1], kind="dispose")
        done = lifecycle.disposition_request(actor=clerk or ACTOR, file=expiring[2], kind="dispose")
        lifecycle.disposition_approve(actor=manager or ACTOR, disposition=done, note="保存期間満了につき廃棄")
        say("保存の継続 1 件、承認待ち 1 件、廃棄 1 件")


def _share(say: Callable[[str], None]) -> None:
    if Scan.objects.exists():
        return
    root = Path(settings.DATA_DIR) / "records" / "share"
    if not root.exists():
        made = sharegen.generate(root, files=3000, seed=17)
        say(f"共有フォルダのデモ {root}: {made['files']} ファイル")
    scan, _result = scans.run_scan(actor=ACTOR, path=str(root))
    say(f"点検: 重複 {scan.duplicate_sets} 組、ルール違反 {scan.violation_count} 件、放置 {scan.stale_count} 件")


def load(say: Callable[[str], None]) -> None:
    depts = {d.code: d for d in Department.objects.all()}
    if "joho-system" not in depts:
        say("所属がありません（accounts のデモを先に読み込んでください）")
        return
    _guideline(say)
    _plan_and_register(say, depts)
    added = own_records.sync(actor=ACTOR)
    if added:
        say(f"hiroba の記録 {added} 件を管理簿に登録")
    _share(say)
