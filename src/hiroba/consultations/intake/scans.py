"""Scanned paper (持参・郵送): a batch of scans becomes letters waiting for staff confirmation.

One letter per file, or — in a multi-page file — letters separated by blank pages or by barcode
separator sheets (`separators`; the sheet is dropped). Each letter
is read by OCR now and waits (要確認) on the side-by-side confirmation screen; it becomes a
submission only when staff confirm it. The scan is stored once as the immutable original and
linked to every letter cut from it. Queueing the same file again adds nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath

from django.utils import timezone
from django.utils.translation import gettext as _

from hiroba.consultations.intake import ocr
from hiroba.consultations.intake.models import Entry, Original, Source
from hiroba.consultations.intake.services import DUPLICATE, File, Hold, Incoming, Outcome, find, make_key, take
from hiroba.consultations.models import Case, Channel

SCAN_SUFFIXES = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}


@dataclass
class Batch:
    letters: int = 0  # letters found in the files (new and already queued)
    queued: list[Outcome] = field(default_factory=list)
    duplicate: int = 0
    held: list[Outcome] = field(default_factory=list)  # files that could not be read


def queue_file(case: Case, name: str, content: bytes, *, channel: str = Channel.POST, batch: Batch | None = None) -> Batch:
    batch = batch or Batch()
    digest = hashlib.sha256(content).hexdigest()
    scan = File(Original.Kind.SCAN, PurePath(name).name, content)
    now = timezone.now()
    try:
        if PurePath(name).suffix.lower() not in SCAN_SUFFIXES:
            raise ocr.OCRFailed(_("「%(name)s」はスキャン画像（PDF・TIFF・PNG・JPEG）ではありません。")
                                % {"name": PurePath(name).name[:80]})
        pages = ocr.load_pages(name, content)
    except ocr.OCRFailed as exc:
        outcome = take(Incoming(case=case, source=Source.SCAN, channel=channel, source_key=make_key("scan", case.pk, digest),
                                received_at=now, files=[scan], hold=Hold("ocr", str(exc)), subject=scan.name))
        return _count_held(batch, outcome)
    letters = ocr.split_letters(pages)
    if not letters:
        outcome = take(Incoming(case=case, source=Source.SCAN, channel=channel, source_key=make_key("scan", case.pk, digest),
                                received_at=now, files=[scan], subject=scan.name,
                                hold=Hold("blank", _("「%(name)s」のページはすべて白紙か区切りシートです。")
                                          % {"name": scan.name[:80]})))
        return _count_held(batch, outcome)
    stored = Original.objects.filter(case=case, kind=Original.Kind.SCAN, sha256=digest).first()
    todo: list[tuple[int, int]] = []
    for first, last in letters:
        batch.letters += 1
        if find(make_key("scan", case.pk, digest, first, last)) is not None:
            batch.duplicate += 1
        else:
            todo.append((first, last))
    # Read a few pages per worker at a time (all in parallel), then file those letters: a long
    # batch is filed as it goes, never all at the end.
    chunk: list[tuple[int, int]] = []
    for n, letter in enumerate(todo, start=1):
        chunk.append(letter)
        if n == len(todo) or sum(last - first + 1 for first, last in chunk) >= 2 * ocr.workers():
            for (first, last), result in zip(chunk, ocr.read_letters(pages, chunk), strict=True):
                stored = _file_letter(case, channel, scan, stored, digest, now, first, last, result, batch)
            chunk = []
    return batch


def _file_letter(case: Case, channel: str, scan: File, stored: Original | None, digest: str, now: datetime,
                 first: int, last: int, result: ocr.Result, batch: Batch) -> Original | None:
    """One letter of a scan into the queue (要確認); the scan's stored original, once it is."""
    item = Incoming(
        case=case, source=Source.SCAN, channel=channel, source_key=make_key("scan", case.pk, digest, first, last),
        received_at=now, subject=scan.name, review=True, ocr_text=result.text, ocr_words=result.words,
        ocr_confidence=result.confidence, pages=f"{first}" if first == last else f"{first}-{last}",
        files=[File(Original.Kind.PAGE, f"page-{first + i}.png", png, "image/png")
               for i, png in enumerate(result.page_images)] + ([] if stored else [scan]),
        shared=[stored] if stored else [],
    )
    if not result.text:
        item.hold = Hold("ocr_empty", _("文字を読み取れませんでした（手書き・薄い印字など）。原本を見て入力してください。"))
    outcome = take(item)
    if outcome.result == DUPLICATE:
        batch.duplicate += 1
        return stored
    batch.queued.append(outcome)
    return stored or outcome.entry.originals.filter(kind=Original.Kind.SCAN).first()


def _count_held(batch: Batch, outcome: Outcome) -> Batch:
    if outcome.result == DUPLICATE:
        batch.duplicate += 1
    else:
        batch.held.append(outcome)
    return batch


def letters_waiting(case: Case) -> int:
    return Entry.objects.filter(case=case, source=Source.SCAN, state="review").count()
