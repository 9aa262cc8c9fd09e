"""Demo data of デジタル書面送付サービス, the adopted proposal of the committee paper's デジタル活用提案
(「区からの通知書類を、希望する区民にはデジタルで送付する」), deterministic and idempotent.

- two notice types: 介護保険料額決定通知書 (高齢介護課) and 学校からのお知らせ (指導課, which
  needs an acknowledgement: reminder after 3 days), each with its first template;
- 1,000 fictitious recipients imported through the recipient import (a CSV made here); 300 of
  them (30 %) have a resident account, linked to their 宛名番号 and consenting to both types —
  among them the demo resident ``kumin@hiroba.example`` (宛名番号 1310000001, 生年月日
  1958-04-01); four of those accounts were closed since, so their notices go on paper
  (「メールアドレスがない」);
- one 介護保険料 batch of all 1,000 made by kaigo.clerk@hiroba.example, approved by
  admin@hiroba.example and sent ten days before the demo was loaded: its e-mails delivered, 60 %
  of the digital notices opened by their readers, 12 e-mails bounced (RFC 3464 reports read
  from a Maildir), reminders for the unopened, and the fallback run that put everyone not opted
  in, closed or bounced into a print run (印刷待ち). kumin's notice is sent and still unopened.

Every step goes through the services the screens and the command line use. Names, amounts and
choices come from a seeded generator; the batch's dates are relative to the day the demo was
first loaded (the fallback rules depend on today). A part already there is skipped.
"""

from __future__ import annotations

import mailbox
import random
import tempfile
from collections.abc import Callable
from datetime import date, timedelta

from allauth.account.models import EmailAddress
from django.db.models import Q
from django.utils import timezone

from hiroba.accounts.demo import RESIDENT, password_hash, resident_account, staff_account
from hiroba.accounts.models import User
from hiroba.core import notify
from hiroba.core.actors import Actor
from hiroba.core.models import Department, Notification
from hiroba.notices import batches, delivery, printing, recipients, types
from hiroba.notices.models import Batch, Notice, NoticeType, Recipient, Route, Status

SEED = 20250313
COUNT, OPTED_IN, CLOSED, BOUNCED = 1000, 300, 4, 12
OPEN_SHARE = 0.6
SENT_DAYS_AGO = 10
ATENA_BASE = 1310000000
KUMIN_BIRTH = date(1958, 4, 1)
DOMAIN = "demo.hiroba.example"
BATCH_FILE = "介護保険料額決定通知書_令和7年度_本算定.csv"
CLERK, APPROVER = "kaigo.clerk@hiroba.example", "admin@hiroba.example"

# (slug, name, department code, acknowledgement, deadline wording, template title, template body)
TYPES = [
    ("kaigo-hokenryo", "介護保険料額決定通知書", "korei-kaigo", False,
     "第1期の納期限は{{ 納期限 }}です。口座振替の方は納期限の日に引き落とします。",
     "{{ 年度 }}年度 介護保険料額決定通知書",
     "{{ 氏名 }} 様\n\n{{ 年度 }}年度のあなたの介護保険料は、所得段階 第{{ 所得段階 }}段階により、"
     "年額 {{ 保険料 }} 円に決まりました。\n\n"
     "保険料は介護保険制度を支える大切な財源です。納付が難しいときは、納期限までに高齢介護課にご相談ください。\n\n"
     "この決定に不服があるときは、この通知を受け取った日の翌日から3か月以内に、東京都介護保険審査会に"
     "審査請求をすることができます。"),
    ("gakko-oshirase", "学校からのお知らせ", "shido", True,
     "{{ 回答期限 }}までに受領確認をお願いします。",
     "{{ 学校名 }}からのお知らせ（{{ 件名 }}）",
     "{{ 氏名 }} 様\n\n{{ 本文 }}\n\nご不明な点は{{ 学校名 }}までお問い合わせください。"),
]
SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木",
            "山口", "松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森", "池田", "橋本", "阿部"]
GIVEN = ["陽子", "健一", "美咲", "大輔", "由美", "恵子", "拓也", "真由美", "浩二", "誠", "智子", "直美", "京子",
         "明美", "裕子", "修", "和也", "幸子", "隆", "久美子", "聡", "典子", "節子", "優子", "博"]
