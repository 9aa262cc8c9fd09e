"""Demo data: the ward's 令和6年度 デジタル活用提案制度 as the committee paper reports it —
応募 95件, 区民投票 665人・1,669票, two ideas adopted and sent to the budget — plus an open call
to try the resident pages.

The 95 proposals are written out (`demo_ideas.IDEAS`: what residents of a central Tokyo ward
might really propose); screening scores and votes come from a fixed seed, through the services
(phases, limits, eligibility, sealing and the digest are the real ones; the clock is passed
explicitly). The proposers (teian0001…0095@demo.hiroba.example) and online voters
(tohyo0001…0600@demo.hiroba.example) are bulk-created with the demo password, like every demo
account. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.utils import timezone

from hiroba.accounts import demo as accounts_demo
from hiroba.accounts.models import Relationship, ResidentVerification, User
from hiroba.core.models import Department
from hiroba.proposals import queries, services
from hiroba.proposals.demo_ideas import IDEAS
from hiroba.proposals.models import (
    Call,
    FollowUp,
    Proposal,
    ProposerCategory,
    ReviewAssignment,
    ScreeningDecision,
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
GROUPS = ["九段地区町会連合会", "神田の子育てネット", "番町みまもり隊", "麹町シニアクラブ", "富士見PTA有志"]
BUSINESSES = ["株式会社ちよだテック", "合同会社神保町ラボ", "株式会社まちなかデジタル"]
REVIEW_COMMENTS = ["課題が明確で、効果が期待できる。", "実現には費用と運用体制の検討が必要。",
                   "既存事業との重複がないか確認したい。", "区民の身近な困りごとに応える独自性の高い提案。",
                   "他の自治体に先行事例があり、実現の見込みが高い。", "個人情報の取扱いについて慎重な設計が要る。",
                   "デジタルが苦手な人への配慮もあわせて検討したい。", "対象が限られるが、必要とする人には効果が大きい。"]
REVIEWERS = ["shinsa1@hiroba.example", "shinsa2@hiroba.example", "shinsa3@hiroba.example",
             "shinsa4@hiroba.example"]
# Display names (staff see them beside a proposal; the public never does): 40 × 40 combinations
# taken with a stride, so neighbours differ.
SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木",
            "山口", "松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森", "池田", "橋本", "阿部", "石川", "山下",
            "中島", "石井", "小川", "前田", "岡田", "長谷川", "藤田", "後藤", "近藤", "村上", "遠藤", "青木", "坂本"]
GIVEN_NAMES = ["陽子", "健一", "美咲", "大輔", "由美", "翔太", "恵子", "拓也", "真由美", "浩二", "さくら", "誠", "智子",
               "蓮", "直美", "悠真", "京子", "亮", "明美", "颯太", "裕子", "修", "彩", "和也", "幸子", "結衣", "隆",
               "久美子", "陽菜", "聡", "千尋", "大和", "典子", "湊", "麻衣", "勇気", "節子", "樹", "優子", "博"]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=JST)


def _name(index: int) -> str:
    combo = index * 37 % (len(SURNAMES) * len(GIVEN_NAMES))
    return f"{SURNAMES[combo // len(GIVEN_NAMES)]} {GIVEN_NAMES[combo % len(GIVEN_NAMES)]}"


def _bulk_residents(prefix: str, n: int, offset: int = 0) -> list[User]:
    """n resident accounts that sign in with the demo password (hashed once for all of them)."""
    emails = [f"{prefix}{i:04d}@demo.hiroba.example" for i in range(1, n + 1)]
    password, now = accounts_demo.password_hash(), timezone.now()
    User.objects.bulk_create([User(email=e, kind=User.Kind.RESIDENT, display_name=_name(offset + i),
                                   password=password, password_changed_at=now)
                              for i, e in enumerate(emails, start=1)])
    users = list(User.objects.filter(email__in=emails).order_by("email"))
    EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users])
    return users


def _clerk() -> User:
    return accounts_demo.staff_account("dx.clerk@hiroba.example")


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
    approver = accounts_demo.staff_account("dx.approver@hiroba.example")
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
    texts = list(ADOPTED) + list(IDEAS)
    assert len(texts) == APPLICATIONS
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
    for email in REVIEWERS:
        reviewers.append(services.reviewer_add(actor=clerk, call=call, user=accounts_demo.staff_account(email)))
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
                               comment=rng.choice(REVIEW_COMMENTS),
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
    online = _bulk_residents("tohyo", VOTERS - PAPER_VOTERS, offset=APPLICATIONS)
    residencies = [Relationship.RESIDENT] * 6 + [Relationship.WORKER] * 3 + [Relationship.STUDENT]
    verifications = [ResidentVerification(
        user=u, display_name=u.display_name, residency=rng.choice(residencies),
        birth_date=date(1940 + rng.randint(0, 66), rng.randint(1, 12), rng.randint(1, 28)),
        method=ResidentVerification.Method.COUNTER, verified_by=clerk, verified_at=_at(date(2024, 10, 1)),
        identity_key=services.identity_key(name_kana=f"でも とうひょう {i}", birth_date=date(1970, 1, 1),
                                           address=f"千代田区デモ{i}"),
    ) for i, u in enumerate(online)]
    verifications += [ResidentVerification(
        display_name=_name(VOTERS + i), residency=Relationship.RESIDENT, birth_date=date(1935 + i % 40, 4, 1),
        method=ResidentVerification.Method.COUNTER, verified_by=clerk, verified_at=_at(date(2024, 10, 20)),
        identity_key=services.identity_key(name_kana=f"まどぐち とうひょう {i}", birth_date=date(1935 + i % 40, 4, 1),
                                           address=f"千代田区デモ窓口{i}"),
    ) for i in range(PAPER_VOTERS)]
    ResidentVerification.objects.bulk_create(verifications)
    people = list(ResidentVerification.objects.filter(identity_key__in=[v.identity_key for v in verifications])
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
    say(f"投票: {result.voters:,}人・{result.votes:,}票（紙 {result.paper_voters}人）、SHA-256 {result.digest[:16]}…")

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
