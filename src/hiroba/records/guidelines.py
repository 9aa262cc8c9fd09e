"""The guideline as data: drafting a version, publishing it (the previous one becomes 旧版),
and the rules in force for the scanner."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.core.errors import ServiceError
from hiroba.records import audit_actions as actions
from hiroba.records import naming
from hiroba.records.models import Guideline
from hiroba.records.services import require, user_of, who

DEFAULT_SECTIONS = [
    {"heading": "ガイドラインの位置付け",
     "body": "行政文書の管理に関する規程に基づき、電子文書と共有フォルダの管理について全庁共通のルールを定める。"},
    {"heading": "適用範囲", "body": "区の職員が職務上作成し、又は取得した電子文書（共有フォルダ、文書管理システム、"
                                   "クラウドサービス上のものを含む）に適用する。"},
    {"heading": "電子文書の管理体制", "body": "文書主管課が全庁の管理を統括し、各所属の文書管理者（課長）が所属の"
                                        "行政文書ファイル管理簿と共有フォルダを管理する。"},
    {"heading": "電子文書のライフサイクル", "body": "作成・取得 → 整理（行政文書ファイルにまとめ、管理簿に登録）→ 保存"
                                          "（作成・取得年度の翌年度4月1日から保存期間を起算）→ 保存期間満了時の措置"
                                          "（廃棄・移管・延長。文書主管課の承認を経る）。訴訟・開示請求に係る文書は"
                                          "保存を継続し、廃棄しない。"},
    {"heading": "フォルダ体系", "body": "共有フォルダの最上位は「全庁共有」「所属共有」「作業用」「保存用」の4区分と"
                                   "し、区分ごとの階層の上限を守る。作業用の文書は完成後に保存用へ移す。"},
    {"heading": "フォルダと電子文書の命名ルール", "body": "下の命名ルールのとおり。年度と内容を表す語で始め、"
                                              "「最新」「コピー」などの語や個人名を使わない。"},
    {"heading": "電子文書管理の維持定着", "body": "毎年4月に保存期間満了の一覧を各所属に通知し、共有フォルダの点検"
                                          "結果を所属ごとに示す。ガイドラインは点検の結果を踏まえて改定する。"},
]


def validate(rules: Any, zones: Any) -> None:
    """Refuse rules or zones the scanner could not use (before anything is written)."""
    if not isinstance(rules, list) or not isinstance(zones, list):
        raise ServiceError(_("命名ルールとフォルダ区分は一覧で指定してください。"), code="guideline_shape")
    try:
        naming.Rules(rules)
        naming.zones_of(zones)
    except (KeyError, TypeError, ValueError) as exc:
        raise ServiceError(_("命名ルールまたはフォルダ区分の形式が正しくありません。"), code="guideline_rules",
                           field="naming_rules") from exc


@transaction.atomic
def guideline_create(*, actor: ActorLike, effective_on: date, sections: list[dict[str, str]] | None = None,
                     naming_rules: list[dict[str, Any]] | None = None, zones: list[dict[str, Any]] | None = None,
                     stale_days: int = 180, change_note: str = "") -> Guideline:
    """A new draft version (the next number), by default a copy of the version in force."""
    require(actor, "records.manage_guideline", None, _("ガイドラインを編集する権限がありません。"))
    base = current()
    rules = naming_rules if naming_rules is not None else (base.naming_rules if base else naming.DEFAULT_RULES)
    zone_data = zones if zones is not None else (base.zones if base else naming.DEFAULT_ZONES)
    validate(rules, zone_data)
    last = Guideline.objects.select_for_update().order_by("-version").first()
    guideline = Guideline.objects.create(
        version=(last.version + 1) if last else 1, effective_on=effective_on,
        sections=sections if sections is not None else (base.sections if base else DEFAULT_SECTIONS),
        naming_rules=rules, zones=zone_data, stale_days=stale_days, change_note=change_note)
    audit.record(actor=who(actor), action=actions.GUIDELINE_CREATE, obj=guideline,
                 changes={"version": guideline.version, "rules": len(rules), "zones": len(zone_data)})
    return guideline


@transaction.atomic
def guideline_publish(*, actor: ActorLike, guideline: Guideline) -> Guideline:
    """Publish a draft: the version in force becomes 旧版, in the same transaction."""
    guideline = Guideline.objects.select_for_update().get(pk=guideline.pk)
    Guideline.workflow.check(guideline, "publish", actor=actor)
    for old in Guideline.objects.select_for_update().filter(state=Guideline.State.PUBLISHED):
        Guideline.workflow.apply(old, "supersede", actor=actor)
        old.save(update_fields=["state"])
    before, after = Guideline.workflow.apply(guideline, "publish", actor=actor)
    guideline.published_at = timezone.now()
    guideline.published_by = user_of(actor)
    guideline.save(update_fields=["state", "published_at", "published_by"])
    audit.record(actor=who(actor), action=actions.GUIDELINE_PUBLISH, obj=guideline,
                 changes={"state": [before, after], "version": guideline.version})
    return guideline


def current() -> Guideline | None:
    return Guideline.objects.filter(state=Guideline.State.PUBLISHED).first()


def rules_in_force() -> tuple[naming.Rules, dict[str, naming.Zone], int, Guideline | None]:
    """The compiled naming rules, the zones and the stale-days of the version in force (the
    default guideline when none is published yet)."""
    g = current()
    if g is None:
        return naming.Rules(naming.DEFAULT_RULES), naming.zones_of(naming.DEFAULT_ZONES), 180, None
    return naming.Rules(g.naming_rules), naming.zones_of(g.zones), g.stale_days, g
