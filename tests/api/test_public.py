"""The public read API: the published results are the stored publication (same rows as the CSV),
pagination, bad input in the one error format, and nothing unpublished or personal ever shown."""

from __future__ import annotations

import csv
import io
import json

import pytest

from hiroba.consultations import services
from hiroba.consultations.models import Case, PublishedResult
from tests.consultations.conftest import PHONE_TEXT

pytestmark = pytest.mark.django_db


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_the_results_api_gives_the_rows_of_the_csv_for_the_seed_case(client, seed_case):
    body = get(client, f"/api/v1/consultations/{seed_case.slug}/results")
    stored = PublishedResult.objects.get(case=seed_case).files.get(format="csv")
    table = list(csv.reader(io.StringIO(bytes(stored.content).decode("utf-8-sig"))))
    assert table[0][:4] == ["No.", "該当箇所", "意見内容", "区の考え方"]
    assert [[str(r["no"]), r["section"], r["opinion"], r["response"]] for r in body["rows"]] == [
        row[:4] for row in table[1:]]
    assert len(body["rows"]) == 12
    assert body["submitters"] == 12 and body["items_total"] == 12
    assert sum(body["by_channel"].values()) == 12
    assert {"no", "sections", "opinion", "response", "identical_count"} <= set(body["rows"][0])
    assert body["license"]["name"] == "CC BY 4.0"
    assert body["id"] == f"consultations/case/{seed_case.slug}/results/v1"
    assert len({r["id"] for r in body["rows"]}) == 12
    # the same record the results page and every download come from
    assert body["sha256"] == PublishedResult.objects.get(case=seed_case).digest


def test_the_case_list_and_detail(client, seed_case, make_case):
    make_case(slug="open-one")
    make_case(slug="not-yet-open", state=Case.State.PREPARING)
    body = get(client, "/api/v1/consultations/")
    slugs = [c["slug"] for c in body["items"]]
    assert set(slugs) == {seed_case.slug, "open-one"}  # a case in preparation is not public
    assert body["license"]["url"].startswith("https://creativecommons.org/")
    seed = next(c for c in body["items"] if c["slug"] == seed_case.slug)
    assert seed["status"] == "published" and seed["has_results"] and seed["results_url"]
    assert [s["heading"] for s in seed["sections"]] == ["全体", "基本的な考え方", "重点方針と取組み"]
    detail = get(client, "/api/v1/consultations/open-one")
    assert detail["id"] == "consultations/case/open-one" and detail["results_url"] is None
    assert get(client, "/api/v1/consultations/not-yet-open", 404)["error"]["code"] == "not_found"
    assert get(client, "/api/v1/consultations/open-one/results", 404)["error"]["code"] == "not_found"


def test_cursor_pagination_walks_every_case_once(client, make_case):
    for n in range(7):
        make_case(slug=f"case-{n}")
    seen, url, pages = [], "/api/v1/consultations/?limit=3", 0
    while url:
        body = get(client, url)
        seen += [c["slug"] for c in body["items"]]
        pages += 1
        url = f"/api/v1/consultations/?limit=3&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert pages == 3 and sorted(seen) == sorted(f"case-{n}" for n in range(7)) and len(set(seen)) == 7


@pytest.mark.parametrize("query,code", [
    ("limit=101", "invalid_request"), ("limit=0", "invalid_request"), ("limit=abc", "invalid_request"),
    ("cursor=not-a-cursor", "invalid_cursor"), ("cursor=MQ", "invalid_cursor"),
])
def test_bad_page_parameters_are_refused_in_the_one_error_format(client, case, query, code):
    body = get(client, f"/api/v1/consultations/?{query}", 400)
    assert body["error"]["code"] == code and body["error"]["message"]


def test_a_tampered_cursor_is_refused(client, make_case):
    for n in range(3):
        make_case(slug=f"c{n}")
    cursor = get(client, "/api/v1/consultations/?limit=1")["next_cursor"]
    assert get(client, f"/api/v1/consultations/?cursor={cursor[:-2]}xx", 400)["error"]["code"] == "invalid_cursor"


def _every_public_response(client, slug):
    urls = ["/api/v1/consultations/", f"/api/v1/consultations/{slug}", f"/api/v1/consultations/{slug}/results",
            "/opendata/public-comment/results.csv", "/opendata/public-comment/results.json",
            f"/opendata/public-comment/{slug}/results.csv", f"/opendata/public-comment/{slug}/results.json",
            "/opendata/", "/opendata/catalog.json", f"/consultations/{slug}/results/"]
    return "\n".join(client.get(u).content.decode("utf-8", "replace") for u in urls)


PLANTED = ["区民1", "区民2", "k1@example.jp", "k2@example.jp", "090-1234-5678"]


def test_an_approved_but_unpublished_case_shows_no_answer_and_no_personal_data(client, approved_case):
    text = _every_public_response(client, approved_case.slug)
    for secret in [*PLANTED, "窓口の受付時間は、利用状況を踏まえて検討します。", "オンライン申請の対象を順次広げてまいります。"]:
        assert secret not in text
    assert client.get(f"/api/v1/consultations/{approved_case.slug}/results").status_code == 404


def test_a_published_case_shows_the_masked_table_and_never_the_submitters(client, approved_case, clerk):
    services.case_publish(actor=clerk, case=approved_case)
    body = get(client, f"/api/v1/consultations/{approved_case.slug}/results")
    assert body["rows"][0]["response"] == "窓口の受付時間は、利用状況を踏まえて検討します。"
    assert "090-1234-5678" not in json.dumps(body, ensure_ascii=False)
    assert PHONE_TEXT not in json.dumps(body, ensure_ascii=False)
    text = _every_public_response(client, approved_case.slug)
    for secret in PLANTED:
        assert secret not in text
    # later edits of the live rows do not reach the API: it serves what was approved
    from hiroba.consultations.models import Answer

    Answer.objects.filter(case=approved_case).update(text="書き換えた回答")
    assert get(client, f"/api/v1/consultations/{approved_case.slug}/results") == body


def test_every_response_carries_the_licence_from_settings(client, case, settings):
    settings.HIROBA_API_LICENSE_NAME = "CC0"
    settings.HIROBA_API_LICENSE_URL = "https://creativecommons.org/publicdomain/zero/1.0/deed.ja"
    assert get(client, "/api/v1/consultations/")["license"]["name"] == "CC0"


def test_the_public_api_is_rate_limited_through_the_shared_throttle(client, case, settings):
    settings.HIROBA_RATE_LIMITS = {**settings.HIROBA_RATE_LIMITS, "api.public": "3/m/ip"}
    for _ in range(3):
        assert client.get("/api/v1/consultations/").status_code == 200
    response = client.get("/api/v1/consultations/")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"


def test_the_docs_page_uses_only_local_static_files(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert 'lang="ja"' in html


def test_an_unknown_query_parameter_is_refused(client, case):
    body = get(client, "/api/v1/consultations/?limt=5", 400)
    assert body["error"]["code"] == "unknown_parameter" and body["error"]["details"][0]["location"] == "query.limt"
    assert get(client, "/api/v1/calendars/events?start=2025-04-01&school=nowhere&foo=1", 400)["error"]["code"] == \
        "unknown_parameter"
    assert client.get("/api/v1/consultations/?limit=5").status_code == 200


def test_published_results_carry_an_etag_and_answer_304_when_unchanged(client, seed_case):
    url = f"/api/v1/consultations/{seed_case.slug}/results"
    first = client.get(url)
    result = PublishedResult.objects.get(case=seed_case)
    assert first["ETag"] == f'"{result.digest}-v1"' and first["Last-Modified"]
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