# (postal code, address) of 千代田区 districts
STREETS = [("102-0074", "東京都千代田区九段南"), ("102-0073", "東京都千代田区九段北"), ("102-0083", "東京都千代田区麹町"),
           ("102-0082", "東京都千代田区一番町"), ("102-0084", "東京都千代田区二番町"), ("101-0051", "東京都千代田区神田神保町"),
           ("101-0021", "東京都千代田区外神田"), ("101-0062", "東京都千代田区神田駿河台"), ("100-0004", "東京都千代田区大手町"),
           ("102-0071", "東京都千代田区富士見")]
# 所得段階 and the annual premium (illustrative, 第1–第9段階)
BANDS = [(1, 20280), (2, 33800), (3, 47320), (4, 60840), (5, 67600), (6, 74360), (7, 81120), (8, 94640), (9, 108160)]


def _atena(i: int) -> str:
    return str(ATENA_BASE + i)


def _people() -> list[dict[str, str]]:
    """The 1,000 recipients: number 1 is the demo resident 区民 さくら."""
    rng = random.Random(SEED)
    people = []
    for i in range(1, COUNT + 1):
        postal, street = rng.choice(STREETS)
        birth = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 25 * 365))
        name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
        people.append({"宛名番号": _atena(i), "氏名": name, "郵便番号": postal,
                       "住所": f"{street}{rng.randint(1, 4)}-{rng.randint(1, 20)}-{rng.randint(1, 30)}",
                       "生年月日": birth.isoformat(), "メールアドレス": ""})
    people[0].update({"氏名": RESIDENT[1], "生年月日": KUMIN_BIRTH.isoformat(), "メールアドレス": RESIDENT[0]})
    chosen = sorted(random.Random(SEED + 1).sample(range(2, COUNT + 1), OPTED_IN - 1))
    for i in chosen:
        people[i - 1]["メールアドレス"] = f"r{_atena(i)}@{DOMAIN}"
    return people


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _types(say: Callable[[str], None]) -> dict[str, NoticeType]:
    made = {}
    for slug, name, dept, ack, wording, title, body in TYPES:
        kind = NoticeType.objects.filter(slug=slug).first()
        if kind is None:
            kind = types.type_create(actor="demo", slug=slug, name=name,
                                     department=Department.objects.get(code=dept), needs_acknowledgement=ack,
                                     deadline_wording=wording)
            types.template_publish(actor="demo", notice_type=kind, title=title, body=body)
        made[slug] = kind
    say("書面の種類: " + "、".join(f"{k.name}（{k.department.name}）" for k in made.values()))
    return made


def _recipients(say: Callable[[str], None], people: list[dict[str, str]]) -> None:
    if Recipient.objects.filter(atena_number__in=[p["宛名番号"] for p in people]).count() == len(people):
        say(f"宛名: {len(people)} 名（取込済みです）")
        return
    header = list(recipients.RECIPIENT_COLUMNS)
    result = recipients.recipients_import(actor="demo", raw=_csv(header, [[p[c] for c in header] for p in people]),
                                          filename="宛名一覧_デモ.csv")
    say(f"宛名: {COUNT} 名（新規 {result.created}、変更 {result.updated}、変更なし {result.unchanged}）")


def _opt_in(say: Callable[[str], None], people: list[dict[str, str]], kinds: list[NoticeType]) -> None:
    """Accounts for the 30 % who opted in, linked to their 宛名番号 and consenting to both types."""
    kumin = resident_account(*RESIDENT)
    wanted = {p["メールアドレス"]: p for p in people if p["メールアドレス"]}
    existing = set(User.objects.filter(email__in=list(wanted)).values_list("email", flat=True))
    hashed = password_hash()
    new = [User(email=email, kind=User.Kind.RESIDENT, display_name=p["氏名"], password=hashed)
           for email, p in wanted.items() if email not in existing]
    User.objects.bulk_create(new, batch_size=500)
    EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True, primary=True)
                                      for u in User.objects.filter(email__in=[u.email for u in new])], batch_size=500)
    users = {u.email: u for u in User.objects.filter(email__in=list(wanted))}
    linked = set(Recipient.objects.filter(user__isnull=False).values_list("atena_number", flat=True))
    for email, person in wanted.items():
        user = users[email] if email != kumin.email else kumin
        if person["宛名番号"] not in linked and user.is_active:
            recipients.account_link(user=user, atena_number=person["宛名番号"],
                                    birth_date=date.fromisoformat(person["生年月日"]))
        if user.is_active:
            for kind in kinds:
                recipients.consent_give(user=user, notice_type=kind, version=kind.consent_version)
    # a few have closed their account since: their notices go on paper (no e-mail to write to)
    closing = sorted(e for e in wanted if e != kumin.email)[:CLOSED]
    User.objects.filter(email__in=closing).update(is_active=False)
    say(f"電子送付に同意: {len(wanted)} 名（{len(wanted) * 100 // COUNT} %、うちアカウント廃止 {CLOSED} 名）、"
        f"区民 {kumin.email} は宛名番号 {_atena(1)}・生年月日 {KUMIN_BIRTH.isoformat()}")


