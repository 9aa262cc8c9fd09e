"""Demo data: the ward's 令和6年度 デジタル活用提案制度 as the committee paper reports it —
応募 95件, 区民投票 665人・1,669票, two ideas adopted and sent to the budget — plus an open call
to try the resident pages.

Generated with a fixed seed, through the services (phases, limits, eligibility, sealing and the
digest are the real ones; the clock is passed explicitly). Accounts are bulk-created with unusable
passwords. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from hiroba.accounts import services as account_services
from hiroba.accounts.models import User
from hiroba.core.models import Department
from hiroba.proposals import queries, services
from hiroba.proposals.models import (
    Call,
    FollowUp,
    Proposal,
    ProposerCategory,
    Residency,
    ReviewAssignment,
    ScreeningDecision,
    VoterVerification,
)

JST = ZoneInfo("Asia/Tokyo")
SEED = 20240701
SLUG = "dx-teian-r6"
OPEN_SLUG = "dx-teian-trial"
APPLICATIONS, VOTERS, VOTES, PAPER_VOTERS, SHORTLIST = 95, 665, 1669, 65, 20

ADOPTED = [
    ("デジタル書面送付サービス",
     "区からの通知や書類が紙の郵送のみで、受け取りや保管に手間がかかり、郵送費もかさんでいる。",
     "希望する区民には、区からの通知書類をマイナポータルやメールなどデジタルで送付し、スマートフォンで受け取り・保存できるようにする。",
     "通知を確実に受け取りたい区民、郵送費を抑えたい区"),
    ("スクールカレンダーのiCalendar形式での公開",
     "学校の行事予定が紙やPDFで配られ、保護者が自分のカレンダーに手で書き写している。",
     "区立学校の行事予定をiCalendar形式で公開し、保護者がスマートフォンのカレンダーアプリで購読できるようにする。変更も自動で反映される。",
     "小中学生の保護者、学校の教職員"),
]
SUBJECTS = ["区報", "ごみ分別", "防災情報", "子育て支援", "高齢者の見守り", "図書館", "公園の利用", "放置自転車",
            "町会の回覧板", "区民施設の予約", "健康診断", "商店街", "観光案内", "多言語案内", "保育園の空き情報",
            "学校の連絡", "窓口の待ち時間", "粗大ごみ", "地域のイベント", "ボランティア募集"]
TOOLS = ["アプリで知らせる", "オンライン予約にする", "地図で見える化する", "チャットボットで案内する",
         "SNSで届ける", "オープンデータで公開する", "センサーで見守る", "キャッシュレスにする", "電子申請にする",
         "動画で解説する"]
GROUPS = ["九段地区町会連合会", "神田の子育てネット", "番町みまもり隊", "麹町シニアクラブ", "富士見PTA有志"]
BUSINESSES = ["株式会社ちよだテック", "合同会社神保町ラボ", "株式会社まちなかデジタル"]
REVIEWERS = [("shinsa1@hiroba.example", "審査 一"), ("shinsa2@hiroba.example", "審査 二"),
             ("shinsa3@hiroba.example", "審査 三"), ("shinsa4@hiroba.example", "審査 四")]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=JST)


def _bulk_residents(prefix: str, n: int) -> list[User]:
    emails = [f"{prefix}{i:04d}@demo.hiroba.example" for i in range(1, n + 1)]
    unusable = make_password(None)
    User.objects.bulk_create([User(email=e, kind=User.Kind.RESIDENT, display_name=f"デモ区民{prefix}{i:04d}",
                                   password=unusable) for i, e in enumerate(emails, start=1)])
    users = list(User.objects.filter(email__in=emails).order_by("email"))
    EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users])
    return users


def _clerk() -> User:
    clerk = User.objects.filter(email="dx.clerk@hiroba.example").first()
    if clerk is None:  # accounts demo not loaded: make the clerk ourselves
        clerk = account_services.staff_create(actor="demo", email="dx.clerk@hiroba.example", display_name="担当 一郎",
                                              department=Department.objects.get(code="digital-seisaku"))
    return clerk


def _votes_per_voter(rng: random.Random) -> list[int]:
    # x1 + x2 + x3 = 665 voters and x1 + 2·x2 + 3·x3 = 1,669 votes
    sizes = [1] * 81 + [2] * 164 + [3] * 420
    assert len(sizes) == VOTERS and sum(sizes) == VOTES
    rng.shuffle(sizes)
    return sizes


def load_closed_call(say: Callable[[str], None]) -> Call:
    rng = random.Random(SEED)
    department = Department.objects.get(code="digital-seisaku")
    clerk = _clerk()
    approver = User.objects.filter(email="dx.approver@hiroba.example").first() or clerk
    call = services.call_create(
        actor="demo", department=department, slug=SLUG, receipt_prefix="R6DX",
        title="令和6年度 デジタル活用提案制度",
        theme="地域が主役となり、地域の課題をデジタルの活用で解決するアイデアを募集します。",
        rules="区内在住・在勤・在学の方、区内で活動する団体・事業者が応募できます。1人（1団体）3件まで。",
        submission_start=date(2024, 7, 1), submission_end=date(2024, 8, 31), voting_start=date(2024, 10, 15),
        voting_end=date(2024, 11, 15), results_on=date(2024, 12, 10), implementation_on=date(2025, 1, 10),
        publish=True, now=_at(date(2024, 6, 14)),
    )
    # 募集: 95 proposals (two of them the ideas the ward adopted)
    proposers = _bulk_residents("teian", APPLICATIONS)
    titles = [f"{s}を{t}" for s in SUBJECTS for t in TOOLS]
    rng.shuffle(titles)
    texts = list(ADOPTED) + [
        (title, f"{title.split('を')[0]}について、必要な情報が届かず不便を感じている区民が多い。",
         f"{title}ことで、いつでもどこでも利用できるようにする。区の既存の仕組みと連携する。",
         rng.choice(["子育て世帯", "高齢者", "区内で働く人", "学生", "外国籍の区民", "すべての区民"]))
        for title in titles[:APPLICATIONS - len(ADOPTED)]
    ]
    order = list(range(APPLICATIONS))
    rng.shuffle(order)
    day = date(2024, 7, 1)
    proposals: list[Proposal] = []
    for n, index in enumerate(order):
        title, problem, idea, beneficiaries = texts[index]
        category, label = ProposerCategory.INDIVIDUAL, ""
        if n % 10 == 3:
            category, label = ProposerCategory.GROUP, GROUPS[n % len(GROUPS)]
        elif n % 10 == 7:
            category, label = ProposerCategory.BUSINESS, BUSINESSES[n % len(BUSINESSES)]
        when = _at(day + timedelta(days=n * 61 // APPLICATIONS), 9 + n % 9)
        draft = services.proposal_save(proposer=proposers[n], call=call, proposer_category=category,
                                       proposer_label=label, title=title, problem=problem, idea=idea,
                                       beneficiaries=beneficiaries, now=when)
        proposals.append(services.proposal_submit(proposer=proposers[n], proposal=draft, now=when))
    adopted = [p for p in proposals if p.title in {t for t, *_ in ADOPTED}]
    say(f"募集「{call.title}」: 応募 {len(proposals)}件")

    # 審査: four reviewers, two per proposal, blind; one harsh and one lenient
    screening = _at(date(2024, 9, 10))
    reviewers = []
    for email, name in REVIEWERS:
        user = User.objects.filter(email=email).first() or account_services.staff_create(
            actor="demo", email=email, display_name=name)
        reviewers.append(services.reviewer_add(actor=clerk, call=call, user=user))
    services.reviews_assign(actor=clerk, call=call, now=screening)
    bias = {reviewers[0].pk: -1, reviewers[1].pk: 1, reviewers[2].pk: 0, reviewers[3].pk: 0}
    merit = {p.pk: rng.randint(1, 4) for p in proposals}
    for p in adopted:
        merit[p.pk] = 5
    criteria = list(call.criteria.all())
    for a in ReviewAssignment.objects.filter(proposal__call=call).select_related("reviewer__user").order_by("pk"):
        scores = {c.pk: max(1, min(c.scale_max, merit[a.proposal_id] + bias[a.reviewer_id] + rng.choice([-1, 0, 0, 1])))
                  for c in criteria}
        services.review_submit(actor=a.reviewer.user, assignment=a, scores=scores,
                               comment=rng.choice(["課題が明確で効果が期待できる。", "実現には費用面の検討が必要。",
                                                   "既存事業との重複がないか確認したい。", "独自性が高い。"]),
                               now=screening)
    rows = queries.screening_table(call)
    chosen = {p.pk for p in adopted}
    for row in rows:
        if len(chosen) >= SHORTLIST:
            break
        chosen.add(row.proposal.pk)
    for row in rows:
        decision = ScreeningDecision.SHORTLISTED if row.proposal.pk in chosen else ScreeningDecision.NOT_SHORTLISTED
        reason = ("標準化得点が上位で、効果と実現可能性が認められるため" if decision == ScreeningDecision.SHORTLISTED
                  else "審査会での協議の結果、今回は投票の対象としない")
        services.proposal_decide(actor=approver, proposal=row.proposal, decision=decision, reason=reason,
                                 now=screening + timedelta(days=14))
    shortlist = list(queries.shortlist(call))
    say(f"審査: 審査員 {len(reviewers)}名、投票対象 {len(shortlist)}件")

    # 投票: 665 verified voters (600 online, 65 on paper at counters), 1,669 votes
    online = _bulk_residents("tohyo", VOTERS - PAPER_VOTERS)
    residencies = [Residency.LIVE] * 6 + [Residency.WORK] * 3 + [Residency.STUDY]
    verifications = [VoterVerification(
        user=u, display_name=u.display_name, residency=rng.choice(residencies),
        birth_date=date(1940 + rng.randint(0, 66), rng.randint(1, 12), rng.randint(1, 28)),
        method=VoterVerification.Method.COUNTER, verified_by=clerk, verified_at=_at(date(2024, 10, 1)),
        identity_key=services.identity_key(name_kana=f"でも とうひょう {i}", birth_date=date(1970, 1, 1),
                                           address=f"千代田区デモ{i}"),
    ) for i, u in enumerate(online)]
    verifications += [VoterVerification(
        display_name=f"窓口投票者{i:03d}", residency=Residency.LIVE, birth_date=date(1935 + i % 40, 4, 1),
        method=VoterVerification.Method.COUNTER, verified_by=clerk, verified_at=_at(date(2024, 10, 20)),
        identity_key=services.identity_key(name_kana=f"まどぐち とうひょう {i}", birth_date=date(1935 + i % 40, 4, 1),
                                           address=f"千代田区デモ窓口{i}"),
    ) for i in range(PAPER_VOTERS)]
    VoterVerification.objects.bulk_create(verifications)
    people = list(VoterVerification.objects.filter(identity_key__in=[v.identity_key for v in verifications])
                  .select_related("user").order_by("pk"))
    weights = [12.0 if p in adopted else rng.uniform(1.0, 6.0) for p in shortlist]
    voting_days = (call.voting_end - call.voting_start).days
    for i, (person, size) in enumerate(zip(people, _votes_per_voter(rng), strict=True)):
        picks: list[Proposal] = []
        while len(picks) < size:
            pick = rng.choices(shortlist, weights)[0]
            if pick not in picks:
                picks.append(pick)
        when = _at(call.voting_start + timedelta(days=i * voting_days // VOTERS), 8 + i % 12)
        ids = [p.pk for p in picks]
        if person.user_id:
            services.ballot_replace(voter=person.user, call=call, proposal_ids=ids, now=when)
        else:
            services.paper_ballot_enter(actor=clerk, call=call, verification=person, proposal_ids=ids,
                                        received_on=when.date(), now=when)
    result = services.results_publish(actor=approver, call=call, now=_at(date(2024, 12, 10)))
    say(f"投票: {result.voters}人・{result.votes}票（紙 {result.paper_voters}人）、SHA-256 {result.digest[:16]}…")

    # 事業化: the two adopted ideas, sent to the budget
    decided = _at(date(2024, 12, 20))
    for p in adopted:
        followup = services.proposal_adopt(
            actor=approver, proposal=p, reason="区民投票の結果と審査の評価を踏まえ、予算化を検討する",
            budget_step="令和7年第1回千代田区議会定例会にて予算案の審議", now=decided,
            department=Department.objects.get(code="shido" if "カレンダー" in p.title else "joho-system"))
        services.followup_update(actor=clerk, followup=followup, status=FollowUp.Status.BUDGETED,
                                 budget_step="令和7年第1回千代田区議会定例会にて予算案の審議",
                                 summary="令和7年度予算案に計上し、事業化に向けて準備を進めています。", now=decided)
        services.milestone_add(actor=clerk, followup=followup, title="採用の決定", due_on=date(2024, 12, 20),
                               done_on=date(2024, 12, 20))
        services.milestone_add(actor=clerk, followup=followup, title="予算案の審議（第1回定例会）",
                               due_on=date(2025, 3, 27), done_on=date(2025, 3, 27))
        services.milestone_add(actor=clerk, followup=followup, title="事業の開始", due_on=date(2025, 10, 1))
    say("採用: " + "、".join(p.title for p in adopted))
    return call


def load_open_call(say: Callable[[str], None]) -> Call:
    today = timezone.localdate()
    call = services.call_create(
        actor="demo", department=Department.objects.get(code="digital-seisaku"), slug=OPEN_SLUG,
        receipt_prefix="TRIAL", title="デジタル活用提案（試行・募集中）",
        theme="区民の皆さまが毎日使う区のサービスを、デジタルでもっと便利にするアイデア。",
        submission_start=today - timedelta(days=7), submission_end=today + timedelta(days=30), publish=True)
    say(f"募集中の試行: {call.title}（{call.submission_end:%Y-%m-%d} 締切）")
    return call


def load(say: Callable[[str], None]) -> None:
    if Call.objects.filter(slug=SLUG).exists():
        say(f"募集 {SLUG} は読み込み済みです。")
    else:
        load_closed_call(say)
    if not Call.objects.filter(slug=OPEN_SLUG).exists():
        load_open_call(say)
