"""hiroba records … — 電子文書管理 from the command line (keep these contracts stable).

    hiroba records scan PATH [--department D] [--json OUT]
    hiroba records index [PATH]      # the text of the scanned documents, for the search (all roots without PATH)
    hiroba records watch PATH        # journal the changes under PATH for the next scan, until SIGTERM or SIGINT
    hiroba records register import FILE
    hiroba records register export --format xlsx|csv OUT
    hiroba records expiring [--year YYYY] [--department D]
    hiroba records notify            # the April expiry notices (once per department and year)
    hiroba records own               # hiroba's own records into the register
    hiroba records guideline publish # publish the first guideline (the default rules) if none is

`scan` exits 0 when it could scan, whatever it found (the findings are the report), and 2 when
it could not (no such folder, unreadable, outside RECORDS_SCAN_ROOTS). `watch` prints one line
when every folder is watched and runs until SIGTERM or SIGINT (exit 0; also when another watcher
takes the root over); it exits 2 when it cannot watch (the same refusals, fs.inotify limits too
small, the folder moved or deleted while watched).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hiroba.core.actors import Actor
from hiroba.core.errors import ServiceError

ACTOR = Actor.system("cli")


class Command(BaseCommand):
    help = "電子文書管理（共有フォルダの点検、行政文書ファイル管理簿の取込・書出し、保存期間満了）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        scan = sub.add_parser("scan", help="共有フォルダを点検する（ファイルは動かさない・消さない）")
        scan.add_argument("path")
        scan.add_argument("--department", default=None, help="所属の名称またはコード")
        scan.add_argument("--json", dest="json_out", default=None, help="結果を JSON で書き出すファイル")
        scan.add_argument("--quiet", action="store_true", help="進み具合を表示しない")

        watch = sub.add_parser("watch", help="共有フォルダの変更を記録し続ける（次の点検は変わったところだけを見る）")
        watch.add_argument("path")

        index = sub.add_parser("index", help="点検した共有フォルダの文書（PDF・Word・Excel・テキスト）の本文を索引する")
        index.add_argument("path", nargs="?", default=None, help="点検したフォルダ。省略するとすべて")

        register = sub.add_parser("register", help="行政文書ファイル管理簿")
        reg_sub = register.add_subparsers(dest="register_action", required=True)
        imp = reg_sub.add_parser("import", help="Excel / CSV の管理簿を取り込む（誤りが1行でもあれば何も登録しない）")
        imp.add_argument("file")
        exp = reg_sub.add_parser("export", help="管理簿を書き出す")
        exp.add_argument("--format", choices=["xlsx", "csv"], required=True)
        exp.add_argument("out")
        exp.add_argument("--department", default=None)

        expiring = sub.add_parser("expiring", help="保存期間満了の一覧")
        expiring.add_argument("--year", type=int, default=None, help="年度（西暦）。既定は今年度")
        expiring.add_argument("--department", default=None)
        sub.add_parser("notify", help="保存期間満了の通知メール（所属・年度ごとに1回）")
        sub.add_parser("own", help="hiroba 自身の記録（意見募集・提案募集・講座申込・お知らせ）を管理簿に載せる")
        guideline = sub.add_parser("guideline", help="ガイドライン")
        guideline.add_argument("guideline_action", choices=["publish"])

    def fail(self, message: str, code: int = 2) -> None:
        self.stderr.write(message)
        sys.exit(code)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"do_{options['action']}")(options)
        except ServiceError as exc:
            from hiroba.records.register import ImportRefused

            if isinstance(exc, ImportRefused):
                for error in exc.errors:
                    self.stderr.write(str(error))
            self.fail(exc.message)

    def _department(self, name: str | None) -> Any:
        from hiroba.records.services import department_by_name

        return department_by_name(name) if name else None

    def do_scan(self, options: dict[str, Any]) -> None:
        from hiroba.records import scans

        department = self._department(options["department"])
        bar = None
        if not options["quiet"] and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(unit=" files", desc="点検中", file=sys.stderr, mininterval=0.5)

        def progress(files: int, size: int) -> None:
            if bar is not None:
                bar.update(files - bar.n)

        try:
            # the lists of findings only for --json (a re-scan from the journal reads them back)
            scan, result = scans.run_scan(actor=ACTOR, path=options["path"], department=department, progress=progress,
                                          findings=bool(options["json_out"]))
        finally:
            if bar is not None:
                bar.close()
        if options["json_out"]:
            Path(options["json_out"]).write_text(json.dumps(result.as_json(), ensure_ascii=False, indent=1),
                                                 encoding="utf-8")
        self.stdout.write(f"点検 {scan.pk}: ファイル {scan.files:,} 件（{scan.bytes:,} バイト）、重複 {scan.duplicate_sets:,} 組、"
                          f"ルール違反 {scan.violation_count:,} 件、放置された作業ファイル {scan.stale_count:,} 件、"
                          f"読めなかったもの {scan.error_count:,} 件、{scan.seconds:.1f} 秒（読み込み {scan.hashed:,} 件）")

    def do_watch(self, options: dict[str, Any]) -> None:
        import signal
        import threading

        from hiroba.records import watch
        from hiroba.records.models import ShareWatch

        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        epoch: list[str] = []

        def ready(row: ShareWatch) -> None:
            epoch.append(row.epoch)
            self.stdout.write(f"変更の監視を始めました: {row.root}（フォルダ {row.folders:,} 個"
                              + (f"、監視できないフォルダ {len(row.blind):,} 個" if row.blind else "") + "）")
            self.stdout.flush()

        row = watch.watch(options["path"], stop=stop, ready=ready)
        if epoch and row.epoch != epoch[0]:
            self.stdout.write(f"別の監視（{row.host}、プロセス {row.pid}）に引き継がれたので終わります。")

    def do_index(self, options: dict[str, Any]) -> None:
        from hiroba.records import documents
        from hiroba.records.models import Scan

        roots = [options["path"]] if options["path"] else sorted(set(Scan.objects.values_list("root", flat=True)))
        for root in roots:
            report = documents.index(actor=ACTOR, path=root)
            for error in report.errors:
                self.stderr.write(f"{error['path']}: {error['reason']}")
            self.stdout.write(f"{report.root}: 索引 {report.indexed:,} 件、変更なし {report.unchanged:,} 件、"
                              f"削除 {report.removed:,} 件、読めなかったもの {len(report.errors):,} 件")
        self.stdout.write(f"検索の方式: {documents.engine()}")

    def do_register(self, options: dict[str, Any]) -> None:
        from hiroba.records import register
        from hiroba.records.models import RecordFile

        if options["register_action"] == "import":
            path = Path(options["file"])
            if not path.is_file():
                self.fail(f"ファイル {path} がありません。")
            result = register.register_import(actor=ACTOR, body=path.read_bytes(), filename=path.name)
            self.stdout.write(result.line())
            return
        qs = RecordFile.objects.all()
        department = self._department(options["department"])
        if department is not None:
            qs = qs.filter(department=department)
        Path(options["out"]).write_bytes(register.export(qs, options["format"]))
        self.stdout.write(f"{qs.count()} 件を {options['out']} に書き出しました。")

    def do_expiring(self, options: dict[str, Any]) -> None:
        from django.utils import timezone

        from hiroba.records import lifecycle

        today = timezone.localdate()
        year = options["year"] or (today.year if today.month >= 4 else today.year - 1)
        qs = lifecycle.expiring(year)
        department = self._department(options["department"])
        if department is not None:
            qs = qs.filter(department=department)
        for f in qs:
            flags = ("［保存継続］" if f.on_hold else "") + ("［申請中］" if f.pending else "")
            self.stdout.write(f"{f.department.name}\t{f.fiscal_year}\t{f.name}\t{f.expiry_date}\t"
                              f"{f.get_action_display()}{flags}")
        self.stdout.write(f"{qs.count()} 件")

    def do_notify(self, options: dict[str, Any]) -> None:
        from hiroba.records import lifecycle

        self.stdout.write(f"保存期間満了の通知: {lifecycle.expiry_notices_send(actor=ACTOR)} 通")

    def do_own(self, options: dict[str, Any]) -> None:
        from hiroba.records import own_records

        self.stdout.write(f"hiroba の記録を管理簿に登録しました: {own_records.sync(actor=ACTOR)} 件")

    def do_guideline(self, options: dict[str, Any]) -> None:
        from hiroba.records import guidelines

        if guidelines.current() is not None:
            self.stdout.write(f"施行中: {guidelines.current()}")
            return
        g = guidelines.guideline_create(actor=ACTOR, effective_on=date.today())
        guidelines.guideline_publish(actor=ACTOR, guideline=g)
        self.stdout.write(f"施行しました: {g}")
