"""Demo data from the committee paper's 情報セキュリティの取組み (令和6年度), deterministic and
idempotent (each part is skipped when it is already there).

- 56 web sites (fictitious names) diagnosed in 令和6年度, 53 of them the year before; each
  diagnosis is a ZAP report made here and imported through the real service, one site's through
  a vendor's CSV (a 緊急 finding) and hiroba itself through a wapiti3 report — findings of every
  grade, closed and reopened between the years, the follow-up partly done;
- the three audits with their good points and issues as the paper words them;
- the incident drill for 28 managers with the paper's scenario and participants' points;
- the courses: the all-staff video training and the two cloud courses (224 and 49 attendees)
  with questionnaires whose 「非常に良い」「良い」 shares meet the paper's ≥ 80 % and ≥ 75 %;
- the staff survey on the LAN environment (560 answers), the survey of every department and the
  hearings of 12 on electronic documents;
- the security policy as revised on 2024-04-01.

Answer distributions and per-site findings are illustrative (the paper gives totals and
thresholds, not raw answers); dates the paper does not give are the demo's own.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from hiroba.accounts.models import User
from hiroba.core.models import Department
from hiroba.security import audits, importing, incidents, policy, posture, services, training
from hiroba.security.models import (
    Audit,
    Contractor,
    Course,
    DiagnosisRound,
    Finding,
    FindingStatus,
    Incident,
    Playbook,
    PolicyDocument,
    RiskAcceptance,
    System,
)
from hiroba.surveys import services as surveys
from hiroba.surveys.models import Question, Survey

ACTOR = "demo"
DOMAIN = "city-hiroba.example"
SEED = 20241015

# (slug, name, department code, hosting, personal data)
SITES = [
    ("www", "区公式ホームページ", "digital-seisaku", "cloud", False),
    ("hiroba", "広場 hiroba（区民参加・DXプラットフォーム）", "joho-system", "datacenter", True),
    ("shinsei", "電子申請サービス", "digital-seisaku", "cloud", True),
    ("yoyaku", "施設予約システム", "shoko-kanko", "vendor", True),
    ("tosho", "図書館蔵書検索", "shido", "vendor", True),
    ("kanko", "観光情報サイト", "shoko-kanko", "cloud", False),
    ("kaigo", "介護保険事業者向けポータル", "korei-kaigo", "datacenter", True),
    ("kosodate", "子育て応援サイト", "hoken-fukushi", "cloud", False),
    ("bosai", "防災情報ポータル", "joho-system", "cloud", False),
    ("gikai", "区議会会議録検索", "seisaku-keiei", "vendor", False),
    ("nyusatsu", "電子入札案内", "seisaku-keiei", "vendor", True),
    ("shokuin", "職員採用サイト", "seisaku-keiei", "cloud", True),
    ("gakko-jh", "区立中学校ホームページ", "shido", "cloud", False),
    ("gakko-es", "区立小学校ホームページ", "shido", "cloud", False),
    ("kenshin", "健診予約システム", "hoken-fukushi", "vendor", True),
    ("shogai", "生涯学習講座申込", "kyoiku", "vendor", True),
    ("sports", "スポーツ施設案内", "chiiki-shinko", "cloud", False),
    ("chonai", "町会・自治会活動支援", "chiiki-shinko", "cloud", True),
    ("shoko", "中小企業融資あっせん申込", "shoko-kanko", "vendor", True),
    ("event", "区民まつり特設サイト", "chiiki-shinko", "cloud", False),
    ("opendata", "オープンデータカタログ", "digital-seisaku", "cloud", False),
    ("map", "地図情報サービス", "digital-seisaku", "vendor", False),
    ("gomi", "ごみ分別案内", "chiiki-shinko", "cloud", False),
    ("kifu", "ふるさと納税案内", "seisaku-keiei", "vendor", True),
    ("mail", "区政情報メール配信", "digital-seisaku", "vendor", True),
    ("koho", "区報デジタル版", "seisaku-keiei", "cloud", False),
    ("hoiku", "保育園入園案内", "hoken-fukushi", "cloud", False),
    ("jido", "児童館イベント申込", "hoken-fukushi", "vendor", True),
    ("korei", "高齢者見守り登録", "korei-kaigo", "datacenter", True),
    ("kenko", "健康ポイント事業", "hoken-fukushi", "vendor", True),
    ("bunka", "文化施設チケット予約", "chiiki-shinko", "vendor", True),
    ("jutaku", "区営住宅募集案内", "chiiki-shinko", "cloud", False),
    ("kankyo", "環境学習プログラム", "chiiki-shinko", "cloud", False),
    ("tourist-en", "観光情報サイト（英語版）", "shoko-kanko", "cloud", False),
    ("kaiin", "区民会館利用者登録", "chiiki-shinko", "vendor", True),
    ("mimamori", "通学路見守りマップ", "shido", "cloud", False),
    ("kyushoku", "給食献立公開", "shido", "cloud", False),
    ("shien", "就労支援相談予約", "shoko-kanko", "vendor", True),
    ("volunteer", "ボランティア登録", "chiiki-shinko", "vendor", True),
    ("kekkon", "婚姻・出生届の事前入力", "digital-seisaku", "cloud", True),
    ("zeimu", "税務証明オンライン申請", "seisaku-keiei", "datacenter", True),
    ("parking", "自転車駐車場定期利用申込", "chiiki-shinko", "vendor", True),
    ("kouen", "公園・広場の利用案内", "chiiki-shinko", "cloud", False),
    ("tokei", "統計データ公開", "seisaku-keiei", "cloud", False),
    ("iken", "区政モニター", "seisaku-keiei", "vendor", True),
    ("kankou-app", "まち歩きアプリ配信サイト", "shoko-kanko", "cloud", False),
    ("shokuiku", "食育情報サイト", "hoken-fukushi", "cloud", False),
    ("anzen", "安全・安心メール登録", "joho-system", "vendor", True),
    ("kokusai", "国際交流協会", "chiiki-shinko", "cloud", False),
    ("shogaisha", "障害福祉サービス案内", "hoken-fukushi", "cloud", False),
    ("kyoiku-iinkai", "教育委員会お知らせ", "kyoiku", "cloud", False),
    ("rekishi", "郷土資料デジタルアーカイブ", "kyoiku", "vendor", False),
    ("senkyo", "選挙情報", "seisaku-keiei", "cloud", False),
    ("saigai", "災害時安否登録", "joho-system", "datacenter", True),
    ("shinryo", "休日診療案内", "hoken-fukushi", "cloud", False),
    ("machidukuri", "まちづくり協議会", "chiiki-shinko", "cloud", False),
]
#: The three sites first diagnosed in 令和6年度 (the other 53 were diagnosed in 令和5年度 too).
NEW_IN_R6 = {"hiroba", "kekkon", "tourist-en"}

# ZAP alerts the demo's scans find: (pluginid, name, riskcode, cwe, wasc, solution)
CATALOGUE = [
    ("40012", "クロスサイトスクリプティング（反射型）", 3, "79", "8", "出力時にHTMLエスケープする。"),
    ("40018", "SQLインジェクション", 3, "89", "19", "プレースホルダ（バインド変数）を使う。"),
    ("90022", "アプリケーションエラーの開示", 2, "200", "13", "エラー画面に内部情報を出さない。"),
    ("10202", "アンチCSRFトークンの欠如", 2, "352", "9", "フォームにCSRF対策トークンを付ける。"),
    ("10020", "アンチクリックジャッキングヘッダの欠如", 2, "1021", "15", "X-Frame-Options または CSP の frame-ancestors を設定する。"),
    ("10038", "Content Security Policy (CSP) ヘッダが設定されていない", 2, "693", "15", "CSP ヘッダを設定する。"),
    ("10021", "X-Content-Type-Options ヘッダの欠如", 1, "693", "15", "X-Content-Type-Options: nosniff を設定する。"),
    ("10035", "Strict-Transport-Security ヘッダが設定されていない", 1, "319", "15", "HSTS を設定する。"),
    ("10010", "HttpOnly 属性のない Cookie", 1, "1004", "13", "Cookie に HttpOnly 属性を付ける。"),
    ("10036", "Server レスポンスヘッダによるバージョン情報の漏えい", 1, "200", "13", "Server ヘッダからバージョンを除く。"),
    ("10027", "情報の開示 - 疑わしいコメント", 0, "200", "13", "公開する前にコメントを取り除く。"),
    ("10109", "最新のウェブアプリケーション", 0, "-1", "-1", "（情報）AJAX スパイダーでの診断を検討する。"),
]
PATHS = ["/", "/search", "/login", "/apply", "/contact", "/news", "/list", "/detail", "/reserve", "/mypage"]


def _departments() -> dict[str, Department]:
    return {d.code: d for d in Department.objects.all()}


def _zap_report(site_url: str, alerts: list[tuple[str, list[tuple[str, str, str]]]], generated: str) -> bytes:
    catalogue = {c[0]: c for c in CATALOGUE}
    data: dict[str, Any] = {"@programName": "ZAP", "@version": "2.15.0", "@generated": generated, "site": [{
        "@name": site_url.rstrip("/"), "@host": site_url.split("://")[1].strip("/"), "@port": "443", "@ssl": "true",
        "alerts": [],
    }]}
    for pluginid, places in alerts:
        _pid, name, risk, cwe, wasc, solution = catalogue[pluginid]
        data["site"][0]["alerts"].append({
            "pluginid": pluginid, "alertRef": pluginid, "alert": name, "name": name, "riskcode": str(risk),
            "confidence": "2", "riskdesc": "", "desc": f"<p>{name}が検出されました。</p>",
            "instances": [{"uri": site_url.rstrip("/") + path, "method": method, "param": param,
                           "attack": "<script>alert(1)</script>" if pluginid == "40012" else (
                               "' OR '1'='1" if pluginid == "40018" else ""),
                           "evidence": "", "otherinfo": ""} for path, method, param in places],
            "count": str(len(places)), "solution": f"<p>{solution}</p>", "otherinfo": "",
            "reference": "<p>https://www.ipa.go.jp/security/vuln/websecurity/</p>", "cweid": cwe, "wascid": wasc,
            "sourceid": "1",
        })
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _scan(rng: random.Random, r5: list[tuple[str, list]] | None) -> list[tuple[str, list]]:
    """A site's scan: its header findings stay, some vulnerabilities get fixed, a few new ones."""
    if r5 is None:
        chosen = rng.sample([c[0] for c in CATALOGUE], rng.randint(3, 7))
        out = []
        for pid in chosen:
            places = [(p, "POST" if p in ("/login", "/apply", "/reserve") else "GET",
                       "q" if pid in ("40012", "40018") else "") for p in rng.sample(PATHS, rng.randint(1, 3))]
            out.append((pid, places))
        return out
    out = []
    for pid, places in r5:
        if pid in ("40012", "40018", "90022") and rng.random() < 0.7:
            continue  # fixed after the previous diagnosis
        if rng.random() < 0.15:
            continue
        out.append((pid, places))
    existing = {pid for pid, _ in out}
    for pid in rng.sample([c[0] for c in CATALOGUE], 2):
        if pid not in existing:
            out.append((pid, [(rng.choice(PATHS), "GET", "")]))
    if not out:
        out.append(("10021", [("/", "GET", "")]))
    return out


