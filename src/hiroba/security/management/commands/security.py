"""hiroba security … — the register from the command line.

    hiroba security site add URL --name NAME --department DEPT
    hiroba security import FILE --site URL [--format zap-json|zap-xml|wapiti-json|csv]
    hiroba security findings --site URL --format csv|json
    hiroba security report --site URL --format pdf|xlsx --out PATH
    hiroba security expire          # reopen findings whose risk acceptance has lapsed
    hiroba security remind          # e-mail the reminders due today (once a day)
    hiroba security posture         # record hiroba's own account review and audit-chain check
    hiroba security daily           # all three above: run it from cron / a systemd timer
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from hiroba.core.actors import Actor
from hiroba.core.commands import ActionCommand


class Command(ActionCommand):
    help = "情報セキュリティの台帳（サイトの登録、診断結果の取込、検出事項の書き出し、定期処理）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        site = sub.add_parser("site", help="サイトの登録")
        site_sub = site.add_subparsers(dest="site_action", required=True)
        add = site_sub.add_parser("add", help="サイトを登録する")
        add.add_argument("url")
        add.add_argument("--name", required=True)
        add.add_argument("--department", required=True, help="所管所属の名称（例: 情報システム課）またはコード")
        add.add_argument("--personal-data", action="store_true", help="個人情報を保有する")

        imp = sub.add_parser("import", help="診断結果の取込")
        imp.add_argument("file")
        imp.add_argument("--site", required=True)
        imp.add_argument("--format", choices=["zap-json", "zap-xml", "wapiti-json", "csv"], default=None)
        imp.add_argument("--performed-on", type=date.fromisoformat, default=None, help="診断日（YYYY-MM-DD）")
        imp.add_argument("--allow-empty", action="store_true", help="検出事項のない報告書も取り込む（全件解消）")

        findings = sub.add_parser("findings", help="サイトの検出事項の書き出し")
        findings.add_argument("--site", required=True)
        findings.add_argument("--format", choices=["csv", "json"], default="csv")

        report = sub.add_parser("report", help="結果報告書（PDF / Excel）")
        report.add_argument("--site", required=True)
        report.add_argument("--format", choices=["pdf", "xlsx"], default="pdf")
        report.add_argument("--out", required=True)

        sub.add_parser("expire", help="期限を過ぎたリスク受容の検出事項を未対応に戻す")
        sub.add_parser("remind", help="期限の近い・過ぎた検出事項、未受講、未誓約の督促メール")
        sub.add_parser("posture", help="hiroba 自身の点検（アカウント点検・監査ログの検証）を記録")
        sub.add_parser("daily", help="expire・remind・posture をまとめて実行")

    def do_site(self, options: dict[str, Any]) -> None:
        from hiroba.security import services

        department = services.department_by_name(options["department"])
        system = services.system_create(actor=Actor.system("cli"), url=options["url"], name=options["name"],
                                        department=department, holds_personal_data=options["personal_data"])
        self.stdout.write(f"{system.url} を登録しました（{department.name}、ID {system.pk}）。")

    def do_import(self, options: dict[str, Any]) -> None:
        from hiroba.security import services

        path = Path(options["file"])
        if not path.is_file():
            self.fail(f"ファイル {path} がありません。")
        system = services.system_by_url(options["site"])
        result = services.import_path(actor=Actor.system("cli"), system=system, path=str(path), fmt=options["format"],
                                      performed_on=options["performed_on"], allow_empty=options["allow_empty"])
        self.stdout.write(result.line())
        self.stdout.write(str(result.round.pk))

    def do_findings(self, options: dict[str, Any]) -> None:
        from hiroba.security import exports, services

        system = services.system_by_url(options["site"])
        body = exports.findings_csv(system) if options["format"] == "csv" else exports.findings_json(system)
        self.stdout.write(body.decode("utf-8"), ending="")

    def do_report(self, options: dict[str, Any]) -> None:
        from hiroba.security import exports, services

        system = services.system_by_url(options["site"])
        body = exports.report_pdf(system) if options["format"] == "pdf" else exports.report_xlsx(system)
        Path(options["out"]).write_bytes(body)
        self.stdout.write(options["out"])

    def do_expire(self, options: dict[str, Any]) -> None:
        from hiroba.security import services

        self.stdout.write(f"リスク受容の期限切れで未対応に戻した検出事項: {services.risk_expire(actor='system')} 件")

    def do_remind(self, options: dict[str, Any]) -> None:
        from hiroba.security import reminders

        sent = reminders.reminders_send(actor="system")
        self.stdout.write(f"督促メール: {sent} 通")

    def do_posture(self, options: dict[str, Any]) -> None:
        from hiroba.security import posture

        check = posture.posture_check(actor="system")
        self.stdout.write(f"アカウント点検 重大・警告 {check.account_problems} 件、監査ログ "
                          f"{'OK' if check.chain_ok else 'NG ' + check.chain_problem}（{check.chain_entries} 件）")

    def do_daily(self, options: dict[str, Any]) -> None:
        self.do_expire(options)
        self.do_remind(options)
        self.do_posture(options)
