"""`hiroba notifications deliver`: send the e-mails that are due and were not (run on a schedule)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hiroba.core import notify


class Command(BaseCommand):
    help = "送信待ち・再送待ちのメールを送信します（定期実行用） / send notifications that are due"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("deliver", help="期限の来たメールを送信 / send what is due")

    def handle(self, *args: Any, **options: Any) -> None:
        attempted = notify.deliver_due()
        self.stdout.write(f"attempted {attempted}")
