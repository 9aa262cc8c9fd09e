"""hiroba audit verify | chain [--follow] | export --since DATE --format csv|jsonl [--out PATH]"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError

from hiroba.core import audit
from hiroba.core.commands import iso_date


class Command(BaseCommand):
    help = "監査ログのハッシュチェーンを検証し、監査人向けに書き出す (verify / export)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="チェーン全体を検証する（改ざん・削除・挿入を検出すると終了コード1）")
        chain = sub.add_parser("chain", help="連結待ちの監査ログをチェーンに連結する（受付などの高頻度の書き込み）")
        chain.add_argument("--follow", action="store_true", help="止めるまで続ける（hiroba の運用中はこれを常駐させる）")
        chain.add_argument("--interval", type=float, default=0.5, help="--follow で確認する間隔（秒）")
        chain.add_argument("--batch-size", type=int, default=audit.CHAIN_BATCH,
                           help="1トランザクションで連結する件数の上限")
        export = sub.add_parser("export", help="監査ログを書き出す")
        export.add_argument("--since", type=iso_date, default=None, help="この日(JST)以降 YYYY-MM-DD")
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
            if options["batch_size"] < 1:
                raise CommandError("--batch-size は1以上で指定してください")
            self._chain(follow=options["follow"], interval=options["interval"], batch_size=options["batch_size"],
                        verbosity=options["verbosity"])
            return
        out_path: Path | None = options["out"]
        if out_path is None:
            stdout = cast(IO[str], self.stdout)  # an OutputWrapper writes like a text stream
            n = audit.export(stdout, since=options["since"], fmt=options["format"])
        else:
            with out_path.open("w", encoding="utf-8", newline="") as fh:
                n = audit.export(fh, since=options["since"], fmt=options["format"])
        self.stderr.write(f"{n} entries exported")

    def _chain(self, *, follow: bool, interval: float, batch_size: int, verbosity: int) -> None:
        from django.db import connection

        while True:
            try:
                linked = audit.chain_pending(batch_size=batch_size)
            except (OperationalError, InterfaceError) as exc:
                if not follow:
                    raise
                # The database restarted or the connection dropped: keep the chainer alive and
                # try again; nothing is lost, the entries stay pending until a batch commits.
                self.stderr.write(f"audit chain: database unavailable ({exc}); retrying")
                connection.close()
                time.sleep(max(interval, 1.0))
                continue
            if linked and (not follow or verbosity > 1):
                self.stdout.write(f"{linked} entries linked")
            if not follow:
                if not linked:
                    self.stdout.write("0 entries linked")
                return
            connection.close_if_unusable_or_obsolete()
            time.sleep(interval)
