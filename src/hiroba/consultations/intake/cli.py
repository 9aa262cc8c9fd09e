"""The intake subcommands of `hiroba consultation` (their output is a stable contract):

- ``mailbox SLUG [--maildir PATH]``: one pass; ``new N, duplicate N, held N`` then each held
  message's reason on its own line.
- ``submissions SLUG --format csv|jsonl``: every submission of the case (受付番号, channel,
  received time, state, text) on standard output.
- ``ocr SLUG FILE... [--channel post|hand|fax]`` (a FILE may be a folder of images): queue scanned
  letters; ``letters N`` (found), then
  how many were new, already queued, unreadable.
- ``formservice SLUG FILE --mapping NAME``: import a form-service export; ``new N, duplicate N, held N``.
- ``separator-sheet --out FILE``: write the separator sheet (PDF) to print and put between letters
  scanned in one go.

Help texts and errors follow the language (Japanese, English); the output lines do not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hiroba.consultations.intake import exports, formservice, mailbox, scans, separators, tasks
from hiroba.consultations.intake.models import FormMapping
from hiroba.consultations.models import Case, Channel
from hiroba.consultations.services import ConsultationError
from hiroba.core import tabular

ACTIONS = ("mailbox", "submissions", "ocr", "formservice", "separator-sheet")


def add_arguments(sub: Any) -> None:
    box = sub.add_parser("mailbox", help=gettext_lazy("案件のメールボックスを一回読み、メールを受け付ける"))
    box.add_argument("slug")
    box.add_argument("--maildir", default=None, help=gettext_lazy("このMaildirを読む（省略時は設定のメールボックス）"))
    subs = sub.add_parser("submissions",
                          help=gettext_lazy("案件のすべての提出を書き出す（受付番号・提出方法・受付日時・状態・意見）"))
    subs.add_argument("slug")
    subs.add_argument("--format", required=True, choices=["csv", "jsonl"])
    scan = sub.add_parser("ocr", help=gettext_lazy("スキャンした意見書をOCRにかけ、確認待ちに入れる"))
    scan.add_argument("slug")
    scan.add_argument("files", nargs="+", type=Path)
    scan.add_argument("--channel", default=Channel.POST, choices=[Channel.POST, Channel.HAND, Channel.FAX])
    form = sub.add_parser("formservice", help=gettext_lazy("フォームサービスの書き出し（CSV・Excel）を取り込む"))
    form.add_argument("slug")
    form.add_argument("file", type=Path)
    form.add_argument("--mapping", default="既定", help=gettext_lazy("保存した列の対応の名前"))
    sheet = sub.add_parser("separator-sheet", help=gettext_lazy("意見書の間にはさむ区切りシート（PDF）を書き出す"))
    sheet.add_argument("--out", required=True, type=Path)


def _case(slug: str) -> Case:
    case = Case.objects.filter(slug=slug).select_related("department").first()
    if case is None:
        raise CommandError(_("案件がありません: %(slug)s") % {"slug": slug})
    return case


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    action = options["action"]
    out = command.stdout
    if action == "separator-sheet":
        options["out"].write_bytes(separators.sheet_pdf())
        out.write(str(options["out"]))
        return
    case = _case(options["slug"])
    if action == "mailbox":
        try:
            result = tasks.read_one(case, options["maildir"])
        except mailbox.MailboxDown as exc:
            raise CommandError(_("メールボックスを読めませんでした（何も変えていません）: %(error)s") % {"error": exc}) from exc
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
            raise CommandError(_("OCRを実行できません: %(why)s") % {"why": why})
        batch = scans.Batch()
        files: list[Path] = []
        for path in options["files"]:  # a folder of images: one letter per file, in name order
            if path.is_dir():
                files.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(_("ファイルがありません: %(path)s") % {"path": path})
        for path in files:
            scans.queue_file(case, path.name, path.read_bytes(), channel=options["channel"], batch=batch)
        out.write(f"letters {batch.letters}")
        out.write(f"queued {len(batch.queued)}, duplicate {batch.duplicate}, held {len(batch.held)}")
        for outcome in batch.held:
            out.write(f"held: {outcome.entry.subject}: {outcome.reason}")
    elif action == "formservice":
        mapping = FormMapping.objects.filter(case=case, name=options["mapping"]).first()
        if mapping is None:
            raise CommandError(_("列の対応「%(name)s」がありません。職員画面の「フォームサービスの取込み」で保存してください。")
                               % {"name": options["mapping"]})
        export_path: Path = options["file"]
        if not export_path.is_file():
            raise CommandError(_("ファイルがありません: %(path)s") % {"path": export_path})
        try:
            imported = formservice.import_export(case, mapping, export_path.name, export_path.read_bytes())
        except ConsultationError as exc:
            raise CommandError(_("取り込めませんでした（何も登録していません）: %(error)s") % {"error": exc}) from exc
        out.write(f"new {imported.new}, duplicate {imported.duplicate}, held {len(imported.held)}")
        for outcome in imported.held:
            out.write(f"held: {outcome.entry.subject}: {outcome.reason}")