def _sites(say: Callable[[str], None], depts: dict[str, Department]) -> list[System]:
    vendor = Contractor.objects.filter(name="セキュア診断株式会社（架空）").first() or services.contractor_create(
        actor=ACTOR, name="セキュア診断株式会社（架空）", service="Webセキュリティ診断")
    for name, service in [("ちよだネットワークサービス株式会社（架空）", "全庁LAN運用保守業務"),
                          ("基幹システムサポート株式会社（架空）", "基幹業務システム運用保守業務")]:
        if not Contractor.objects.filter(name=name).exists():
            services.contractor_create(actor=ACTOR, name=name, service=service)
    systems = []
    for slug, name, code, hosting, personal in SITES:
        url = f"https://{slug}.{DOMAIN}/"
        system = System.objects.filter(url=url).first()
        if system is None:
            system = services.system_create(
                actor=ACTOR, url=url, name=name, department=depts.get(code) or depts["joho-system"], hosting=hosting,
                holds_personal_data=personal, contractor=vendor if hosting == "vendor" else None,
                personal_data_note="申請者の氏名・連絡先" if personal else "",
            )
        systems.append(system)
    return systems


def _diagnoses(say: Callable[[str], None], systems: list[System]) -> None:
    if DiagnosisRound.objects.filter(system__url__endswith=f".{DOMAIN}/").exists():
        say("Webセキュリティ診断: 取込済みです")
        return
    rng = random.Random(SEED)
    for index, system in enumerate(systems):
        slug = system.url.split("//")[1].split(".")[0]
        r5 = None
        if slug not in NEW_IN_R6:
            r5 = _scan(rng, None)
            day = date(2023, 10, 2) + timedelta(days=index % 40)
            importing.round_import(actor=ACTOR, system=system, filename=f"R5-{slug}.json", keep_file=False,
                                   stream=importing.spooled(_zap_report(system.url, r5, "Mon, 2 Oct 2023 10:00:00")),
                                   performed_on=day)
            # the department fixed the injections after the 令和5年度 report; the CISO office confirmed
            for finding in Finding.objects.filter(system=system, rule__rule_id__in=["40012", "40018"]):
                services.finding_transition(actor=ACTOR, finding=finding, name="mark_fixed", reason="【デモ】改修済み")
                services.finding_transition(actor=ACTOR, finding=finding, name="confirm")
        day = date(2024, 10, 1) + timedelta(days=index % 45)
        if slug == "hiroba":
            _wapiti_of_hiroba(system, day)
            continue
        if slug == "zeimu":
            _vendor_csv(system, day)
            continue
        r6 = _scan(rng, r5)
        importing.round_import(actor=ACTOR, system=system, filename=f"R6-{slug}.json", keep_file=False,
                               stream=importing.spooled(_zap_report(system.url, r6, "Tue, 1 Oct 2024 10:00:00")),
                               performed_on=day)
    r5_count = DiagnosisRound.objects.filter(fiscal_year=2023).values("system").distinct().count()
    r6_count = DiagnosisRound.objects.filter(fiscal_year=2024).values("system").distinct().count()
    say(f"Webセキュリティ診断: 令和6年度 {r6_count} サイト（令和5年度 {r5_count} サイト）、"
        f"検出事項 {Finding.objects.count()} 件")


