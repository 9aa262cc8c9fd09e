"""hiroba audit verify | chain [--follow] | export --since DATE --format csv|jsonl [--out PATH]"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hiroba.core import audit


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日付は YYYY-MM-DD で指定してください: {value!r}") from exc


class Command(BaseCommand):
    help = "監査ログのハッシュチェーンを検証し、監査人向けに書き出す (verify / export)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="チェーン全体を検証する（改ざん・削除・挿入を検出すると終了コード1）")
        chain = sub.add_parser("chain", help="連結待ちの監査ログをチェーンに連結する（受付などの高頻度の書き込み）")
        chain.add_argument("--follow", action="store_true", help="止めるまで続ける（hiroba の運用中はこれを常駐させる）")
        chain.add_argument("--interval", type=float, default=0.5, help="--follow で確認する間隔（秒）")
        export = sub.add_parser("export", help="監査ログを書き出す")
        export.add_argument("--since", type=_date, default=None, help="この日(JST)以降 YYYY-MM-DD")
        export.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
        export.add_argument("--out", type=Path, default=None, help="出力先（省略時は標準出力）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            result = audit.verify_chain()
            self.stdout.write(result.message())
            if not result.ok:
                sys.exit(1)
            return
        if options["action"] == "chain":
            self._chain(follow=options["follow"], interval=options["interval"])
            return
        out_path: Path | None = options["out"]
        if out_path is None:
            n = audit.export(self.stdout, since=options["since"], fmt=options["format"])
        else:
            with out_path.open("w", encoding="utf-8", newline="") as fh:
                n = audit.export(fh, since=options["since"], fmt=options["format"])
        self.stderr.write(f"{n} entries exported")

    def _chain(self, *, follow: bool, interval: float) -> None:
        from django.db import connection

        while True:
            linked = audit.chain_pending()
            if linked and (not follow or self.verbosity > 1):
                self.stdout.write(f"{linked} entries linked")
            if not follow:
                if not linked:
                    self.stdout.write("0 entries linked")
                return
            connection.close_if_unusable_or_obsolete()
            time.sleep(interval)
