"""hiroba workshops purge [--date YYYY-MM-DD] [--dry-run | --enqueue]"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hiroba.core.commands import iso_date
from hiroba.workshops import services, tasks


class Command(BaseCommand):
    help = "ワークショップ: 消去日を迎えた企画の申込者の個人情報を消去・匿名化する (purge)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        purge = sub.add_parser("purge", help="消去日（purge_on）を迎えた企画の個人情報を消去する。毎日実行する。")
        purge.add_argument("--date", type=iso_date, default=None, help="この日(JST)を基準にする（既定: 今日）")
        mode = purge.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="対象を表示するだけで消去しない")
        mode.add_argument("--enqueue", action="store_true", help="バックグラウンドのタスクとして登録する")

    def handle(self, *args: Any, **options: Any) -> None:
        day: date | None = options["date"]
        if options["enqueue"]:
            result = tasks.purge_due_programmes.enqueue(day.isoformat() if day else None)
            self.stdout.write(f"queued {result.id}")
            return
        done = services.programmes_purge_due(actor="system", today=day, dry_run=options["dry_run"])
        verb = "対象" if options["dry_run"] else "消去"
        for code, count in done:
            self.stdout.write(f"{verb} {code}: 申込 {count} 件")
        self.stdout.write(f"{len(done)} programme(s) {'due' if options['dry_run'] else 'purged'}")
