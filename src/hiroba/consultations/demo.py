"""Demo data: the seed consultation (千代田区DX戦略（素案）, shared/fixtures) as the paper reports it,
and an open consultation residents can try the web form on. Idempotent and deterministic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from django.utils import timezone

from hiroba.consultations import analysis, importer, services
from hiroba.consultations.models import Case, Channel, Mask
from hiroba.core.models import Department

SEED_SLUG = "chiyoda-dx-strategy-2025"
OPEN_SLUG = "demo-open-consultation"
KEEP_NOTE = "委員会資料（資料1-2）で公表済みの記載のため原文のとおり"


def fixture_path() -> Path:
    """The seed consultation shipped with hiroba (a copy of shared/fixtures, the committee
    paper's 資料1-2), so `hiroba demo` works from any directory."""
    return Path(__file__).resolve().parent / "fixtures" / SEED_SLUG / "consultation.json"


def load(say: Callable[[str], None]) -> None:
    if not Case.objects.filter(slug=SEED_SLUG).exists():
        department = Department.objects.filter(code="digital-seisaku").first()
        parsed = importer.parse(fixture_path())
        case = importer.import_parsed(parsed, slug=SEED_SLUG, actor="demo", receipt_code="DX", department=department)
        # The paper published these passages as they stand; record the review so exports keep them.
        for mask in Mask.objects.filter(item__case=case, decision=Mask.Decision.PENDING).select_related("item"):
            services.mask_decide(actor="demo", mask=mask, decision=Mask.Decision.KEEP, note=KEEP_NOTE)
        say(f"意見公募「{case.title}」: 意見 {case.items.count()} 件（{SEED_SLUG}）")
    seed = Case.objects.filter(slug=SEED_SLUG).first()
    if seed is not None and not seed.analysis_runs.exists():
        # Analysed here rather than by the worker, so the analysis screens have content at once.
        run = analysis.analysis_execute(analysis.analysis_request(actor="demo", case=seed))
        say(f"意見の分析（{SEED_SLUG}）: {run.get_state_display()}")
    if not Case.objects.filter(slug=OPEN_SLUG).exists():
        department = Department.objects.filter(code="digital-seisaku").first() or Department.objects.first()
        if department is None:
            return
        today = timezone.localdate()
        start = date(today.year, today.month, 1)
        case = services.case_create(
            actor="demo", slug=OPEN_SLUG, title="（デモ）区民参加型デジタルプロジェクト実施方針（案）",
            department=department, period_start=start, period_end=start + timedelta(days=59),
            channels=[Channel.HAND, Channel.POST, Channel.FAX, Channel.EMAIL, Channel.WEB],
            channel_names={Channel.WEB: "区HP送信フォーム"}, announced_in=["区ホームページ"],
            eligibility=["在住", "在勤", "在学", "事業者", "利害関係者"], legal_basis="千代田区パブリックコメント手続要綱",
            municipality="千代田区", receipt_code="DP",
        )
        for number, heading, body in [
            ("1", "基本的な考え方", "地域が主役となり、地域の課題をデジタルの活用で解決します。"),
            ("2", "実施方法", "区民等からアイデアを募集し、審査・区民投票を行います。"),
            ("3", "スケジュール", "募集、審査、区民投票、予算化の順に進めます。"),
        ]:
            services.section_add(actor="demo", case=case, number=number, heading=heading, body=body)
        services.case_transition(actor="demo", case=case, to=Case.State.OPEN)
        say(f"受付中のデモ案件（{OPEN_SLUG}）")
