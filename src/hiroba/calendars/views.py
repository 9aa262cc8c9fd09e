"""Public calendar pages, feeds and exports (no sign-in): school and family month/list views."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_GET, require_http_methods

from hiroba.calendars import exports, feeds, queries, services
from hiroba.calendars.forms import CombinationForm
from hiroba.calendars.models import Calendar, Combination, Event, School, fiscal_year_of
from hiroba.core import pagecache
from hiroba.core.errors import ServiceError

MONTH_PARAM = re.compile(r"^(\d{4})-(\d{2})$")


def _month(request: HttpRequest, calendars: Sequence[Calendar] = ()) -> tuple[int, int]:
    """The month asked for, else this month — unless the calendars hold nothing from this
    month on, in which case their last month with events (a finished school year stays
    readable instead of opening on an empty page)."""
    match = MONTH_PARAM.match(request.GET.get("month", ""))
    if match and 1 <= int(match.group(2)) <= 12 and 1900 < int(match.group(1)) < 2200:
        return int(match.group(1)), int(match.group(2))
    today = timezone.localdate()
    last = queries.last_event_day(calendars) if calendars else None
    if last is not None and last < today.replace(day=1):
        return last.year, last.month
    return today.year, today.month


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    if raw.isdigit() and 1900 < int(raw) < 2200:
        return int(raw)
    return fiscal_year_of(timezone.localdate())


def _shift(year: int, month: int, delta: int) -> str:
    index = year * 12 + (month - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _subscription(request: HttpRequest, *, label: str, feed_path: str, qr_path: str,
                  above: Sequence[Calendar] = ()) -> dict[str, Any]:
    https_url = request.build_absolute_uri(feed_path)
    webcal_url = "webcal://" + https_url.split("://", 1)[1]
    sub: dict[str, Any] = {
        "label": label, "url": https_url, "webcal": webcal_url, "qr": qr_path,
        "google": "https://calendar.google.com/calendar/render?" + urlencode({"cid": webcal_url}),
        "included": "・".join(c.label for c in above),
    }
    if any(c.audience == Calendar.Audience.SCHOOL for c in above):
        # The same feed without 全校, for a family that subscribes to 全校 on its own.
        sub["own_url"] = https_url + "?school_wide=0"
        sub["own_webcal"] = webcal_url + "?school_wide=0"
    return sub


def _above(calendar: Calendar, calendars: Sequence[Calendar]) -> list[Calendar]:
    """The calendars whose events a feed also carries (as queries.feed_calendars, from a list in hand)."""
    if calendar.audience == Calendar.Audience.SCHOOL:
        return []
    return [c for c in calendars if c.audience == Calendar.Audience.SCHOOL
            or (calendar.audience == Calendar.Audience.CLASS and c.audience == Calendar.Audience.GRADE
                and c.grade == calendar.grade)]


def _school(slug: str) -> School:
    return get_object_or_404(queries.public_schools(), slug=slug)


def _month_context(request: HttpRequest, calendars: Sequence[Calendar], schools: Sequence[School]) -> dict[str, Any]:
    year, month = _month(request, calendars)
    first, last = queries.month_bounds(year, month)
    items = queries.occurrences(calendars, first, last)
    return {
        "year": year, "month": month, "month_start": first,
        "weeks": queries.month_grid(year, month, items),
        "agenda": queries.group_by_day(items, first, last),
        "terms": queries.terms_between(schools, first, last),
        "prev_month": _shift(year, month, -1), "next_month": _shift(year, month, 1),
        "weekday_names": ["日", "月", "火", "水", "木", "金", "土"],
        "show_calendar_labels": len(calendars) > 1,
        "show_school_labels": len({c.school_id for c in calendars}) > 1,
    }


def _list_context(request: HttpRequest, calendars: Sequence[Calendar], schools: Sequence[School]) -> dict[str, Any]:
    fiscal_year = _year(request)
    first, last = date(fiscal_year, 4, 1), date(fiscal_year + 1, 3, 31)
    items = queries.occurrences(calendars, first, last)
    months: list[dict[str, Any]] = []
    for offset in range(12):
        index = fiscal_year * 12 + 3 + offset
        y, m = index // 12, index % 12 + 1
        m_first, m_last = queries.month_bounds(y, m)
        days = queries.group_by_day([o for o in items if o.start <= m_last and o.end >= m_first], m_first, m_last)
        months.append({"year": y, "month": m, "days": days})
    return {
        "fiscal_year": fiscal_year, "reiwa": fiscal_year - 2018, "months": months,
        "terms": queries.terms_between(schools, first, last),
        "prev_year": fiscal_year - 1, "next_year": fiscal_year + 1,
        "show_calendar_labels": len(calendars) > 1,
        "show_school_labels": len({c.school_id for c in calendars}) > 1,
        "has_items": bool(items),
    }


# --- pages ----------------------------------------------------------------------------------

@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "calendars/index.html", {"schools": queries.public_schools()})


@require_http_methods(["GET", "POST"])
def family(request: HttpRequest) -> HttpResponse:
    """A family picks its children's school/grade/class calendars once and gets one URL."""
    form = CombinationForm(request.POST if request.method == "POST" else None, initial={"calendars": request.GET.getlist("calendars")})
    if request.method == "POST" and form.is_valid():
        try:
            combination = services.combination_get_or_create(calendars=list(form.cleaned_data["calendars"]))
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            return HttpResponseRedirect(combination.get_absolute_url())
    selected = {str(v) for v in (form["calendars"].value() or [])}
    return render(request, "calendars/family.html", {
        "form": form, "schools": queries.public_schools(), "selected": selected,
    })