def _dsn(message_id: str, rcpt: str) -> bytes:
    """An RFC 3464 delivery-status report, as the ward's mail server leaves it in the Maildir."""
    return (f"From: MAILER-DAEMON@mx.{DOMAIN}\r\nTo: no-reply@hiroba.localhost\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"DSN\"\r\n\r\n"
            f"--DSN\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
            f"--DSN\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.{DOMAIN}\r\n\r\n"
            f"Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
            f"--DSN\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\nTo: {rcpt}\r\n\r\n"
            f"--DSN--\r\n").encode()


def _batch(say: Callable[[str], None], kind: NoticeType, people: list[dict[str, str]]) -> None:
    if Batch.objects.filter(notice_type=kind, filename=BATCH_FILE).exists():
        say("送付バッチ: 作成済みです")
        return
    rng = random.Random(SEED + 2)
    header = ["宛名番号", "年度", "所得段階", "保険料", "納期限"]
    rows = []
    for person in people:
        band, premium = rng.choice(BANDS)
        rows.append([person["宛名番号"], "令和7", str(band), f"{premium:,}".replace(",", ""), "令和7年7月31日"])
    clerk, approver = staff_account(CLERK), staff_account(APPROVER)
    check = batches.batch_check(notice_type=kind, raw=_csv(header, rows))
    batch = batches.batch_create(actor=Actor.staff(clerk), check=check, filename=BATCH_FILE)
    batches.batch_approve(actor=Actor.staff(approver), batch=batch)
    sent = timezone.now() - timedelta(days=SENT_DAYS_AGO)
    batches.batch_dispatch(actor=Actor.staff(clerk), batch=batch, now=sent)
    # the worker's part, done here so the demo is complete when it is loaded
    for pk in Notification.objects.filter(template=batches.MAIL_TEMPLATE, object_id=str(batch.pk),
                                          state=Notification.State.QUEUED).values_list("pk", flat=True):
        notify.deliver.call(pk)
    delivery.sync_mail_states()
    digital = list(batch.notices.filter(route=Route.DIGITAL).exclude(recipient__atena_number=_atena(1))
                   .select_related("recipient__user", "notification").order_by("row_number"))
    bounced = digital[-BOUNCED:]
    with tempfile.TemporaryDirectory() as folder:
        box = mailbox.Maildir(f"{folder}/bounces", create=True)
        for notice in bounced:
            mail = notice.notification
            assert mail is not None  # a digital notice carries the mail it was sent as
            box.add(_dsn(mail.message_id, mail.recipient))
        bounces = delivery.bounces_read(path=f"{folder}/bounces")
    readers = [n for n in digital[:-BOUNCED] if rng.random() < OPEN_SHARE]
    for notice in readers:
        delivery.notice_open(notice=notice, user=notice.recipient.user, as_="self")
    reminded = delivery.reminders_send()
    result = printing.fallback()
    say(f"送付バッチ #{batch.pk}: {batch.row_count} 通（電子 {len(digital) + 1}、開封 {len(readers)}、"
        f"不達 {bounces.bounced}、督促 {reminded}）、印刷 #{result.run.pk if result.run else '—'} に "
        f"{result.letters} 通")


def load(say: Callable[[str], None]) -> None:
    if not Department.objects.filter(code__in=[t[2] for t in TYPES]).count() == len(TYPES):
        say("所属がありません（accounts のデモを先に読み込んでください）")
        return
    kinds = _types(say)
    people = _people()
    _recipients(say, people)
    _opt_in(say, people, list(kinds.values()))
    _batch(say, kinds["kaigo-hokenryo"], people)
    open_count = Notice.objects.filter(Q(status=Status.DELIVERED) | Q(status=Status.ACKNOWLEDGED)).count()
    say(f"書面: {Notice.objects.count()} 通（開封済み {open_count}）")
