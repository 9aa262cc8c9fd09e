"""The intake queue for staff (/staff/consultations/<slug>/channels/): every channel in one list,
the side-by-side confirmation of scanned letters and held mail, the originals, the uploads."""

from __future__ import annotations

from collections import Counter
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hiroba.consultations import forms as consultation_forms
from hiroba.consultations import queries
from hiroba.consultations.intake import conf, formservice, ocr, scans, separators, services, tasks
from hiroba.consultations.intake.forms import ConfirmForm, MappingForm, RejectForm, ScanUploadForm
from hiroba.consultations.intake.models import Entry, FormMapping, Original, State
from hiroba.consultations.models import Case, Channel
from hiroba.consultations.services import ConsultationError
from hiroba.core import charts
from hiroba.core.paging import page_of

PAGE = 200


def _case(request: HttpRequest, slug: str, perm: str = "consultations.view_case") -> Case:
    case = get_object_or_404(queries.cases_for(request.user), slug=slug)
    if not request.user.has_perm(perm, case):
        raise PermissionDenied(_("この操作の権限がありません。"))
    return case


def daily_counts(case: Case) -> tuple[list[str], list[tuple[str, list[int]]]]:
    """(channels, [(day, counts per channel)]) of everything that arrived, by the day it arrived."""
    entries = Entry.objects.filter(case=case).values_list("received_at", "channel")
    web = case.submissions.filter(intake_entry__isnull=True).values_list("received_at", "channel")
    counts: Counter[tuple[date, str]] = Counter()
    for received_at, channel in [*entries, *web]:
        counts[(timezone.localdate(received_at), channel)] += 1
    channels = [c for c in Channel.values if any(ch == c for _, ch in counts)]
    days = sorted({d for d, _ in counts})
    return channels, [(f"{d:%Y-%m-%d}", [counts[(d, c)] for c in channels]) for d in days]


def queue(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug)
    entries = Entry.objects.filter(case=case).select_related("submission", "decided_by")
    state = request.GET.get("state", "")
    channel = request.GET.get("channel", "")
    if state in State.values:
        entries = entries.filter(state=state)
    if channel in Channel.values:
        entries = entries.filter(channel=channel)
    channels, days = daily_counts(case)
    labels = [case.channel_label(c) for c in channels]
    chart = charts.stacked_bar_chart(_("提出方法別・日別の件数"), [(d, c) for d, c in days[-31:]], labels,
                                     chart_id="intake-daily") if days else ""
    page = page_of(request, entries, PAGE)
    return render(request, "consultations/intake/queue.html", {
        "case": case, "page": page, "entries": page.object_list, "total": page.paginator.count, "state": state, "channel": channel,
        "states": State.choices, "channels": [(c, case.channel_label(c)) for c in Channel.values if c != Channel.UNKNOWN],
        "days": days, "day_channels": labels, "chart": chart,
        "waiting": Entry.objects.filter(case=case, state=State.REVIEW).count(), "mailbox": tasks.last_pass(case),
        "can_change": request.user.has_perm("consultations.change_case", case),
    })


def _initial(entry: Entry) -> dict[str, object]:
    fields = entry.fields or {}
    received = timezone.localtime(entry.received_at).replace(second=0, microsecond=0, tzinfo=None)
    return {
        "channel": entry.channel, "received_at": received, "text": entry.text or entry.ocr_text,
        "name": fields.get("name", ""), "address": fields.get("address", ""), "email": fields.get("email", ""),
        "phone": fields.get("phone", ""), "category": fields.get("category", ""),
    }


def highlighted(entry: Entry) -> list[list[tuple[str, bool]]]:
    """The OCR text line by line as (word, low confidence) for the screen."""
    low = conf.get("CONSULTATIONS_INTAKE_OCR_LOW_CONFIDENCE")
    lines: dict[int, list[tuple[str, bool]]] = {}
    for word, confidence, line in entry.ocr_words or []:
        lines.setdefault(int(line), []).append((str(word), float(confidence) < low))
    return [lines[k] for k in sorted(lines)]


def entry_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    case = _case(request, slug)
    entry = get_object_or_404(Entry.objects.select_related("submission", "decided_by"), case=case, pk=pk)
    can_change = request.user.has_perm("consultations.change_case", case)
    form = ConfirmForm(request.POST or None, case=case, entry=entry, initial=_initial(entry))
    reject = RejectForm(prefix="reject")
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(_("確定する権限がありません。"))
        if form.is_valid():
            data = form.cleaned_data
            try:
                submission = services.entry_confirm(actor=request.user, entry=entry, data=services.Confirmation(
                    text=data["text"], channel=data["channel"], received_at=consultation_forms.aware(data["received_at"]),
                    postmark_date=data.get("postmark_date"), name=data["name"], address=data["address"],
                    category=data["category"], email=data.get("email", ""), phone=data.get("phone", ""),
                    section=data.get("section"), accept_late=bool(data.get("accept_late")), note=data.get("note", "")))
            except ConsultationError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, _("受付番号 %(number)s で確定しました。") % {"number": submission.receipt_number})
                following = Entry.objects.filter(case=case, state=State.REVIEW).order_by("received_at", "id").first()
                if following is not None:
                    return redirect("consultations_staff:intake:entry", slug=case.slug, pk=following.pk)
                return redirect("consultations_staff:intake:queue", slug=case.slug)
        status = 400
    originals = list(entry.originals.all())
    return render(request, "consultations/intake/entry.html", {
        "case": case, "entry": entry, "form": form, "reject": reject, "can_change": can_change and entry.is_open,
        "pages": [o for o in originals if o.kind == Original.Kind.PAGE],
        "files": [o for o in originals if o.kind != Original.Kind.PAGE],
        "ocr_lines": highlighted(entry), "low_confidence": conf.get("CONSULTATIONS_INTAKE_OCR_LOW_CONFIDENCE"),
    }, status=status)