def _wapiti_of_hiroba(system: System, day: date) -> None:
    base = system.url.rstrip("/")
    data = {
        "classifications": {
            "Content Security Policy Configuration": {"desc": "CSP の設定の確認", "sol": "CSP を厳格に設定する。",
                                                      "ref": {"OWASP": "https://owasp.org/"}, "wstg": ["WSTG-CONF-12"]},
            "HTTP Secure Headers": {"desc": "HTTP セキュリティヘッダの確認", "sol": "HSTS を有効にする。",
                                    "ref": {}, "wstg": ["WSTG-CONF-07"]},
        },
        "vulnerabilities": {
            "Content Security Policy Configuration": [],
            "HTTP Secure Headers": [{"method": "GET", "path": "/", "info": "Strict-Transport-Security is not set",
                                     "level": 1, "parameter": "", "referer": "", "module": "http_headers",
                                     "http_request": f"GET / HTTP/1.1\nhost: {base[8:]}", "curl_command":
                                     f"curl \"{base}/\"", "wstg": ["WSTG-CONF-07"]}],
        },
        "anomalies": {}, "additionals": {},
        "infos": {"version": "Wapiti 3.2.2", "target": system.url, "date": day.strftime("%a, %d %b %Y 10:00:00 +0000"),
                  "scope": "folder", "crawled_pages_nbr": 120, "detailed_report_level": 0},
    }
    importing.round_import(actor=ACTOR, system=system, filename="wapiti-hiroba.json", keep_file=False,
                           stream=importing.spooled(json.dumps(data).encode()), performed_on=day)