def _school_calendars(request: HttpRequest, school: School) -> tuple[list[Calendar], Calendar | None]:
    calendars = list(school.calendars.all())
    key = request.GET.get("cal", "")
    if key:
        chosen = next((c for c in calendars if c.key == key), None)
        if chosen is None:
            raise Http404
        return [chosen], chosen
    return calendars, None


@require_GET
def school(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(slug)
    calendars, chosen = _school_calendars(request, school)
    every = list(school.calendars.all())
    subscriptions = [
        _subscription(request, label=c.display_label, feed_path=c.feed_path(),
                      qr_path=reverse("calendars:calendar_qr", args=[school.slug, c.key]), above=_above(c, every))
        for c in every
    ]
    suffix = f"?cal={chosen.key}" if chosen else ""
    context = {
        "school": school, "calendars": school.calendars.all(), "chosen": chosen,
        "subscriptions": subscriptions, "view": "month",
        "list_url": reverse("calendars:school_list", args=[school.slug]) + suffix,
        **_month_context(request, calendars, [school]),
    }
    return render(request, "calendars/school_month.html", context)


@require_GET
def school_list(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(slug)
    calendars, chosen = _school_calendars(request, school)
    suffix = f"?cal={chosen.key}" if chosen else ""
    context = {"school": school, "calendars": school.calendars.all(), "chosen": chosen, "view": "list",
               "month_url": reverse("calendars:school", args=[school.slug]) + suffix,
               **_list_context(request, calendars, [school])}
    return render(request, "calendars/school_list.html", context)


def _combination(token: str) -> tuple[Combination, list[Calendar], list[School]]:
    combination = get_object_or_404(Combination, token=token)
    calendars = list(combination.calendars.filter(school__is_published=True).select_related("school")
                     .order_by("school__kind", "school__name", "sort_order"))
    if not calendars:
        raise Http404
    schools = list({c.school_id: c.school for c in calendars}.values())
    return combination, calendars, schools


def _combination_name(calendars: Sequence[Calendar]) -> str:
    return "・".join(str(c) for c in calendars)


@require_GET
def combination(request: HttpRequest, token: str) -> HttpResponse:
    combo, calendars, schools = _combination(token)
    subscription = _subscription(request, label="家族のカレンダー", feed_path=combo.feed_path(),
                                 qr_path=reverse("calendars:combination_qr", args=[combo.token]))
    context = {"combination": combo, "calendars": calendars, "schools": schools, "view": "month",
               "name": _combination_name(calendars), "subscription": subscription,
               "edit_url": reverse("calendars:family") + "?" + urlencode([("calendars", c.pk) for c in calendars]),
               "list_url": reverse("calendars:combination_list", args=[combo.token]),
               **_month_context(request, calendars, schools)}
    return render(request, "calendars/combination_month.html", context)


@require_GET
def combination_list(request: HttpRequest, token: str) -> HttpResponse:
    combo, calendars, schools = _combination(token)
    context = {"combination": combo, "calendars": calendars, "schools": schools, "view": "list",
               "name": _combination_name(calendars),
               "month_url": reverse("calendars:combination", args=[combo.token]),
               **_list_context(request, calendars, schools)}
    return render(request, "calendars/combination_list.html", context)


# --- feeds ----------------------------------------------------------------------------------

def _feed_response(request: HttpRequest, feed: feeds.Feed, filename: str) -> HttpResponse:
    """The feed, or 304 Not Modified when the client's ETag / Last-Modified still match."""
    modified = int(feed.last_modified.timestamp())
    not_modified = get_conditional_response(request, etag=feed.etag, last_modified=modified)
    response = not_modified or HttpResponse(feed.body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = feed.etag
    response["Last-Modified"] = http_date(modified)
    if not_modified is None:
        response["Content-Disposition"] = f"inline; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    patch_cache_control(response, public=True, max_age=900)
    return response


FEED_OFF = {"0", "no", "false", "off"}


def _feed_options(request: HttpRequest, calendar: Calendar) -> dict[str, bool]:
    """What a grade's or a class's feed carries besides its own events: ?school_wide=0 leaves out
    全校, ?grade=0 (a class) leaves out its 学年. Defaults: both included."""
    return {"school_wide": request.GET.get("school_wide", "1").lower() not in FEED_OFF,
            "grade": request.GET.get("grade", "1").lower() not in FEED_OFF}


def _feed_query(calendar: Calendar, options: dict[str, bool]) -> str:
    """The canonical query string of a feed's options ("" for the default feed)."""
    if calendar.audience == Calendar.Audience.SCHOOL:
        return ""
    off = [("school_wide", "0")] if not options["school_wide"] else []
    if calendar.audience == Calendar.Audience.CLASS and not options["grade"]:
        off.append(("grade", "0"))
    return "?" + urlencode(off) if off else ""


@pagecache.public_page("calendars")
@require_GET
def calendar_feed(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    school = _school(slug)
    calendar = get_object_or_404(school.calendars, key=key)
    options = _feed_options(request, calendar)
    calendars = queries.feed_calendars(calendar, **options)
    name = f"{school.name} {calendar.label}"
    included = "・".join(c.label for c in calendars[1:])
    description = f"{school.name}（{calendar.label}）の予定" + (f"（{included}の予定を含む）" if included else "")
    feed = feeds.build(
        name=name, description=description + f"。{school.name}が更新すると自動で反映されます。",
        calendars=calendars, primary=calendar,
        feed_url=request.build_absolute_uri(calendar.feed_path() + _feed_query(calendar, options)),
        page_url=request.build_absolute_uri(calendar.get_absolute_url()),
    )
    return _feed_response(request, feed, f"{school.slug}-{calendar.key}.ics")


@pagecache.public_page("calendars")
@require_GET
def school_feed(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(slug)
    feed = feeds.build(
        name=f"{school.name}（すべての予定）", description=f"{school.name}の全校・学年・学級の予定。",
        calendars=list(school.calendars.all()), feed_url=request.build_absolute_uri(),
        page_url=request.build_absolute_uri(school.get_absolute_url()),
    )
    return _feed_response(request, feed, f"{school.slug}.ics")


@pagecache.public_page("calendars")
@require_GET
def combination_feed(request: HttpRequest, token: str) -> HttpResponse:
    combo, calendars, _ = _combination(token)
    feed = feeds.build(
        name="家族の学校カレンダー", description=f"{_combination_name(calendars)}の予定。",
        calendars=calendars, feed_url=request.build_absolute_uri(),
        page_url=request.build_absolute_uri(combo.get_absolute_url()),
    )
    return _feed_response(request, feed, "family.ics")


def _qr_response(request: HttpRequest, feed_path: str, title: str) -> HttpResponse:
    webcal = "webcal://" + request.build_absolute_uri(feed_path).split("://", 1)[1]
    buffer = io.BytesIO()
    segno.make(webcal, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False, title=title,
                                       svgclass="qr", lineclass=None)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    patch_cache_control(response, public=True, max_age=86400)
    return response


@require_GET
def calendar_qr(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    school = _school(slug)
    calendar = get_object_or_404(school.calendars, key=key)
    return _qr_response(request, calendar.feed_path(), f"{school.name} {calendar.label} 購読用QRコード")


@require_GET
def combination_qr(request: HttpRequest, token: str) -> HttpResponse:
    combo, _, _ = _combination(token)
    return _qr_response(request, combo.feed_path(), "家族の学校カレンダー 購読用QRコード")


# --- exports --------------------------------------------------------------------------------

def _csv_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return response


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_GET
def school_csv(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(slug)
    events = Event.objects.filter(school=school).live().select_related("calendar__school").order_by(
        "start_date", "start_time", "id")
    return _csv_response(exports.events_csv(events), f"{school.slug}-events.csv")


@require_GET
def open_data(request: HttpRequest) -> HttpResponse:
    events = Event.objects.filter(school__is_published=True).live().select_related(
        "calendar__school", "school").order_by("start_date", "start_time", "id")
    return _csv_response(exports.open_data_csv(events, site_url=_site_url(request)), "event_list.csv")


@require_GET
def school_open_data(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(slug)
    events = Event.objects.filter(school=school).live().select_related("calendar__school", "school").order_by(
        "start_date", "start_time", "id")
    return _csv_response(exports.open_data_csv(events, site_url=_site_url(request)), f"{school.slug}_event_list.csv")