@require_POST
def entry_reject(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    case = _case(request, slug, "consultations.change_case")
    entry = get_object_or_404(Entry, case=case, pk=pk)
    form = RejectForm(request.POST, prefix="reject")
    if not form.is_valid():
        messages.error(request, _("受け付けない理由を入力してください。"))
        return redirect("consultations_staff:intake:entry", slug=case.slug, pk=entry.pk)
    try:
        services.entry_reject(actor=request.user, entry=entry, reason=form.cleaned_data["reason"])
    except ConsultationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("受け付けないことにしました（取込みの記録と原本は残ります）。"))
    return redirect("consultations_staff:intake:queue", slug=case.slug)


def original(request: HttpRequest, slug: str, pk: int) -> FileResponse:
    """An original as it arrived: page images shown inline, everything else only as a download."""
    case = _case(request, slug)
    item = get_object_or_404(Original, case=case, pk=pk)
    inline = item.kind == Original.Kind.PAGE and item.content_type == "image/png"
    response = FileResponse(item.file.open("rb"), as_attachment=not inline, filename=item.name,
                            content_type=item.content_type if inline else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def separator_sheet(request: HttpRequest, slug: str) -> HttpResponse:
    """The separator sheet to print and put between letters scanned in one go (a PDF)."""
    _case(request, slug)
    response = HttpResponse(separators.sheet_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="hiroba-separator-sheet.pdf"'
    return response


def scan_upload(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug, "consultations.change_case")
    form = ScanUploadForm(request.POST or None)
    status = 200
    if request.method == "POST":
        files = request.FILES.getlist("files")
        limit = conf.get("CONSULTATIONS_INTAKE_MAX_ATTACHMENT_BYTES") * 5
        if why := ocr.available():
            form.add_error(None, _("OCRを実行できません: %(why)s") % {"why": why})
        elif not files:
            form.add_error(None, _("スキャンしたファイルを選んでください。"))
        elif any(f.size > limit for f in files):
            form.add_error(None, _("ファイルが大きすぎます（1ファイル %(limit)dMB まで）。") % {"limit": limit // (1024 * 1024)})
        elif form.is_valid():
            batch = scans.Batch()
            for upload in files:
                scans.queue_file(case, upload.name or "", upload.read(), channel=form.cleaned_data["channel"], batch=batch)
            messages.success(request, _("%(letters)d通の意見書が見つかりました（新たに確認待ち %(queued)d通、"
                                        "取込み済み %(duplicate)d通、読めなかったファイル %(held)d件）。") % {
                "letters": batch.letters, "queued": len(batch.queued), "duplicate": batch.duplicate,
                "held": len(batch.held)})
            return redirect("consultations_staff:intake:queue", slug=case.slug)
        status = 400
    return render(request, "consultations/intake/scan_upload.html", {"case": case, "form": form}, status=status)


def form_import(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug, "consultations.change_case")
    mappings = list(FormMapping.objects.filter(case=case))
    current = mappings[0] if mappings else None
    initial = {"name": current.name, "row_key": current.row_key,
               **{f"col_{k}": v for k, v in current.columns.items()}} if current else {}
    form = MappingForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if form.is_valid():
            try:
                mapping = formservice.mapping_save(actor=request.user, case=case, name=form.cleaned_data["name"],
                                                   row_key=form.cleaned_data["row_key"], columns=form.columns())
                if upload is not None:
                    result = formservice.import_export(case, mapping, upload.name or "", upload.read(), actor=request.user)
                    messages.success(request, _("取り込みました: 新規 %(new)d件、取込み済み %(duplicate)d件、"
                                                "要確認 %(held)d件。") % {
                        "new": result.new, "duplicate": result.duplicate, "held": len(result.held)})
                else:
                    messages.success(request, _("列の対応「%(name)s」を保存しました。") % {"name": mapping.name})
            except ConsultationError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("consultations_staff:intake:queue", slug=case.slug)
        status = 400
    return render(request, "consultations/intake/form_import.html", {
        "case": case, "form": form, "mappings": mappings,
    }, status=status)

