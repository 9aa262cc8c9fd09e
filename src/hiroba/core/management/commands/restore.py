"""hiroba restore IN [--force]: a backup of `hiroba backup` into an empty database and data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hiroba.core import backup
from hiroba.core.errors import ServiceError


class Command(BaseCommand):
    help = "バックアップを空のデータベースとデータフォルダに復元する（空でなければ --force が必要）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", metavar="IN", type=Path, help="hiroba backup で作ったフォルダまたはファイル")
        parser.add_argument("--force", action="store_true",
                            help="復元先のデータベースとデータフォルダが空でなくても、消してから復元する")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup.restore(options["source"], force=options["force"])
        except ServiceError as err:
            raise CommandError(err.message) from err
        anchor = result.anchor
        self.stdout.write(f"restored: {result.tables} tables, {result.rows} rows, {result.files} files; "
                          f"audit anchor #{anchor['last_seq']} {anchor['last_hash']} matches the backup")
        if not result.key_matches:
            self.stderr.write("警告: HIROBA_AUDIT_KEY がバックアップを取ったときの鍵と異なります。"
                              "このままでは hiroba audit verify が NG になります。 / Warning: HIROBA_AUDIT_KEY "
                              "differs from the key the backup was taken with; audit verify will fail.")
        self.stdout.write("次に hiroba audit verify を実行してください。 / Now run: hiroba audit verify")
