"""hiroba accounts review [--inactive-days N] [--format text|csv|json] [--strict]"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hiroba.accounts.queries import CODE_LABELS, account_review
from hiroba.core import tabular


class Command(BaseCommand):
    help = "職員アカウントの点検（長期未使用・二要素認証未設定・異動退職者の有効アカウント等）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        review = sub.add_parser("review", help="アカウント点検レポート")
        review.add_argument("--inactive-days", type=int, default=None,
                            help="この日数ログインのない職員を指摘（既定: HIROBA_ACCOUNT_REVIEW_INACTIVE_DAYS=90）")
        review.add_argument("--format", choices=["text", "csv", "json"], default="text")
        review.add_argument("--strict", action="store_true",
                            help="重大・警告の指摘があれば終了コード1（定期実行用）")

    def handle(self, *args: Any, **options: Any) -> None:
        report = account_review(inactive_days=options["inactive_days"])
        fmt = options["format"]
        if fmt == "json":
            self.stdout.write(json.dumps({
                "as_of": report.as_of.isoformat(), "inactive_days": report.inactive_days,
                "staff_total": report.staff_total, "staff_active": report.staff_active,
                "counts": report.counts(), "findings": [f.as_dict() for f in report.findings],
            }, ensure_ascii=False, indent=2))
        elif fmt == "csv":
            # like every table hiroba writes (core.tabular): BOM and CRLF for Excel, formulas guarded
            table = tabular.Table(
                columns=[tabular.Column(h) for h in ("重要度", "種類", "コード", "アカウント", "氏名", "内容")],
                rows=[[f.severity, CODE_LABELS.get(f.code, f.code), f.code, f.email, f.name, f.detail]
                      for f in report.findings])
            self.stdout.write(tabular.to_csv(table).decode("utf-8"), ending="")
        else:
            self.stdout.write(
                f"アカウント点検 基準日 {report.as_of:%Y-%m-%d}  職員 {report.staff_total}名（有効 {report.staff_active}）"
                f"  長期未使用の基準 {report.inactive_days}日"
            )
            if not report.findings:
                self.stdout.write("指摘事項はありません。")
            for f in report.findings:
                who = f.email + (f"（{f.name}）" if f.name else "")
                self.stdout.write(f"[{f.severity}] {CODE_LABELS.get(f.code, f.code)}: {who} — {f.detail}")
            counts = ", ".join(f"{CODE_LABELS.get(k, k)} {v}" for k, v in sorted(report.counts().items()))
            self.stdout.write(f"計 {len(report.findings)} 件" + (f"（{counts}）" if counts else ""))
        if options["strict"] and report.has_problems():
            sys.exit(1)
