"""Staff pages (/staff/calendars/): a school's calendars, events, terms and the Excel/CSV import.

Schools outside the user's departments are 404; a READ role may look, HANDLE or above may change.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hiroba.calendars import exports, importing, recurrence, sample, services
from hiroba.calendars.forms import ApplyForm, CalendarForm, CancelForm, EventForm, ImportForm, TermForm
from hiroba.calendars.models import CHANGE_PERMISSION, Event, ImportBatch, School, Term, fiscal_year_of
from hiroba.calendars.queries import schools_for
from hiroba.core.actors import Actor
from hiroba.core.errors import ServiceError
from hiroba.core.paging import page_of

#: Rows per page of a staff list (a school's year of events, the list of schools).
PAGE_SIZE = 100


def _staff(request: HttpRequest) -> Actor:
    return Actor.staff(request.user)


def _school(request: HttpRequest, slug: str, *, change: bool = False) -> School:
    school = get_object_or_404(schools_for(request.user), slug=slug)
    if change and not request.user.has_perm(CHANGE_PERMISSION, school):
        raise PermissionDenied("この学校のカレンダーを編集する権限がありません")
    return school


def _event(school: School, pk: int) -> Event:
    return get_object_or_404(Event.objects.select_related("calendar__school", "school"), pk=pk, school=school)


def _download(body: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return response


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    schools = schools_for(request.user).annotate(
        calendar_count=Count("calendars", distinct=True),
        event_count=Count("events", filter=~Q(events__status=Event.Status.CANCELLED), distinct=True),
    ).order_by("kind", "name")
    return render(request, "calendars/staff/index.html", {"schools": page_of(request, schools, PAGE_SIZE)})


@require_GET
def template_xlsx(request: HttpRequest) -> HttpResponse:
    return _download(sample.as_xlsx(), "school_calendar_template.xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@require_GET
def template_csv(request: HttpRequest) -> HttpResponse:
    return _download(sample.as_csv(), "school_calendar_template.csv", "text/csv; charset=utf-8")


@require_GET
def school_detail(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(request, slug)
    raw = request.GET.get("year", "")
    fiscal_year = int(raw) if raw.isdigit() and 1900 < int(raw) < 2200 else fiscal_year_of(timezone.localdate())
    events = (Event.objects.filter(school=school, start_date__gte=f"{fiscal_year}-04-01",
                                   start_date__lte=f"{fiscal_year + 1}-03-31")
              .select_related("calendar__school").order_by("start_date", "start_time", "id"))
    return render(request, "calendars/staff/school.html", {
        "school": school, "calendars": school.calendars.all(), "events": page_of(request, events, PAGE_SIZE),
        "terms": school.terms.filter(fiscal_year=fiscal_year), "fiscal_year": fiscal_year,
        "imports": page_of(request, school.imports.all(), per_page=5, param="imports"), "can_change": request.user.has_perm(CHANGE_PERMISSION, school),
    })


@require_GET
def events_csv(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(request, slug)
    events = Event.objects.filter(school=school).select_related("calendar__school").order_by(
        "start_date", "start_time", "id")
    return _download(exports.events_csv(events), f"{school.slug}-events.csv", "text/csv; charset=utf-8")


@require_http_methods(["GET", "POST"])
def event_new(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(request, slug, change=True)
    form = EventForm(request.POST if request.method == "POST" else None, school=school,
                     initial={"calendar": school.calendars.filter(audience="school").first()})
    if request.method == "POST" and form.is_valid():
        event = services.event_create(actor=_staff(request), data=form.event_data())
        messages.success(request, _("「%(title)s」を登録しました。購読しているカレンダーに反映されます。") % {"title": event.title})
        return HttpResponseRedirect(reverse("calendars_staff:event", args=[school.slug, event.pk]))
    return render(request, "calendars/staff/event_form.html", {"school": school, "form": form, "event": None})


@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    school = _school(request, slug, change=True)
    event = _event(school, pk)
    form = EventForm(request.POST if request.method == "POST" else None, school=school, initial=EventForm.initial_for(event))
    if request.method == "POST" and form.is_valid():
        status = Event.Status.CANCELLED if event.is_cancelled else None
        changed = services.event_update(actor=_staff(request), event=event, data=form.event_data(status=status))
        messages.success(request, _("変更を保存しました。") if changed else _("変更はありませんでした。"))
        return HttpResponseRedirect(reverse("calendars_staff:event", args=[school.slug, event.pk]))
    return render(request, "calendars/staff/event_form.html", {"school": school, "form": form, "event": event})


@require_GET
def event_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    school = _school(request, slug)
    event = _event(school, pk)
    return render(request, "calendars/staff/event_detail.html", {
        "school": school, "event": event, "revisions": event.revisions.select_related("import_batch"),
        "repeat_text": recurrence.describe(event.rrule, event.off_day),
        "can_change": request.user.has_perm(CHANGE_PERMISSION, school),
        "transitions": Event.workflow.available(event, request.user),
    })


@require_http_methods(["GET", "POST"])
def event_cancel(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    school = _school(request, slug, change=True)
    event = _event(school, pk)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.event_cancel(actor=_staff(request), event=event, reason=form.cleaned_data["reason"])
        messages.success(request, _("「%(title)s」を中止にしました。購読者のカレンダーでも中止と表示されます。") % {"title": event.title})
        return HttpResponseRedirect(reverse("calendars_staff:event", args=[school.slug, event.pk]))
    return render(request, "calendars/staff/event_cancel.html", {"school": school, "event": event, "form": form})


@require_POST
def event_restore(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    school = _school(request, slug, change=True)
    event = _event(school, pk)
    services.event_restore(actor=_staff(request), event=event)
    messages.success(request, _("「%(title)s」の中止を取り消しました。") % {"title": event.title})
    return HttpResponseRedirect(reverse("calendars_staff:event", args=[school.slug, event.pk]))


@require_http_methods(["GET", "POST"])
def calendar_new(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(request, slug, change=True)
    form = CalendarForm(request.POST if request.method == "POST" else None, school=school)
    if request.method == "POST" and form.is_valid():
        try:
            calendar = services.calendar_create(
                actor=_staff(request), school=school, audience=form.cleaned_data["audience"],
                grade=form.cleaned_data["grade"], class_name=form.cleaned_data["class_name"])
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("カレンダー「%(label)s」を作りました。") % {"label": calendar.label})
            return HttpResponseRedirect(reverse("calendars_staff:school", args=[school.slug]))
    return render(request, "calendars/staff/calendar_form.html", {"school": school, "form": form})


@require_http_methods(["GET", "POST"])
def terms(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(request, slug)
    can_change = request.user.has_perm(CHANGE_PERMISSION, school)
    form = TermForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.term_save(actor=_staff(request), school=school, fiscal_year=fiscal_year_of(data["start_date"]),
                                   name=data["name"].strip(), start_date=data["start_date"], end_date=data["end_date"])
            except ServiceError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, _("学期「%(name)s」を保存しました。") % {"name": data["name"]})
                return HttpResponseRedirect(reverse("calendars_staff:terms", args=[school.slug]))
    return render(request, "calendars/staff/terms.html", {
        "school": school, "terms": school.terms.order_by("-fiscal_year", "start_date"), "form": form,
        "can_change": can_change,
    })


@require_POST
def term_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    school = _school(request, slug, change=True)
    term = get_object_or_404(Term, pk=pk, school=school)
    services.term_delete(actor=_staff(request), term=term)
    messages.success(request, _("学期「%(name)s」を削除しました。") % {"name": term.name})
    return HttpResponseRedirect(reverse("calendars_staff:terms", args=[school.slug]))


@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(request, slug, change=True)
    form = ImportForm(*((request.POST, request.FILES) if request.method == "POST" else ()))
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.import_preview(actor=_staff(request), school=school, filename=upload.name,
                                            content=upload.read())
        except ServiceError as exc:  # FileRejected: beside the file field
            exc.add_to_form(form)
        else:
            return HttpResponseRedirect(reverse("calendars_staff:import_preview", args=[school.slug, batch.pk]))
    return render(request, "calendars/staff/import_upload.html", {
        "school": school, "form": form, "columns": importing.column_help(),
        "labels": [c.label for c in school.calendars.all()],
    })


def _counts(plan: importing.Plan) -> dict[str, int]:
    events = [r for r in plan.rows if r.row["kind"] == "event"]
    counts = {a: sum(1 for r in events if r.action == a) for a in ("create", "update", "unchanged")}
    counts["terms"] = sum(1 for r in plan.rows if r.row["kind"] == "term" and r.action != "unchanged")
    return counts


def _batch(request: HttpRequest, slug: str, pk: int) -> tuple[School, ImportBatch]:
    school = _school(request, slug, change=True)
    return school, get_object_or_404(ImportBatch.objects.select_related("school"), pk=pk, school=school)


def _preview_page(request: HttpRequest, school: School, batch: ImportBatch, form: ApplyForm,
                  apply_errors: list[dict[str, Any]] | None = None) -> HttpResponse:
    plan = importing.plan(school, batch.rows) if batch.state == ImportBatch.State.PREVIEW and not batch.errors else None
    errors = batch.errors + (plan.errors if plan else []) + (apply_errors or [])
    return render(request, "calendars/staff/import_preview.html", {
        "school": school, "batch": batch, "plan": plan, "errors": errors, "form": form,
        "counts": _counts(plan) if plan else {},
        "transitions": {t.name: t for t in ImportBatch.workflow.available(batch, request.user)},
    })


@require_GET
def import_preview(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    school, batch = _batch(request, slug, pk)
    return _preview_page(request, school, batch, ApplyForm())


@require_POST
def import_apply(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    school, batch = _batch(request, slug, pk)
    form = ApplyForm(request.POST)
    if not form.is_valid():
        return _preview_page(request, school, batch, form)
    try:
        batch = services.import_apply(actor=_staff(request), batch=batch,
                                      cancel_missing=form.cleaned_data["cancel_missing"])
    except services.ImportNotApplicable as exc:
        return _preview_page(request, school, batch, form, exc.errors)
    messages.success(request, _("反映しました: 新規 %(created)s 件、更新 %(updated)s 件、"
                                "変更なし %(unchanged)s 件、中止 %(cancelled_missing)s 件、学期 %(terms)s 件。") % batch.summary)
    return HttpResponseRedirect(reverse("calendars_staff:import_preview", args=[school.slug, batch.pk]))


@require_POST
def import_discard(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    school, batch = _batch(request, slug, pk)
    services.import_discard(actor=_staff(request), batch=batch)
    messages.info(request, _("取込を破棄しました。何も反映されていません。"))
    return HttpResponseRedirect(reverse("calendars_staff:school", args=[school.slug]))
