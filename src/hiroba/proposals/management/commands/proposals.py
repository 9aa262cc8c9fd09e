"""hiroba proposals export-ballots SLUG --out FILE | verify FILE [--digest HEX] | recount SLUG"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hiroba.proposals import ballots, exports, services
from hiroba.proposals.models import Call


class Command(BaseCommand):
    help = "デジタル活用提案: 匿名化した投票データの出力・検証、保存された票からの再集計。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export-ballots", help="匿名化した投票データ（JSON）を出力する（結果公表後）")
        export.add_argument("slug")
        export.add_argument("--out", required=True)
        verify = sub.add_parser("verify", help="投票データ（JSON・テキスト・CSVのいずれか）のSHA-256と票数を検証する")
        verify.add_argument("file")
        verify.add_argument("--digest", help="結果ページに公表されたSHA-256")
        recount = sub.add_parser("recount", help="保存された票から再集計し、公表した結果と照合する")
        recount.add_argument("slug")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "verify":
            with open(options["file"], "rb") as fh:
                document = ballots.load(fh.read())
            result = ballots.verify(document, expected_digest=options.get("digest"))
            for receipt, votes in result.tally.items():
                self.stdout.write(f"{receipt}\t{votes}")
            self.stdout.write(f"voters\t{result.voters}\nvotes\t{result.votes}\nsha256\t{result.digest}")
            if not result.ok:
                raise CommandError("NG: " + "; ".join(result.problems))
            self.stdout.write("OK")
            return
        call = Call.objects.filter(slug=options["slug"]).select_related("result").first()
        if call is None:
            raise CommandError(f"募集 {options['slug']} はありません。")
        if not hasattr(call, "result"):
            raise CommandError("結果はまだ公表されていません。")
        if action == "export-ballots":
            with open(options["out"], "wb") as fh:
                fh.write(exports.ballots_json(call))
            self.stdout.write(call.result.digest)
            return
        receipts = dict(call.proposals.exclude(receipt_number=None).values_list("pk", "receipt_number"))
        recount = {receipts[k]: v for k, v in services.tally(call).items()}
        digest = ballots.digest(services.anonymised_ballots(call))
        ok = recount == call.result.tally and digest == call.result.digest
        self.stdout.write(f"votes\t{sum(recount.values())}\nsha256\t{digest}")
        if not ok:
            raise CommandError("NG: 保存された票が公表した結果と一致しません。")
        self.stdout.write("OK")