def _vendor_csv(system: System, day: date) -> None:
    base = system.url.rstrip("/")
    rows = ["ルールID,名称,危険度,CVSS,メソッド,URL,パラメータ,CWE,説明,対策,証跡,攻撃文字列,参考情報,診断日",
            f"V-001,SQLインジェクション（認証前）,,9.8,POST,{base}/login,user,89,ログインIDがSQL文に連結されている。,"
            f"プレースホルダを使う。,SQL syntax error,' OR 1=1--,,{day.isoformat()}",
            f"V-002,古いTLSバージョンの許可,,7.4,GET,{base}/,,326,TLS 1.0 が有効。,TLS 1.2 以上に限る。,,,,{day.isoformat()}",
            f"V-003,セッションIDのURL埋め込み,警告,,GET,{base}/mypage,sid,598,,URLにセッションIDを含めない。,,,,"
            f"{day.isoformat()}",
            f"V-004,エラーメッセージでの情報開示,注意,,GET,{base}/detail,id,209,,,,,,{day.isoformat()}"]
    vendor = Contractor.objects.get(name="セキュア診断株式会社（架空）")
    importing.round_import(actor=ACTOR, system=system, filename="vendor-zeimu.csv", keep_file=False, vendor=vendor,
                           stream=importing.spooled(("\ufeff" + "\n".join(rows)).encode()), performed_on=day)


