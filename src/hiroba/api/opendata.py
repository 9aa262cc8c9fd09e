"""/opendata/: every dataset hiroba publishes, its formats and licence, and a DCAT catalogue
(/opendata/catalog.json) that open-data portals harvest.

The public-comment results are read from the stored, approved publications (the latest version
of each case), never from the live rows; the idea contest's results from the published
results' own table; the school events are the calendars' 自治体標準オープンデータセット
「イベント一覧」 CSV."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from hiroba.api import conf
from hiroba.calendars.exports import municipality
from hiroba.consultations import exports as consultation_exports
from hiroba.consultations import queries as consultation_queries
from hiroba.consultations.models import Case, PublishedResult
from hiroba.core import tabular
from hiroba.proposals import exports as proposal_exports
from hiroba.proposals import queries as proposal_queries

# 意見公募の結果: one row per published row, with its case's columns repeated.
COMMENT_COLUMNS = [
    tabular.Column("案件ID", "case_id", width=24), tabular.Column("案件", "case", width=40),
    tabular.Column("担当所属", "department", width=20), tabular.Column("公表日", "reported_on"),
    tabular.Column("版", "version"), tabular.Column("No.", "no"), tabular.Column("該当箇所", "section", width=20),
    tabular.Column("意見", "opinion", width=60), tabular.Column("区の考え方", "response", width=60),
    tabular.Column("同一の意見の件数", "identical_count"), tabular.Column("提出者数", "submitters"),
    tabular.Column("意見件数", "items_total"), tabular.Column("提出方法", "channels", width=30),
    tabular.Column("提出方法別の提出者数", "by_channel", width=30),
]
CALL_COLUMNS = [tabular.Column("募集ID", "call", width=24), tabular.Column("募集", "call_title", width=40)]


@dataclass(frozen=True)
class Dataset:
    key: str
    title: str
    description: str
    distributions: list[tuple[str, str, str]]  # (format, media type, url)


def _latest_results() -> list[tuple[Case, PublishedResult]]:
    """Every case with published results, with its latest version (oldest case first)."""
    cases = list(consultation_queries.public_cases().filter(pk__in=PublishedResult.objects.values("case")).order_by("period_start", "pk"))
    latest = dict(PublishedResult.objects.filter(case__in=cases).values("case").annotate(v=Max("version"))
                  .values_list("case", "v"))
    results = {(r.case_id, r.version): r for r in PublishedResult.objects.filter(case__in=cases)}
    return [(c, results[(c.pk, latest[c.pk])]) for c in cases if c.pk in latest]


def comment_rows(pairs: list[tuple[Case, PublishedResult]]) -> list[list[Any]]:
    rows = []
    for case, result in pairs:
        pub = consultation_exports.from_dict(result.data)
        channels = "、".join(pub.channels)
        by_channel = "、".join(f"{label} {n}" for label, n in pub.by_channel)
        for r in pub.rows:
            rows.append([pub.slug or case.slug, pub.title, pub.department, pub.reported_on, result.version, r.no,
                         r.section, r.opinion, r.response, r.identical, pub.submitters, pub.item_count, channels,
                         by_channel])
    return rows


def comment_table(pairs: list[tuple[Case, PublishedResult]]) -> tabular.Table:
    return tabular.Table(columns=COMMENT_COLUMNS, rows=comment_rows(pairs), sheet="意見と区の考え方")


def contest_table() -> tabular.Table:
    rows = []
    for call in proposal_queries.public_calls().order_by("submission_start", "pk"):
        if not hasattr(call, "result"):
            continue
        rows += [[call.slug, call.title, *row] for row in proposal_exports.table(call, preamble=[]).rows]
    return tabular.Table(columns=[*CALL_COLUMNS, *proposal_exports.COLUMNS], rows=rows, sheet="提案募集の結果")


def _download(body: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _json(table: tabular.Table, name: str, **extra: Any) -> HttpResponse:
    body = tabular.to_json(table, extra={"license": conf.license_info(), **extra})
    return _download(body, name, "application/json; charset=utf-8")


def _format(fmt: str) -> str:
    if fmt not in ("csv", "json"):
        raise Http404("その形式には対応していません。")
    return fmt


def _csv(table: tabular.Table, name: str) -> HttpResponse:
    return _download(tabular.to_csv(table), name, "text/csv; charset=utf-8")


@require_GET
def comments(request: HttpRequest, fmt: str) -> HttpResponse:
    _format(fmt)
    table = comment_table(_latest_results())
    return _csv(table, "public-comment-results.csv") if fmt == "csv" else _json(table, "public-comment-results.json")


@require_GET
def comments_case(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    _format(fmt)
    case = get_object_or_404(consultation_queries.public_cases(), slug=slug)
    result = consultation_queries.published_result(case)
    if result is None:
        raise Http404("この案件の結果は公表されていません。")
    table = comment_table([(case, result)])
    name = f"{case.slug}-public-comment-results.{fmt}"
    return _csv(table, name) if fmt == "csv" else _json(table, name, case=case.slug, version=result.version)


@require_GET
def contest(request: HttpRequest, fmt: str) -> HttpResponse:
    _format(fmt)
    table = contest_table()
    return _csv(table, "idea-contest-results.csv") if fmt == "csv" else _json(table, "idea-contest-results.json")


def datasets(request: HttpRequest) -> list[Dataset]:
    url = request.build_absolute_uri
    csv, js = "text/csv", "application/json"
    found = [
        Dataset("public-comment-results", "パブリックコメント（意見公募）の結果",
                "意見公募の案件ごとに、寄せられた意見と区の考え方（公表した最新の版）。提出者数・提出方法を含みます。個人情報は含みません。",
                [("CSV", csv, url(reverse("opendata:comments", args=["csv"]))),
                 ("JSON", js, url(reverse("opendata:comments", args=["json"])))]),
        Dataset("idea-contest-results", "区民提案（アイデア募集）の結果",
                "提案募集ごとの提案・審査結果・得票数・順位・事業化の状況。個人の提案者の氏名は含みません。",
                [("CSV", csv, url(reverse("opendata:contest", args=["csv"]))),
                 ("JSON", js, url(reverse("opendata:contest", args=["json"])))]),
        Dataset("school-events", "学校行事（イベント一覧）",
                "区立学校の行事予定。自治体標準オープンデータセット「イベント一覧」の項目（UTF-8 BOM付きCSV）。",
                [("CSV", csv, url(reverse("calendars:open_data")))]),
        Dataset("api", "広場 hiroba API", "意見募集・提案募集・ワークショップ・学校カレンダーの公開情報を返すREST API（OpenAPI 3）。",
                [("OpenAPI", js, url("/api/v1/openapi.json"))]),
    ]
    for case, result in _latest_results():
        found.append(Dataset(
            f"public-comment-results-{case.slug}", f"{case.title}に対する意見と区の考え方",
            f"{case.title}の意見公募の結果（第{result.version}版）。",
            [("CSV", csv, url(reverse("opendata:comments_case", args=[case.slug, "csv"]))),
             ("JSON", js, url(reverse("opendata:comments_case", args=[case.slug, "json"])))]))
    return found


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "api/opendata.html", {"datasets": datasets(request), "license": conf.license_info()})


@require_GET
def catalog(request: HttpRequest) -> JsonResponse:
    """A DCAT catalogue (JSON-LD) of every dataset above."""
    code, prefecture, city = municipality()
    licence = conf.license_info()
    publisher = {"@type": "foaf:Organization", "foaf:name": f"{prefecture}{city}" if prefecture else city,
                 **({"dct:identifier": code} if code else {})}
    body = {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                     "foaf": "http://xmlns.com/foaf/0.1/"},
        "@id": request.build_absolute_uri(reverse("opendata:catalog")),
        "@type": "dcat:Catalog",
        "dct:title": f"{settings.HIROBA_SITE_NAME} オープンデータ",
        "dct:language": "ja",
        "dct:publisher": publisher,
        "dct:license": licence["url"],
        "dct:modified": timezone.localdate().isoformat(),
        "dcat:dataset": [{
            "@id": request.build_absolute_uri(reverse("opendata:index")) + f"#{d.key}",
            "@type": "dcat:Dataset", "dct:identifier": d.key, "dct:title": d.title, "dct:description": d.description,
            "dct:publisher": publisher, "dct:license": licence["url"], "dct:rights": licence["name"],
            "dcat:landingPage": request.build_absolute_uri(reverse("opendata:index")),
            "dcat:distribution": [{"@type": "dcat:Distribution", "dct:format": fmt, "dcat:mediaType": media,
                                   "dcat:downloadURL": link, "dct:license": licence["url"]}
                                  for fmt, media, link in d.distributions],
        } for d in datasets(request)],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Type"] = "application/ld+json; charset=utf-8"
    response["Access-Control-Allow-Origin"] = "*"
    return response


urlpatterns = [
    path("", index, name="index"),
    path("catalog.json", catalog, name="catalog"),
    path("public-comment/results.<str:fmt>", comments, name="comments"),
    path("public-comment/<slug:slug>/results.<str:fmt>", comments_case, name="comments_case"),
    path("idea-contest/results.<str:fmt>", contest, name="contest"),
]
