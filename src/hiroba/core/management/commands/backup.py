"""hiroba backup OUT: the database, the files of HIROBA_DATA_DIR and the audit-chain anchor, consistent
while the site runs (see hiroba.core.backup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hiroba.core import backup
from hiroba.core.errors import ServiceError


class Command(BaseCommand):
    help = "バックアップを取る（データベース・アップロードされた原本・監査ログの末尾）。OUT はフォルダか .tar / .tar.gz"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="出力先: 新しいフォルダ、または *.tar / *.tar.gz のファイル")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup.backup(options["out"])
        except ServiceError as err:
            raise CommandError(err.message) from err
        anchor = result.anchor
        self.stdout.write(f"backup {result.path}: {result.tables} tables, {result.rows} rows, {result.files} files; "
                          f"audit anchor #{anchor['last_seq']} {anchor['last_hash']} "
                          f"(pending {anchor['pending']} of {anchor['pending_counter']})")