def _follow_up(say: Callable[[str], None]) -> None:
    """The 令和6年度 follow-up: much fixed and confirmed, some in progress, one risk accepted."""
    if RiskAcceptance.objects.filter(reason__startswith="【デモ】").exists() or Finding.objects.filter(
            status=FindingStatus.FALSE_POSITIVE, decision_reason__startswith="【デモ】").exists():
        return
    rng = random.Random(SEED + 1)
    active = list(Finding.objects.filter(status=FindingStatus.OPEN, first_round__fiscal_year__gte=2023,
                                         system__url__endswith=f".{DOMAIN}/").order_by("id"))
    for finding in active:
        roll = rng.random()
        if roll < 0.45:
            services.finding_transition(actor=ACTOR, finding=finding, name="mark_fixed", reason="【デモ】改修済み")
            services.finding_transition(actor=ACTOR, finding=finding, name="confirm")
        elif roll < 0.6:
            services.finding_transition(actor=ACTOR, finding=finding, name="start")
        elif roll < 0.68:
            services.finding_transition(actor=ACTOR, finding=finding, name="mark_fixed",
                                        reason="【デモ】設定を変更した。再診断で確認を依頼")
    clerk = User.objects.filter(email="dx.clerk@hiroba.example").first()
    approver = User.objects.filter(email="dx.approver@hiroba.example").first()
    target = Finding.objects.filter(system__url=f"https://map.{DOMAIN}/", status__in=[
        FindingStatus.OPEN, FindingStatus.IN_PROGRESS]).order_by("-severity", "id").first()
    if clerk and approver and target:
        expires = max(date(2027, 3, 31), timezone.localdate() + timedelta(days=120))
        acceptance = services.risk_request(
            actor=clerk, finding=target, expires_on=expires,
            reason="【デモ】委託先製品の仕様で当面は改修できない。WAF で該当リクエストを遮断し、次期更改で対応する。")
        services.risk_decide(actor=approver, acceptance=acceptance, approve=True, note="代替策を確認した。")
    fp = Finding.objects.filter(system__url__endswith=f".{DOMAIN}/", rule__rule_id="10027",
                                status=FindingStatus.OPEN).order_by("id").first()
    if fp:
        services.finding_transition(actor=ACTOR, finding=fp, name="false_positive",
                                    reason="【デモ】ライブラリの著作権表示で、機微な情報ではない")
    say(f"診断後のフォローアップ: 対応中 {Finding.objects.active().count()} 件、"
        f"うち期限超過 {Finding.objects.overdue().count()} 件")


def _audits(say: Callable[[str], None], depts: dict[str, Department]) -> None:
    if Audit.objects.filter(fiscal_year=2024).exists():
        say("情報セキュリティ監査: 登録済みです")
        return
    office = depts["joho-system"]
    lead = User.objects.filter(email="admin@hiroba.example").first()
    internal = audits.audit_create(
        actor=ACTOR, kind=Audit.Kind.INTERNAL, theme="稼働初年度（R5年度導入）の情報システムの運用状況の確認",
        method="職員による相互監査方式", starts_on=date(2024, 8, 22), ends_on=date(2024, 8, 23), department=office,
        lead=lead, scope_note="稼働初年度の情報システムを利用する7部署",
        good_points=["二要素認証を導入し、認証を強化している。"],
        issues=["アカウント管理やパスワード設定に一部課題があった。"],
    )
    external = audits.audit_create(
        actor=ACTOR, kind=Audit.Kind.EXTERNAL, theme="稼働3年目（R3年度導入）の情報システムの運用状況の確認",
        method="専門家による助言型方式", starts_on=date(2024, 10, 28), ends_on=date(2024, 11, 7), department=office,
        lead=lead, auditor="外部の情報セキュリティ専門家", scope_note="稼働3年目の情報システムを利用する9部署",
        good_points=["他団体のインシデント情報を共有し、職員の意識向上を図っていた。"],
        issues=["パスワード設定やログ管理について一部課題があった。"],
    )
    vendor = audits.audit_create(
        actor=ACTOR, kind=Audit.Kind.VENDOR, theme="全庁LAN運用保守業務及び基幹業務システム運用保守業務の遂行状況の点検",
        method="専門家による外部監査", starts_on=date(2024, 11, 28), ends_on=date(2024, 12, 5), department=office,
        lead=lead, auditor="外部の情報セキュリティ専門家",
        scope_note="全庁LAN運用保守委託事業者（11月28日）、基幹業務システム運用保守委託事業者（12月5日）",
        contractors=list(Contractor.objects.filter(service__in=["全庁LAN運用保守業務", "基幹業務システム運用保守業務"])),
        issues=["アカウント管理や再委託の在り方等について課題があった。"],
    )
    plan = [
        (internal, "【デモ】共用アカウントの棚卸しと、パスワード設定基準の全所属への再周知", "joho-system",
         date(2025, 1, 31), "closed"),
        (external, "【デモ】パスワード設定基準の見直しと、ログの定期確認手順の整備", "joho-system", date(2025, 3, 31),
         "submitted"),
        (vendor, "【デモ】委託先のアカウント管理状況の定期報告と、再委託の事前承認手続の明確化", "joho-system",
         date(2025, 6, 30), "open"),
    ]
    for record, text, code, due, state in plan:
        issue = record.evaluations.get(kind="issue")
        action = audits.action_create(actor=ACTOR, evaluation=issue, description=text, department=depts[code],
                                      due_on=due)
        if state in ("submitted", "closed"):
            audits.action_submit(actor=ACTOR, action=action, note="【デモ】手順書を改定し、所属長会で周知した。")
        if state == "closed":
            audits.action_decide(actor=ACTOR, action=action, close=True)
    say("情報セキュリティ監査: 内部監査・外部監査・業務委託先監査（令和6年度）")


