"""Demo data: the seed consultation (千代田区DX戦略（素案）, shared/fixtures) as the paper reports it,
corrected once (訂正) through a second approval round; a closed consultation awaiting its
results; and an open consultation residents can try the web form on. Idempotent and
deterministic (the seed's dates are the paper's; the others are set relative to today)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypedDict

from django.utils import timezone

from hiroba.consultations import analysis, importer, services
from hiroba.consultations.models import Case, Channel, ExcludeCategory, Mask
from hiroba.core.models import Department

SEED_SLUG = "chiyoda-dx-strategy-2025"
OPEN_SLUG = "demo-open-consultation"
CLOSED_SLUG = "demo-closed-consultation"
KEEP_NOTE = "委員会資料（資料1-2）で公表済みの記載のため原文のとおり"
# The 訂正 of the seed: the school a resident's child attends (No.10) was printed as written.
CORRECTION_DAY = date(2025, 3, 27)
CORRECTION_REASON = "公表後の点検で、No.10 に個人が特定されるおそれのある記載が見つかったため"
CORRECTION_NOTE = "No.10 のご意見のうち、ご家族が通う学校名を、個人が特定されるおそれがあるため非公開にしました。"


class _Contacts(TypedDict):
    submit_address: str
    hand_in_place: str
    hand_in_hours: str
    fax_number: str
    email_address: str


CONTACTS: _Contacts = {
    "submit_address": "〒102-8688 千代田区九段南1-2-1 千代田区役所 政策経営部 デジタル政策課",
    "hand_in_place": "千代田区役所4階 デジタル政策課窓口",
    "hand_in_hours": "平日 8時30分～17時15分（土曜・日曜・祝日を除く）",
    "fax_number": "03-0000-0000",
    "email_address": "dx-comment@hiroba.example",
}


def fixture_path() -> Path:
    """The seed consultation shipped with hiroba (a copy of shared/fixtures, the committee
    paper's 資料1-2), so `hiroba demo` works from any directory."""
    return Path(__file__).resolve().parent / "fixtures" / SEED_SLUG / "consultation.json"


def _staff(email: str, fallback: str) -> Any:
    from hiroba.accounts.models import User

    return User.objects.filter(email=email).first() or fallback


def _paper_review(case: Case) -> None:
    """The paper published these passages as they stand; record the review so the first
    published version reproduces the paper exactly."""
    for mask in Mask.objects.filter(item__case=case, decision=Mask.Decision.PENDING).select_related("item"):
        services.mask_decide(actor="demo", mask=mask, decision=Mask.Decision.KEEP, note=KEEP_NOTE)


def _correct_seed(case: Case, say: Callable[[str], None]) -> None:
    """訂正 through a second approval round: back to 回答作成中, the school name masked, the
    round requested by the clerk and approved, the second version published with its note."""
    clerk = _staff("dx.clerk@hiroba.example", "demo")
    approver = _staff("dx.approver@hiroba.example", "demo")
    services.approval_reopen(actor=clerk, case=case, reason=CORRECTION_REASON)
    school = Mask.objects.get(item__case=case, item__number=10, kind="school")
    services.mask_decide(actor=clerk, mask=school, decision=Mask.Decision.MASK, note="学校名は個人の特定につながるため")
    round_ = services.approval_request(actor=clerk, case=case, correction_note=CORRECTION_NOTE,
                                       comment="公表済みの結果の訂正（No.10 の学校名を非公開）")
    while round_.state == round_.State.PENDING:
        round_ = services.approval_decide(actor=approver, round_=round_, approve=True, comment="訂正を承認します。")
    services.case_publish(actor=clerk, case=case, reported_on=CORRECTION_DAY)
    say(f"意見公募「{case.title}」: 訂正を公表（第2版、{CORRECTION_DAY.isoformat()}）")


def _closed_case(department: Department, say: Callable[[str], None]) -> None:
    """A call that closed on schedule and awaits its results: letters and faxes taken during the
    period, cut into items, answers being written; a three-step route (係長 → 課長 → 部長)."""
    today = timezone.localdate()
    start, end = today - timedelta(days=45), today - timedelta(days=15)
    case = services.case_create(
        actor="demo", slug=CLOSED_SLUG, title="（デモ）区立図書館のデジタルサービス拡充方針（案）",
        department=department, period_start=start, period_end=end,
        channels=[Channel.HAND, Channel.POST, Channel.FAX, Channel.EMAIL, Channel.WEB],
        channel_names={Channel.WEB: "区HP送信フォーム"}, announced_in=["広報千代田", "区ホームページ"],
        eligibility=["resident", "worker", "student"], legal_basis="千代田区パブリックコメント手続要綱",
        municipality="千代田区", receipt_code="DL", results_due_on=end + timedelta(days=60), **CONTACTS,
    )
    sections = [services.section_add(actor="demo", case=case, number=n, heading=h, body=b) for n, h, b in [
        ("1", "電子書籍の貸出", "区立図書館の電子書籍サービスを拡充します。"),
        ("2", "開館時間の延長", "予約本の受取ロッカーを設置し、実質的な受取時間を延長します。"),
    ]]
    case = services.case_transition(actor="demo", case=case, to=Case.State.OPEN)
    letters = [
        (Channel.POST, "電子書籍の冊数を増やしてください。子ども向けの本も充実させてほしいです。", 0),
        (Channel.FAX, "受取ロッカーは駅の近くにも設置してほしい。", 1),
        (Channel.HAND, "図書館の駐輪場が狭いので広げてほしい。", None),
    ]
    for n, (channel, text, section) in enumerate(letters, start=1):
        received = timezone.make_aware(datetime.combine(start + timedelta(days=3 * n), time(10, 0)))
        submission, _ = services.submission_receive(
            actor="demo", case=case, idempotency_key=f"demo-closed-{n}", channel=channel, text=text,
            received_at=received, postmark_date=received.date() if channel == Channel.POST else None,
        )
        item = services.item_create(actor="demo", submission=submission, span=(0, len(text)),
                                    sections=[sections[section]] if section is not None else [])
        if section is None:
            services.item_exclude(actor="demo", item=item, reason="案の内容と関係がないため（所管課に伝達）",
                                  category=ExcludeCategory.UNRELATED)
    services.case_transition(actor="demo", case=case, to=Case.State.TALLYING)
    services.case_transition(actor="demo", case=case, to=Case.State.ANSWERING)
    parent = department.parent or department
    services.approval_route_set(actor="demo", case=case, steps=[
        services.RouteStep(label="係長", department=department),
        services.RouteStep(label="課長", department=department),
        services.RouteStep(label="部長", department=parent),
    ])
    say(f"受付を終了したデモ案件（{CLOSED_SLUG}）: 結果の公表待ち")


def load(say: Callable[[str], None]) -> None:
    if not Case.objects.filter(slug=SEED_SLUG).exists():
        department = Department.objects.filter(code="digital-seisaku").first()
        parsed = importer.parse(fixture_path())
        case = importer.import_parsed(parsed, slug=SEED_SLUG, actor="demo", receipt_code="DX", department=department,
                                      before_publish=_paper_review)
        say(f"意見公募「{case.title}」: 意見 {case.items.count()} 件（{SEED_SLUG}）")
    seed = Case.objects.filter(slug=SEED_SLUG).first()
    if seed is not None and not seed.analysis_runs.exists():
        # Analysed here rather than by the worker, so the analysis screens have content at once.
        run = analysis.analysis_execute(analysis.analysis_request(actor="demo", case=seed))
        say(f"意見の分析（{SEED_SLUG}）: {run.get_state_display()}")
    if seed is not None and seed.published_results.count() == 1 and seed.state == Case.State.PUBLISHED:
        _correct_seed(seed, say)
    department = Department.objects.filter(code="digital-seisaku").first() or Department.objects.first()
    if department is None:
        return
    if not Case.objects.filter(slug=OPEN_SLUG).exists():
        today = timezone.localdate()
        start = date(today.year, today.month, 1)
        case = services.case_create(
            actor="demo", slug=OPEN_SLUG, title="（デモ）区民参加型デジタルプロジェクト実施方針（案）",
            department=department, period_start=start, period_end=start + timedelta(days=59),
            channels=[Channel.HAND, Channel.POST, Channel.FAX, Channel.EMAIL, Channel.WEB],
            channel_names={Channel.WEB: "区HP送信フォーム"}, announced_in=["区ホームページ"],
            eligibility=["resident", "worker", "student", "business", "stakeholder"], legal_basis="千代田区パブリックコメント手続要綱",
            municipality="千代田区", receipt_code="DP", **CONTACTS,
        )
        for number, heading, body in [
            ("1", "基本的な考え方", "地域が主役となり、地域の課題をデジタルの活用で解決します。"),
            ("2", "実施方法", "区民等からアイデアを募集し、審査・区民投票を行います。"),
            ("3", "スケジュール", "募集、審査、区民投票、予算化の順に進めます。"),
        ]:
            services.section_add(actor="demo", case=case, number=number, heading=heading, body=body)
        services.case_transition(actor="demo", case=case, to=Case.State.OPEN)
        say(f"受付中のデモ案件（{OPEN_SLUG}）")
    if not Case.objects.filter(slug=CLOSED_SLUG).exists():
        _closed_case(department, say)
