"""The REST API at /api/v1/ (django-ninja): the OpenAPI document at /api/v1/openapi.json and its
interactive page at /api/v1/docs, both served from hiroba's own static files (no CDN)."""

from __future__ import annotations

import re
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.openapi.docs import Swagger
from ninja.renderers import JSONRenderer

from hiroba.api.base import ApiError, error_body
from hiroba.api.routers import calendars, consultations, proposals, staff, workshops
from hiroba.consultations.services import ConsultationError, PeriodClosed
from hiroba.core.errors import NotAllowed, ServiceError

DESCRIPTION = """\
広場 hiroba の公開API です。意見募集（パブリックコメント）の案件と公表した結果、提案募集と投票結果・事業化の状況、
ワークショップの公開情報、学校カレンダーの予定を、認証なしで読み取れます。公表されていない回答や個人情報は、
どのエンドポイントも返しません。

* 一覧はカーソル方式のページ送りです（`limit` は1～100、既定25。次のページは応答の `next_cursor` を `cursor` に指定）。
* すべての応答にライセンス（`license`、既定は CC BY 4.0）と、記録ごとの変わらない識別子（`id`）が付きます。
* エラーはすべて `{"error": {"code", "message", "field", "details"}}` の形で返します。
* 職員用のエンドポイント（`/staff/…`）は、職員が作成したAPIトークン（`Authorization: Bearer hiroba_…`）が必要です。
  トークンは所属・機能・読み取り／書き込みの範囲に限られ、利用はすべて監査ログに記録されます。
"""


class LocalSwagger(Swagger):
    """Swagger UI from ninja's bundled static files, in a Japanese page."""

    template = "api/docs.html"


class Utf8JSON(JSONRenderer):
    """UTF-8 as is (Japanese text readable in the raw response)."""

    json_dumps_params = {"ensure_ascii": False}


class HirobaAPI(NinjaAPI):
    """NinjaAPI that refuses query parameters an operation does not declare (a misspelt `limt`
    must not silently give the default page)."""

    _declared: dict[tuple[str, str], frozenset[str]] | None = None

    def declared_query(self) -> dict[tuple[str, str], frozenset[str]]:
        if self._declared is None:
            found = {}
            for path, operations in self.get_openapi_schema()["paths"].items():
                route = re.sub(r"\{(\w+)\}", r"<\1>", path.lstrip("/"))
                for method, op in operations.items():
                    found[(route, method.upper())] = frozenset(
                        p["name"] for p in op.get("parameters", []) if p["in"] == "query")
            self._declared = found
        return self._declared

    def create_temporal_response(self, request: HttpRequest) -> HttpResponse:
        match = request.resolver_match
        declared = self.declared_query().get((match.route, request.method or "")) if match else None
        if declared is not None:
            unknown = sorted(set(request.GET) - declared)
            if unknown:
                raise ApiError(400, "unknown_parameter", _("知らないパラメータがあります：%(names)s") % {
                    "names": ", ".join(unknown)}, details=[{"location": f"query.{n}", "message": "unknown",
                                                           "type": "extra_forbidden"} for n in unknown])
        return super().create_temporal_response(request)


api = HirobaAPI(renderer=Utf8JSON(),
    title="広場 hiroba API", version="1.0.0", description=DESCRIPTION, urls_namespace="api_v1",
    docs=LocalSwagger(settings={"defaultModelsExpandDepth": 0}), docs_url="/docs", openapi_url="/openapi.json",
)


def _respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _respond(request, exc.status, error_body(exc.code, exc.message, exc.field, exc.details))


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [{"location": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", "")),
                "type": str(e.get("type", ""))} for e in exc.errors]
    return _respond(request, 400, error_body("invalid_request", _("リクエストの内容が正しくありません。"), details=details))


@api.exception_handler(ServiceError)
def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return _respond(request, 403 if isinstance(exc, NotAllowed) else 400, error_body(exc.code, exc.message, exc.field))


@api.exception_handler(ConsultationError)
def _consultation_error(request: HttpRequest, exc: ConsultationError) -> HttpResponse:
    if isinstance(exc, PeriodClosed):
        return _respond(request, 409, error_body("period_closed", str(exc), getattr(exc, "field", None)))
    return _respond(request, 400, error_body("refused", str(exc)))


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    return _respond(request, 429, error_body("rate_limited", _("アクセスが集中しています。しばらくしてから再度お試しください。")))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _respond(request, 401, error_body("token_required", _("APIトークンを Authorization: Bearer で指定してください。")))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _respond(request, 404, error_body("not_found", str(exc) or _("見つかりません。")))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _respond(request, exc.status_code, error_body("http_error", str(exc)))


api.add_router("/consultations/", consultations.router)
api.add_router("/proposals/", proposals.router)
api.add_router("/workshops/", workshops.router)
api.add_router("/calendars/", calendars.router)
api.add_router("/staff/", staff.router)