SCENARIO = ("ある日、「税金について調べようとインターネットを検索していたら検索結果リストに区の未納税者一覧らしきものが"
            "表示された。内容を確認しようとクリックしたが表示はされなかった。しかし検索サイトのキャッシュには残っている。」"
            "とホームページ問い合わせフォーム経由で匿名通報があった。この通報には、当該ページと思われるリンク(URL)も"
            "記載されている。")
OPINIONS = [
    "管理職に加えて、係長級など幅広い職層で研修を実施すべき(同様の意見多数)",
    "発生し得る事故に対する対応訓練であるため、多くの職員が受講できると良い",
    "情報セキュリティについて、さらなる全職員への周知徹底、意識づけが必要ではないか",
    "基本的な対応パターンについてはマニュアル化しておいた方がよい",
    "具体的な事例に沿った内容であり、対応力向上に資する研修であった",
]
PLAYBOOK_STEPS = [
    "通報の内容・受付日時・URLを記録し、情報システム課（CISO事務局）に報告する",
    "該当ページの公開を停止し、公開範囲（アクセス制御）を確認する",
    "検索エンジンにキャッシュの削除を申請する",
    "漏えいした個人情報の項目・本人の数を確認する",
    "個人情報保護委員会への報告（速報・確報）の要否を判断する",
    "本人への通知、公表の要否を判断する",
    "原因を調べ、再発防止策を決める",
]


def _drill(say: Callable[[str], None], depts: dict[str, Department]) -> None:
    if Incident.objects.filter(is_drill=True, scenario=SCENARIO).exists():
        say("インシデント発生訓練: 登録済みです")
        return
    playbook = Playbook.objects.filter(title="Webページからの個人情報漏えいの疑い").first() or incidents.playbook_save(
        actor=ACTOR, title="Webページからの個人情報漏えいの疑い", steps=PLAYBOOK_STEPS,
        description="訓練の意見（基本的な対応パターンのマニュアル化）を受けて作成した手順書")
    office = depts["joho-system"]
    tz = timezone.get_current_timezone()
    start = datetime(2024, 11, 15, 14, 0, tzinfo=tz)
    drill = incidents.incident_create(
        actor=ACTOR, title="情報セキュリティインシデント発生訓練（未納税者一覧の検索エンジンへの露出）",
        description="オリエンテーション後、シナリオに基づきグループ討議による演習を実施した。",
        channel=Incident.Channel.INQUIRY_FORM, department=office, detected_at=start, is_drill=True, scenario=SCENARIO,
        participants="個人情報を取り扱う部署の管理職", participant_count=28, personal_data=True, sensitive_data=False,
        persons_affected=1200, level=Incident.Level.HIGH,
    )
    incidents.timeline_append(actor=ACTOR, incident=drill, kind="note", text="オリエンテーション",
                              occurred_at=start + timedelta(minutes=5))
    incidents.timeline_append(actor=ACTOR, incident=drill, kind="discussion",
                              text="グループ討議: 初動（公開停止・キャッシュ削除）、報告の要否、本人通知の進め方",
                              occurred_at=start + timedelta(minutes=20))
    incidents.checklist_attach(actor=ACTOR, incident=drill, playbook=playbook)
    for index, opinion in enumerate(OPINIONS):
        action = {0: "係長級を対象に加えて次年度の訓練を計画する", 1: "訓練の動画教材を作り全職員が視聴できるようにする",
                  2: "全職員向け研修で事例を紹介する", 3: "手順書「Webページからの個人情報漏えいの疑い」を作成する",
                  4: ""}[index]
        item = incidents.improvement_create(actor=ACTOR, incident=drill, opinion=opinion, department=office,
                                            action=f"【デモ】{action}" if action else "",
                                            due_on=date(2025, 3, 31) if action else None)
        if index == 3:
            incidents.improvement_close(actor=ACTOR, item=item, note="【デモ】手順書を作成し、インシデントに添付できるようにした")
    say("インシデント発生訓練: 管理職28名、シナリオと主な意見5件")


