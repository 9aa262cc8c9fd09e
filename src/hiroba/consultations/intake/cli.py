"""The intake subcommands of `hiroba consultation` (their output is a stable contract):

- ``mailbox SLUG [--maildir PATH]``: one pass; ``new N, duplicate N, held N`` then each held
  message's reason on its own line.
- ``submissions SLUG --format csv|jsonl``: every submission of the case (受付番号, channel,
  received time, state, text) on standard output.
- ``ocr SLUG FILE... [--channel post|hand|fax]`` (a FILE may be a folder of images): queue scanned
  letters; ``letters N`` (found), then
  how many were new, already queued, unreadable.
- ``formservice SLUG FILE --mapping NAME``: import a form-service export; ``new N, duplicate N, held N``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hiroba.consultations.intake import exports, formservice, mailbox, scans, tasks
from hiroba.consultations.intake.models import FormMapping
from hiroba.consultations.models import Case, Channel
from hiroba.consultations.services import ConsultationError
from hiroba.core import tabular

ACTIONS = ("mailbox", "submissions", "ocr", "formservice")


def add_arguments(sub: Any) -> None:
    box = sub.add_parser("mailbox", help="案件のメールボックスを一回読み、メールを受け付ける")
    box.add_argument("slug")
    box.add_argument("--maildir", default=None, help="このMaildirを読む（省略時は設定のメールボックス）")
    subs = sub.add_parser("submissions", help="案件のすべての提出を書き出す（受付番号・提出方法・受付日時・状態・意見）")
    subs.add_argument("slug")
    subs.add_argument("--format", required=True, choices=["csv", "jsonl"])
    scan = sub.add_parser("ocr", help="スキャンした意見書をOCRにかけ、確認待ちに入れる")
    scan.add_argument("slug")
    scan.add_argument("files", nargs="+", type=Path)
    scan.add_argument("--channel", default=Channel.POST, choices=[Channel.POST, Channel.HAND, Channel.FAX])
    form = sub.add_parser("formservice", help="フォームサービスの書き出し（CSV・Excel）を取り込む")
    form.add_argument("slug")
    form.add_argument("file", type=Path)
    form.add_argument("--mapping", default="既定", help="保存した列の対応の名前")


def _case(slug: str) -> Case:
    case = Case.objects.filter(slug=slug).select_related("department").first()
    if case is None:
        raise CommandError(f"案件がありません: {slug}")
    return case


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    case = _case(options["slug"])
    action = options["action"]
    out = command.stdout
    if action == "mailbox":
        try:
            result = tasks.read_one(case, options["maildir"])
        except mailbox.MailboxDown as exc:
            raise CommandError(f"メールボックスを読めませんでした（何も変えていません）: {exc}") from exc
        out.write(f"new {result.new}, duplicate {result.duplicate}, held {len(result.held)}")
        for outcome in result.held:
            out.write(f"held: {outcome.entry.message_id or outcome.entry.subject or outcome.entry.pk}: {outcome.reason}")
    elif action == "submissions":
        table = exports.submissions_table(case)
        if options["format"] == "csv":
            out.write(tabular.to_csv(table).decode("utf-8"), ending="")
        else:
            for record in tabular.records(table):
                out.write(json.dumps(record, ensure_ascii=False))
    elif action == "ocr":
        from hiroba.consultations.intake import ocr

        if why := ocr.available():
            raise CommandError(f"OCRを実行できません: {why}")
        batch = scans.Batch()
        files: list[Path] = []
        for path in options["files"]:  # a folder of images: one letter per file, in name order
            if path.is_dir():
                files.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"ファイルがありません: {path}")
        for path in files:
            scans.queue_file(case, path.name, path.read_bytes(), channel=options["channel"], batch=batch)
        out.write(f"letters {batch.letters}")
        out.write(f"queued {len(batch.queued)}, duplicate {batch.duplicate}, held {len(batch.held)}")
        for outcome in batch.held:
            out.write(f"held: {outcome.entry.subject}: {outcome.reason}")
    elif action == "formservice":
        mapping = FormMapping.objects.filter(case=case, name=options["mapping"]).first()
        if mapping is None:
            raise CommandError(f"列の対応「{options['mapping']}」がありません。職員画面の「フォームサービスの取込み」で保存してください。")
        export_path: Path = options["file"]
        if not export_path.is_file():
            raise CommandError(f"ファイルがありません: {export_path}")
        try:
            imported = formservice.import_export(case, mapping, export_path.name, export_path.read_bytes())
        except ConsultationError as exc:
            raise CommandError(f"取り込めませんでした（何も登録していません）: {exc}") from exc
        out.write(f"new {imported.new}, duplicate {imported.duplicate}, held {len(imported.held)}")
        for outcome in imported.held:
            out.write(f"held: {outcome.entry.subject}: {outcome.reason}")
