"""hiroba notices … — デジタル書面送付 from the command line (operators and acceptance checks).

    hiroba notices recipients import FILE
    hiroba notices types --format json
    hiroba notices batch check FILE --type SLUG
    hiroba notices batch send FILE --type SLUG --approved-by EMAIL [--chunk N] [--pause S]
    hiroba notices batch dispatch [BATCH_ID] [--chunk N] [--pause S] # resume a batch (or all) left 送付処理中
    hiroba notices bounces MAILDIR
    hiroba notices fallback [--dry-run]
    hiroba notices remind
    hiroba notices purge [--dry-run]              # delete content on the types' retention schedule
    hiroba notices print RUN_ID --out DIR          # the run's PDF and 送付一覧 CSV
    hiroba notices returned CODE                   # 返戻 by letter code or 宛名番号
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from hiroba.core.actors import Actor
from hiroba.core.commands import ActionCommand
from hiroba.core.errors import ServiceError


class Command(ActionCommand):
    help = "デジタル書面送付（宛名の取込、バッチの確認と送付、不達の読込、紙への切替）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        recipients = sub.add_parser("recipients", help="宛名")
        rsub = recipients.add_subparsers(dest="recipients_action", required=True)
        imp = rsub.add_parser("import", help="基幹系の宛名一覧（CSV / Excel）を取り込む")
        imp.add_argument("file")

        types = sub.add_parser("types", help="書面の種類とバッチの列")
        types.add_argument("--format", choices=["json", "text"], default="text")

        batch = sub.add_parser("batch", help="送付バッチ")
        bsub = batch.add_subparsers(dest="batch_action", required=True)
        check = bsub.add_parser("check", help="送付せずに確認する")
        check.add_argument("file")
        check.add_argument("--type", required=True)
        send = bsub.add_parser("send", help="確認・承認・送付")
        send.add_argument("file")
        send.add_argument("--type", required=True)
        send.add_argument("--approved-by", required=True, help="承認者（所管所属の承認の役割を持つ職員）のメールアドレス")
        for p in (send, bsub.add_parser("dispatch", help="送付処理中のバッチを続ける")):
            if p is not send:
                p.add_argument("batch_id", type=int, nargs="?", help="省略すると送付処理中のすべてのバッチ")
            p.add_argument("--chunk", type=int, default=500, help="一度に処理する件数")
            p.add_argument("--pause", type=float, default=0.0, help="一度の処理ごとの待ち秒数（送信の速さの制限）")

        bounces = sub.add_parser("bounces", help="不達通知（RFC 3464）の Maildir を読む")
        bounces.add_argument("maildir")
        fallback = sub.add_parser("fallback", help="期限の来た書面を紙に切り替え、次の印刷に入れる")
        fallback.add_argument("--dry-run", action="store_true")
        sub.add_parser("remind", help="未開封の書面の督促メール")
        purge = sub.add_parser("purge", help="保存期間を過ぎた書面の内容とメール本文を消去する（送付の記録は残す）")
        purge.add_argument("--dry-run", action="store_true")
        printing = sub.add_parser("print", help="印刷のPDFと送付一覧CSVを書き出す")
        printing.add_argument("run_id", type=int)
        printing.add_argument("--out", required=True)
        returned = sub.add_parser("returned", help="返戻を記録する")
        returned.add_argument("code", help="書面番号（HN…）または宛名番号")

    def _type(self, slug: str) -> Any:
        from hiroba.notices.models import NoticeType

        notice_type = NoticeType.objects.filter(slug=slug).select_related("department").first()
        if notice_type is None:
            self.fail(f"書面の種類「{slug}」はありません。")
        return notice_type

    def _read(self, name: str) -> bytes:
        path = Path(name)
        if not path.is_file():
            self.fail(f"ファイル {name} がありません。")
        return path.read_bytes()

    def do_recipients(self, options: dict[str, Any]) -> None:
        from hiroba.notices import recipients

        result = recipients.recipients_import(actor=Actor.system("cli"), raw=self._read(options["file"]),
                                              filename=Path(options["file"]).name)
        for number, error in result.errors:
            self.stderr.write(f"row {number}: {error}")
        self.stdout.write(f"created {result.created}\nupdated {result.updated}\nunchanged {result.unchanged}\n"
                          f"refused {result.refused}")
        if result.errors:
            sys.exit(1)

    def do_types(self, options: dict[str, Any]) -> None:
        from hiroba.notices import types

        data = types.types_json()
        if options["format"] == "json":
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            for item in data:
                self.stdout.write(f"{item['slug']}\t{item['name']}\t{','.join(item['fields'])}")

    def _check(self, options: dict[str, Any]) -> Any:
        from hiroba.notices import batches

        check = batches.batch_check(notice_type=self._type(options["type"]), raw=self._read(options["file"]))
        for number, error in check.errors:
            self.stdout.write(f"row {number}: {error}")
        counts = check.counts()
        self.stdout.write(f"digital {counts['digital']}")
        reasons = ", ".join(f"{reason} {n}" for reason, n in counts["paper_reasons"].items())
        self.stdout.write(f"paper {counts['paper']}" + (f" ({reasons})" if reasons else ""))
        return check

    def do_batch(self, options: dict[str, Any]) -> None:
        from hiroba.accounts.models import User
        from hiroba.notices import batches
        from hiroba.notices.models import Batch, BatchState

        if options["batch_action"] == "check":
            if not self._check(options).ok:
                sys.exit(1)
            return
        if options["batch_action"] == "dispatch":
            if options["batch_id"] is None:
                todo = list(Batch.objects.filter(state=BatchState.DISPATCHING).order_by("pk"))
            else:
                todo = list(Batch.objects.filter(pk=options["batch_id"]))
                if not todo:
                    self.fail(f"バッチ {options['batch_id']} はありません。")
            for batch in todo:
                result = batches.batch_dispatch(actor=Actor.system("cli"), batch=batch, chunk=options["chunk"],
                                                pause=options["pause"])
                self.stdout.write(f"{batch.pk}\nqueued {result.queued}\npaper {result.paper}"
                                  + ("\nlimited" if result.limited else ""))
            return
        approver = User.objects.filter(email__iexact=options["approved_by"], is_active=True).first()
        if approver is None or not approver.is_staff_member:
            self.fail(f"承認者 {options['approved_by']} は職員として登録されていません。")
        check = batches.batch_check(notice_type=self._type(options["type"]), raw=self._read(options["file"]))
        if not check.ok:
            for number, error in check.errors:
                self.stderr.write(f"row {number}: {error}")
            self.fail("エラーのある行があるため、送付していません。")
        batch = batches.batch_create(actor=Actor.system("cli"), check=check, filename=Path(options["file"]).name)
        try:
            batches.batch_approve(actor=Actor.staff(approver), batch=batch)
        except ServiceError:
            batches.batch_cancel(actor=Actor.system("cli"), batch=batch)
            raise
        batches.batch_dispatch(actor=Actor.system("cli"), batch=batch, chunk=options["chunk"],
                               pause=options["pause"])
        self.stdout.write(str(batch.pk))

    def do_bounces(self, options: dict[str, Any]) -> None:
        from hiroba.notices import delivery

        result = delivery.bounces_read(path=options["maildir"])
        self.stdout.write(f"messages {result.messages}\nbounced {result.bounced}\ndelayed {result.delayed}\n"
                          f"unmatched {result.unmatched}")

    def do_fallback(self, options: dict[str, Any]) -> None:
        from hiroba.notices import printing

        result = printing.fallback(dry_run=options["dry_run"])
        for reason, n in sorted(result.to_paper.items()):
            self.stdout.write(f"paper {reason} {n}")
        if result.dry_run:
            self.stdout.write(f"letters {result.letters} (dry run)")
        elif result.run is not None:
            self.stdout.write(f"print run {result.run.pk}: letters {result.letters}")
        else:
            self.stdout.write("letters 0")

    def do_remind(self, options: dict[str, Any]) -> None:
        from hiroba.notices import delivery

        self.stdout.write(f"reminded {delivery.reminders_send()}")

    def do_purge(self, options: dict[str, Any]) -> None:
        from hiroba.notices import retention

        result = retention.purge(actor=Actor.system("cli"), dry_run=options["dry_run"])
        suffix = " (dry run)" if result.dry_run else ""
        self.stdout.write(f"mail bodies {result.mail_bodies}{suffix}\nnotices {result.notices}{suffix}\n"
                          f"uploads {result.uploads}{suffix}")

    def do_print(self, options: dict[str, Any]) -> None:
        from hiroba.core import tabular
        from hiroba.notices import printing
        from hiroba.notices.models import PrintRun

        run = PrintRun.objects.filter(pk=options["run_id"]).first()
        if run is None:
            self.fail(f"印刷 {options['run_id']} はありません。")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        body, pages = printing.run_pdf(run)
        (out / f"print-{run.pk}.pdf").write_bytes(body)
        (out / f"print-{run.pk}.csv").write_bytes(tabular.to_csv(printing.run_table(run, pages)))
        self.stdout.write(f"{out / f'print-{run.pk}.pdf'}\n{out / f'print-{run.pk}.csv'}\npages {sum(pages.values())}")

    def do_returned(self, options: dict[str, Any]) -> None:
        from hiroba.notices import printing

        notice = printing.returned_mail(actor=Actor.system("cli"), code=options["code"])
        self.stdout.write(f"returned {printing.letter_code(notice)}")