def _answers(counts: list[int], rng: random.Random) -> list[int]:
    values = [choice for choice, n in enumerate(counts) for _ in range(n)]
    rng.shuffle(values)
    return values


def _survey(title: str, department: Department, questions: list[surveys.QuestionSpec], rows: list[dict],
            *, anonymous: bool = True, purpose: str = "", closed_on: date | None = None,
            departments: list[Department] | None = None) -> Survey:
    survey = surveys.survey_create(actor=ACTOR, title=title, department=department, questions=questions,
                                   anonymous=anonymous, purpose=purpose)
    surveys.responses_import(actor=ACTOR, survey=survey, rows=rows, departments=departments or [],
                             submitted_at=timezone.make_aware(datetime.combine(closed_on or date(2025, 3, 31),
                                                                               datetime.min.time())))
    surveys.survey_open(actor=ACTOR, survey=survey)
    return surveys.survey_close(actor=ACTOR, survey=survey)


def _training(say: Callable[[str], None], depts: dict[str, Department]) -> None:
    if Course.objects.filter(fiscal_year=2024).exists():
        say("研修: 登録済みです")
        return
    office = depts["joho-system"]
    rng = random.Random(SEED + 2)
    good = surveys.QuestionSpec("研修の内容はいかがでしたか")
    wish = surveys.QuestionSpec("今後受けたい研修や感想があればお書きください", kind=Question.Kind.TEXT, required=False)
    overview_answers = _answers([52, 97, 25, 5, 1], rng)  # 149 / 180 = 82.8 %
    overview_survey = _survey("クラウドサービス活用研修（概説研修）アンケート", office, [good, wish],
                              [{1: a, 2: "調達の事例をもっと知りたい" if i % 9 == 0 else ""}
                               for i, a in enumerate(overview_answers)], purpose="security.course",
                              closed_on=date(2025, 1, 30))
    basic_answers = _answers([12, 22, 8, 2, 0], rng)  # 34 / 44 = 77.3 %
    basic_survey = _survey("クラウドサービス活用研修（基礎研修）アンケート", office, [good, wish],
                           [{1: a, 2: "仕様書の演習が実務に役立った" if i % 7 == 0 else ""}
                            for i, a in enumerate(basic_answers)], purpose="security.course",
                           closed_on=date(2025, 1, 28))
    video = training.course_create(
        actor=ACTOR, fiscal_year=2024, title="情報セキュリティ研修（動画研修）", department=office,
        audience="all", required=True,
        description="個人情報保護制度と情報セキュリティの理解を深めるため、情報セキュリティポリシー及び個人情報の"
                    "安全管理措置に関する要綱に基づき、全職員（人材派遣スタッフは奨励）を対象に毎年度実施。",
        sessions=[("動画研修", "video", date(2025, 2, 20), date(2025, 3, 19))])
    overview = training.course_create(
        actor=ACTOR, fiscal_year=2024, title="クラウドサービス活用研修（概説研修）", department=office,
        audience="volunteers", description="クラウドサービスの基本知識（約1時間の動画視聴）", survey=overview_survey,
        sessions=[("概説研修（動画）", "video", date(2024, 12, 19), date(2025, 1, 30))])
    basic = training.course_create(
        actor=ACTOR, fiscal_year=2024, title="クラウドサービス活用研修（基礎研修）", department=office,
        audience="system", description="クラウドサービスの調達仕様書の作成演習（対面演習と事前学習：約40分の動画視聴）",
        survey=basic_survey,
        sessions=[("事前学習（動画）", "video", date(2025, 1, 6), date(2025, 1, 26)),
                  ("基礎研修（対面）", "in_person", date(2025, 1, 27), date(2025, 1, 28))])

    def csv_of(numbers: list[str], first: date, days: int) -> bytes:
        lines = ["職員番号,受講日時"] + [
            f"{n},{(first + timedelta(days=i % days)).isoformat()} {9 + i % 8:02d}:{(i * 7) % 60:02d}"
            for i, n in enumerate(numbers)]
        return "\n".join(lines).encode("utf-8")

    training.attendance_import(actor=ACTOR, course=overview, session=overview.sessions.first(),
                               content=csv_of([f"D{n:05d}" for n in range(1, 225)], date(2024, 12, 19), 42))
    training.attendance_import(actor=ACTOR, course=basic, session=basic.sessions.get(kind="in_person"),
                               content=csv_of([f"D{n:05d}" for n in range(300, 349)], date(2025, 1, 27), 2))
    first = video.sessions.order_by("starts_on").first()
    when = first.starts_on.strftime("%m/%d") if first else "—"
    say(f"研修: クラウドサービス活用研修 概説 {overview.attendances.count()} 名・基礎 {basic.attendances.count()} 名、"
        f"情報セキュリティ研修（動画、{when}〜）")


