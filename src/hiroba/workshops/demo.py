"""Demo: 令和7年度 中学生デジタルワークショップ (the committee paper's 区民参加型デジタルプロジェクト).

区内在住の中学生, about 15 places, recruited June–July 2025, meeting August 2025 to March 2026.
Applicants are generated from a fixed seed, so every run gives the same people, the same
published lottery and the same result. Idempotent: a second run changes nothing. No e-mail is sent.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hiroba.core.models import Department
from hiroba.workshops import services
from hiroba.workshops.models import Programme

JST = ZoneInfo("Asia/Tokyo")
CODE = "r7-jhs"
PUBLIC_VALUE = "2025-07-25 東京都 区民参加型デジタルプロジェクト抽選 公開番号 318274"

SURNAMES = [("佐藤", "さとう"), ("鈴木", "すずき"), ("高橋", "たかはし"), ("田中", "たなか"), ("伊藤", "いとう"),
            ("渡辺", "わたなべ"), ("山本", "やまもと"), ("中村", "なかむら"), ("小林", "こばやし"), ("加藤", "かとう"),
            ("吉田", "よしだ"), ("山田", "やまだ"), ("松本", "まつもと"), ("井上", "いのうえ"), ("木村", "きむら")]
GIVEN = [("陽翔", "はると"), ("蓮", "れん"), ("湊", "みなと"), ("大和", "やまと"), ("悠真", "ゆうま"),
         ("陽葵", "ひまり"), ("凛", "りん"), ("結菜", "ゆいな"), ("芽依", "めい"), ("さくら", "さくら"),
         ("葵", "あおい"), ("颯", "はやて"), ("美月", "みづき"), ("晴", "はる"), ("紬", "つむぎ")]
SCHOOLS = ["千代田区立麹町中学校", "千代田区立神田一橋中学校", "千代田区立九段中等教育学校"]
TOWNS = ["九段南", "九段北", "神田駿河台", "飯田橋", "麹町", "一番町", "神田小川町", "外神田"]
INTERESTS = ["プログラミング", "まちの防災", "商店街を元気にしたい", "動画づくり", "AIについて知りたい", ""]
SESSIONS = [
    ("オリエンテーション・地域の課題を知ろう", date(2025, 8, 23)),
    ("講義: 最先端テクノロジーの今", date(2025, 9, 20)),
    ("講義: 他の自治体の先進事例", date(2025, 10, 18)),
    ("まち歩き: 地域の困りごとを探す", date(2025, 11, 15)),
    ("テーマを決めて話し合う", date(2025, 12, 20)),
    ("アイデアを形にする", date(2026, 1, 24)),
    ("発表の準備", date(2026, 2, 21)),
    ("区への提案発表会", date(2026, 3, 21)),
]
OUTPUTS = [
    ("防災マップをスマホで", "Aグループ", "災害のとき、どこに逃げればよいか中学生には分かりにくい。",
     "学校ごとの避難場所と安全な道を、スマホの地図で見られるようにする。", "中学生と、その家族"),
    ("商店街スタンプラリーアプリ", "Bグループ", "商店街に若い人があまり来ない。",
     "お店を回るとデジタルスタンプがたまり、地域のポイントと交換できるアプリ。", "商店街のお店と区民"),
    ("高齢者とオンラインでつながる会", "Cグループ", "一人暮らしの高齢者がさみしい思いをしている。",
     "中学生がタブレットの使い方を教え、オンラインで話せる会を開く。", "一人暮らしの高齢者"),
]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=JST)


def load(say: Callable[[str], None]) -> None:
    if Programme.objects.filter(code=CODE).exists():
        say(f"{CODE}: 既に読み込み済みです。")
        return
    department = Department.objects.get(code="digital-seisaku")
    programme = services.programme_create(
        actor="demo", department=department, code=CODE,
        title="令和7年度 中学生デジタルワークショップ",
        purpose=("地域が主役となり、地域の課題をデジタルの活用で解決するため、区内在住の中学生のみなさんと"
                 "ワークショップを開きます。\n最先端テクノロジーや先進事例の講義を聞き、テーマを決めて、課題に"
                 "どのような対応が考えられるかを話し合い、区に提案していただきます。"),
        audience="区内在住の中学生", residency_required=True, grade_min=7, grade_max=9, capacity=15,
        waitlist_size=5, applications_open_on=date(2025, 6, 15), applications_close_on=date(2025, 7, 15),
        consent_deadline=date(2025, 7, 22), selection_method=Programme.Selection.LOTTERY,
        lottery_seed_rule=("抽選日（令和7年7月25日）に区ホームページで先に予告した公開番号と日付をつなげた文字列。"
                           "シードはその文字列のSHA-256です。"),
        privacy_notice=("申込みで書いていただいた名前・学校・連絡先などは、このワークショップの連絡と運営だけに使い、"
                        "ほかの目的には使いません。\n保護者の方の同意をいただいてから申込みを受け付けます。\n"
                        "ワークショップが終わった後、令和9年3月31日に個人情報を消去します。"),
        starts_on=date(2025, 8, 1), ends_on=date(2026, 3, 31), purge_on=date(2027, 3, 31), is_published=True,
    )
    for number, (title, day) in enumerate(SESSIONS, 1):
        services.session_create(
            actor="demo", programme=programme, number=number, title=title,
            starts_at=_at(day, 14), ends_at=_at(day, 14) + timedelta(hours=2),
            place="千代田区役所 4階 401会議室", online_url="https://meet.example.jp/r7-jhs" if number == 6 else "",
            agenda=title, materials=f"第{number}回 資料（PDF）",
        )
    rng = random.Random(2025)
    seen: set[tuple[str, str]] = set()
    applications: list[Any] = []
    while len(applications) < 24:
        (sn, sk), (gn, gk) = rng.choice(SURNAMES), rng.choice(GIVEN)
        grade = rng.choice([7, 8, 9])
        school = rng.choice(SCHOOLS)
        if (sk + gk, school) in seen:
            continue
        seen.add((sk + gk, school))
        i = len(applications) + 1
        birth_year = 2025 - grade + 6 - (1 if rng.random() < 0.6 else 0)
        birth = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
        data = services.ApplicationInput(
            student_name=f"{sn} {gn}", student_kana=f"{sk} {gk}", birth_date=birth, school_name=school,
            grade=grade, lives_in_ward=True, address=f"千代田区{rng.choice(TOWNS)}{rng.randint(1, 4)}-{rng.randint(1, 20)}",
            guardian_name=f"{sn} 保護者{i}", guardian_email=f"guardian{i:02d}@example.jp",
            guardian_relationship=rng.choice(["母", "父", "祖母"]), guardian_phone=f"03-5555-{i:04d}",
            student_email=f"student{i:02d}@example.jp" if rng.random() < 0.5 else "",
            interests=rng.choice(INTERESTS),
            accessibility_needs="字幕があると助かります" if i == 7 else "",
        )
        applied = _at(date(2025, 6, 15), 8) + timedelta(hours=28 * (i - 1) + rng.randint(0, 12))
        app = services.application_submit(programme=programme, data=data, now=applied, notify_guardian=False)
        applications.append(app)
        if i % 11 != 0:  # two guardians never confirm: their applications lapse
            services.application_consent(token=services.consent_token(app), guardian_name=data.guardian_name,
                                         now=applied + timedelta(days=1), notify_applicants=False)
    lottery = services.lottery_publish(actor="demo", programme=programme, public_value=PUBLIC_VALUE,
                                       now=_at(date(2025, 7, 25), 9))
    lottery = services.lottery_draw(actor="demo", programme=programme, seed=lottery.seed,
                                    entries_digest=lottery.entries_digest, now=_at(date(2025, 7, 25), 11),
                                    notify_applicants=False)
    participants = list(programme.applications.filter(status="selected").order_by("receipt_number"))
    for session in programme.sessions.order_by("number"):
        present = [a.pk for a in participants if rng.random() < 0.85]
        services.attendance_record(actor="demo", session=session, present_ids=present)
    for title, team, problem, idea, beneficiaries in OUTPUTS:
        services.output_create(actor="demo", programme=programme, title=title, team_label=team, problem=problem,
                               idea=idea, beneficiaries=beneficiaries)
    say(f"{programme.title}: 申込 {len(applications)} 件、抽選 {len(lottery.result['order'])} 件 → "
        f"参加 {len(lottery.result['selected'])} 名・補欠 {len(lottery.result['waitlist'])} 名、"
        f"開催回 {len(SESSIONS)} 回、成果物 {len(OUTPUTS)} 件")
