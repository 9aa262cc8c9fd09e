"""hiroba consultation import FILE [--slug S] | publish SLUG --format F --out PATH [--version N]
| remind-overdue [--date YYYY-MM-DD]
| mailbox | submissions | ocr | formservice (see hiroba.consultations.intake.cli).

`remind-overdue` mails the staff of each department whose shared item (担当部署に共有) is past its
due date, once a day per item: run it daily from cron or a systemd timer (docs/operations.md).

`publish` writes the stored bytes of the published version (the latest, or `--version N`):
exactly what the results page offers for download. A case not yet published gets a preview
from the live rows, said so on stderr."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify

from hiroba.consultations import exports, importer
from hiroba.consultations.intake import cli as intake_cli
from hiroba.consultations.models import Case


class Command(BaseCommand):
    help = "意見公募: 過去の案件の取込み（import）と、結果の書き出し（publish）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="JSON または CSV（shared/fixtures の形式）を取り込む")
        imp.add_argument("file", type=Path)
        imp.add_argument("--slug", default=None, help="案件の識別子（省略時はファイルから決める）")
        imp.add_argument("--receipt-code", default="PC", help="受付番号の記号（例 DX）")
        pub = sub.add_parser("publish", help="公表する結果（個人情報をマスク済み）を書き出す")
        pub.add_argument("slug")
        pub.add_argument("--format", required=True, choices=exports.FORMATS)
        pub.add_argument("--out", required=True, type=Path)
        pub.add_argument("--version", type=int, default=None, help="公表した版（省略時は最新の版）")
        rem = sub.add_parser("remind-overdue", help="期限を過ぎた共有（担当部署に共有）を所属の職員にメールで知らせる（1日1回）")
        rem.add_argument("--date", type=date.fromisoformat, default=None, help="基準日（省略時は今日）")

        intake_cli.add_arguments(sub)  # mailbox, submissions, ocr, formservice

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] in intake_cli.ACTIONS:
            return intake_cli.handle(self, options)
        if options["action"] == "remind-overdue":
            from hiroba.consultations import staff_mail

            count = staff_mail.remind_overdue(options["date"])
            self.stdout.write(f"期限を過ぎた共有 {count} 件を知らせました。")
            return
        if options["action"] == "import":
            path: Path = options["file"]
            if not path.is_file():
                raise CommandError(f"ファイルがありません: {path}")
            slug = slugify(options["slug"]) if options["slug"] else None
            if options["slug"] and not slug:
                raise CommandError("--slug には半角英数字とハイフンを使ってください")
            try:
                imported = importer.import_file(path, slug=slug, receipt_code=options["receipt_code"])
            except importer.ImportFailed as exc:
                raise CommandError(f"取り込めませんでした（何も登録していません）: {exc}") from exc
            self.stdout.write(f"{imported.title}: 意見 {imported.items.count()} 件、提出 {imported.submissions.count()} 件を"
                              "取り込みました。")
            self.stdout.write(imported.slug)
            return
        case = Case.objects.filter(slug=options["slug"]).select_related("department").first()
        if case is None:
            raise CommandError(f"案件がありません: {options['slug']}")
        published = case.published_results.order_by("-version")
        if options["version"] is not None:
            published = published.filter(version=options["version"])
            if not published.exists():
                raise CommandError(f"第{options['version']}版は公表されていません: {case.slug}")
        result = published.first()
        if result is not None:
            data = bytes(result.files.get(format=options["format"]).content)
        else:
            self.stderr.write(f"{case.slug} は未公表です。現在の内容のプレビューを書き出します（公表資料ではありません）。")
            data = exports.render(case, options["format"])
        out: Path = options["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        self.stdout.write(f"{out} ({len(data):,} bytes)")