def _staff_surveys(say: Callable[[str], None], depts: dict[str, Department]) -> None:
    if Survey.objects.filter(title__startswith="全庁LAN環境").exists():
        return
    office = depts["joho-system"]
    rng = random.Random(SEED + 3)
    ease = _answers([98, 231, 152, 61, 18], rng)
    layers = _answers([71, 199, 170, 90, 30], rng)
    comments = ["端末1台で業務が完結するようにしてほしい", "インターネット系とLGWAN系のデータ移行が手間",
                "在宅でも同じ環境で働きたい", "会議室でも使えるよう無線LANを広げてほしい"]
    scale = ["とても使いやすい", "使いやすい", "どちらともいえない", "使いにくい", "とても使いにくい"]
    _survey("全庁LAN環境（端末利用）に関する職員アンケート", office, [
        surveys.QuestionSpec("業務端末の使いやすさ", scale=scale),
        surveys.QuestionSpec("三層分離を意識せずに業務ができていますか",
                             scale=["できている", "おおむねできている", "どちらともいえない", "あまりできていない",
                                    "できていない"]),
        surveys.QuestionSpec("業務環境についてのご意見", kind=Question.Kind.TEXT, required=False),
    ], [{1: ease[i], 2: layers[i], 3: comments[i % 4] if i % 5 == 0 else ""} for i in range(560)],
        purpose="security.lan", closed_on=date(2024, 9, 30))
    rule_scale = ["全庁または所属のルールがある", "所属で独自に工夫している", "ルールはない"]
    dept_rows = []
    answering = list(Department.objects.order_by("sort_order", "code"))
    for i, _department in enumerate(answering):
        dept_rows.append({1: [2, 1, 2, 2, 1, 2, 0, 2, 1][i % 9], 2: ["電子文書の廃棄が進まない", "共有フォルダの容量がひっ迫",
                                                                "フォルダの名前が人によって違う"][i % 3]})
    _survey("電子文書と共有フォルダの管理状況に関するアンケート（全所属）", office, [
        surveys.QuestionSpec("電子文書・共有フォルダの管理・運用ルールがありますか", scale=rule_scale, favourable=1),
        surveys.QuestionSpec("管理上の課題", kind=Question.Kind.TEXT, required=False),
    ], dept_rows, anonymous=False, purpose="records.survey", closed_on=date(2024, 7, 31), departments=answering)
    issues = ["一部部署で独自に工夫しているものの、電子文書及び共有フォルダについての管理・運用ルールがない",
              "電子文書の廃棄が進んでいないため長期に残置され、検索や利活用に課題",
              "インターネット系とLGWAN系間のデータ移行が煩雑", "共有フォルダの容量がひっ迫"]
    _survey("電子文書の管理に関するヒアリング（12所属）", office, [
        surveys.QuestionSpec("ヒアリングで確認した課題", kind=Question.Kind.TEXT)],
        [{1: issues[i % 4]} for i in range(12)], anonymous=False, purpose="records.hearing",
        closed_on=date(2024, 8, 30))
    say("職員アンケート: 全庁LAN環境 560 名、電子文書の所属アンケートとヒアリング（12所属）")


def _policy(say: Callable[[str], None]) -> None:
    if PolicyDocument.objects.filter(title="情報セキュリティポリシー").exists():
        return
    version = policy.policy_publish(
        actor=ACTOR, title="情報セキュリティポリシー", kind=PolicyDocument.Kind.POLICY, version="令和6年4月1日改定",
        effective_on=date(2024, 4, 1),
        summary="全庁LAN環境（β´モデル）への移行とクラウドサービスの利用拡大にあわせて改定。")
    for email in ("admin@hiroba.example", "dx.approver@hiroba.example"):
        user = User.objects.filter(email=email).first()
        if user:
            policy.policy_acknowledge(actor=user, version=version)
    say("情報セキュリティポリシー: 令和6年4月1日改定版（誓約 2 名）")


def load(say: Callable[[str], None]) -> None:
    depts = _departments()
    if "joho-system" not in depts:
        say("所属がありません（accounts のデモを先に読み込んでください）")
        return
    systems = _sites(say, depts)
    _diagnoses(say, systems)
    _follow_up(say)
    _audits(say, depts)
    _drill(say, depts)
    _training(say, depts)
    _staff_surveys(say, depts)
    _policy(say)
    if posture.latest() is None:
        posture.posture_check(actor=ACTOR)
