"""Diagnosis import round trip on reports made here: import, re-import, close, reopen, decisions
kept, risk acceptance expiry — on ZAP JSON and ZAP XML alike — and every bad file refused whole."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from hiroba.core import audit
from hiroba.core.models import AuditEntry
from hiroba.security import importing, services
from hiroba.security.importing import ImportRefused
from hiroba.security.models import DiagnosisRound, Finding, FindingStatus, RiskAcceptance, Severity
from tests.security.zapgen import Alert, Inst, Site, wapiti_json, zap_json, zap_xml

pytestmark = pytest.mark.django_db
BASE = "https://kaigo.example.lg.jp"
WRITERS = {"json": zap_json, "xml": zap_xml}


def first_scan() -> list[Site]:
    return [Site(BASE, [
        Alert("40012", "クロスサイトスクリプティング（反射型）", 3, [
            Inst(f"{BASE}/search?q=1", param="q", attack="<script>alert(1)</script>", evidence="<script>alert(1)"),
            Inst(f"{BASE}/search?q=2&page=3", param="q", attack="<img src=x>", evidence="<img src=x>"),
        ], cweid="79"),
        Alert("10020", "クリックジャッキング対策の欠如", 2, [Inst(f"{BASE}/", param="x-frame-options")],
              cweid="1021", alert_ref="10020-1"),
        Alert("10021", "X-Content-Type-Options ヘッダの欠如", 1, [Inst(f"{BASE}/", param="x-content-type-options")]),
        Alert("10027", "コメント内の情報", 0, [Inst(f"{BASE}/app.js", evidence="TODO")]),
        Alert("10202", "CSRF対策トークンの欠如", 2, [Inst(f"{BASE}/apply", method="POST")]),
    ]), Site("https://other.example.lg.jp", [Alert("10020", "x", 2, [Inst("https://other.example.lg.jp/")])])]


def second_scan() -> list[Site]:
    """The XSS is fixed, clickjacking stays, the CSRF finding is still there, a new SQL injection."""
    return [Site(BASE, [
        Alert("10020", "クリックジャッキング対策の欠如", 2, [Inst(f"{BASE}/", param="x-frame-options")], cweid="1021"),
        Alert("10021", "X-Content-Type-Options ヘッダの欠如", 1, [Inst(f"{BASE}/", param="x-content-type-options")]),
        Alert("10202", "CSRF対策トークンの欠如", 2, [Inst(f"{BASE}/apply", method="POST")]),
        Alert("40018", "SQLインジェクション", 3, [Inst(f"{BASE}/list?id=1", param="id", attack="1' OR '1'='1")]),
    ])]


def third_scan() -> list[Site]:
    """The XSS is back."""
    return [Site(BASE, first_scan()[0].alerts[:3])]


def load(site, body: bytes, name: str, day: date):
    return importing.round_import(actor="test", system=site, stream=importing.spooled(body), filename=name,
                                  performed_on=day)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_round_trip_imports_closes_reopens_and_keeps_decisions(site, fmt, care_clerk, care_approver, office_clerk):
    write = WRITERS[fmt]
    first = load(site, write(first_scan()), f"r1.{fmt}", date(2024, 10, 15))
    assert first.line() == "new 5, unchanged 0, closed 0, reopened 0"
    assert first.round.file_format == f"zap-{fmt}"
    xss = Finding.objects.get(system=site, rule__rule_id="40012")
    # two instances at one endpoint (other query strings) are one finding, both kept
    assert xss.instance_count == 2 and xss.path == f"{BASE}/search" and xss.param == "q"
    assert xss.attack == "<script>alert(1)</script>" and xss.evidence == "<script>alert(1)"
    assert xss.more_instances[-1]["uri"] == f"{BASE}/search?q=2&page=3"
    assert xss.more_instances[-1]["attack"] == "<img src=x>"
    assert xss.rule.cweid == 79 and xss.rule.description == "<p>説明</p>" and xss.rule.wascid == 8
    assert xss.severity == Severity.HIGH and xss.due_on == date(2024, 10, 15) + timedelta(days=30)
    assert Finding.objects.get(rule__rule_id="10021").due_on == date(2024, 10, 15) + timedelta(days=120)
    assert Finding.objects.get(rule__rule_id="10027").due_on is None  # 情報: no fix ordered
    assert Finding.objects.get(rule__rule_id="10020").alert_ref == "10020-1"
    assert not Finding.objects.filter(path__startswith="https://other.").exists()

    # decisions before the re-import: clickjacking is a false positive, CSRF's risk is accepted
    click = Finding.objects.get(rule__rule_id="10020")
    services.finding_transition(actor=office_clerk, finding=click, name="false_positive", reason="WAFで付与済み")
    csrf = Finding.objects.get(rule__rule_id="10202")
    acceptance = services.risk_request(actor=care_clerk, finding=csrf, reason="次期更改で対応。WAFで遮断",
                                       expires_on=timezone.localdate() + timedelta(days=30))
    services.risk_decide(actor=care_approver, acceptance=acceptance, approve=True)

    second = load(site, write(second_scan()), f"r2.{fmt}", date(2025, 10, 15))
    assert second.line() == "new 1, unchanged 3, closed 2, reopened 0"
    xss.refresh_from_db()
    assert xss.status == FindingStatus.RESOLVED and xss.closed_round_id == second.round.pk
    assert xss.resolved_on == date(2025, 10, 15)
    click.refresh_from_db()
    csrf.refresh_from_db()
    assert click.status == FindingStatus.FALSE_POSITIVE and click.decision_reason == "WAFで付与済み"
    assert csrf.status == FindingStatus.RISK_ACCEPTED
    assert click.last_round_id == second.round.pk  # seen again, decision untouched
    assert click.alert_ref == "10020"  # what the new report says about it was written (a changed row)
    xcto = Finding.objects.get(rule__rule_id="10021")
    assert xcto.last_round_id == second.round.pk and xcto.last_seen_on == date(2025, 10, 15)  # unchanged row

    third = load(site, write(third_scan()), f"r3.{fmt}", date(2026, 1, 15))
    # XSS back (reopened), SQLi gone (closed), the info finding stays resolved since the second scan
    assert third.line() == "new 0, unchanged 2, closed 1, reopened 1"
    xss.refresh_from_db()
    assert xss.status == FindingStatus.OPEN and xss.reopen_count == 1 and xss.closed_round is None
    assert xss.due_on == date(2026, 1, 15) + timedelta(days=30)
    assert xss.first_round_id == first.round.pk and xss.last_round_id == third.round.pk
    assert Finding.objects.get(rule__rule_id="40018").status == FindingStatus.RESOLVED
    click.refresh_from_db()
    assert click.status == FindingStatus.FALSE_POSITIVE

    # the acceptance lapses: the finding is open again, and a second run changes nothing
    with time_machine.travel(timezone.now() + timedelta(days=45)):
        assert services.risk_expire() == 1
        assert services.risk_expire() == 0
    csrf.refresh_from_db()
    acceptance.refresh_from_db()
    assert csrf.status == FindingStatus.OPEN and acceptance.state == RiskAcceptance.State.EXPIRED
    audit.chain_pending()
    entry = AuditEntry.objects.filter(action="security.finding_import").order_by("-seq").first()
    assert entry.changes["reopened"] == 1 and entry.changes["closed"] == 1 and entry.object_id == str(third.round.pk)


def test_the_same_file_twice_is_refused(site):
    body = zap_json(first_scan())
    load(site, body, "a.json", date(2024, 10, 15))
    with pytest.raises(ImportRefused) as exc:
        load(site, body, "copy.json", date(2024, 10, 16))
    assert exc.value.code == "duplicate"
    assert DiagnosisRound.objects.count() == 1


def test_an_older_report_than_the_latest_is_refused(site):
    load(site, zap_json(first_scan()), "a.json", date(2024, 10, 15))
    with pytest.raises(ImportRefused) as exc:
        load(site, zap_json(second_scan()), "b.json", date(2024, 1, 1))
    assert exc.value.code == "older_than_latest"


@pytest.mark.parametrize(("body", "code"), [
    (zap_json(first_scan())[:-200], "malformed"),  # truncated
    (b'{"@version": "2.15.0", "site": [{"@name": "x", "alerts": [{"pluginid": "1"', "malformed"),
    (zap_json(first_scan(), version="1.4.1"), "zap_version"),
    (b"{\"site\": []}", "zap_version_missing"),
    (zap_xml(first_scan())[:-40], "malformed"),
    (zap_xml(first_scan(), version="3.0.0"), "zap_version"),
    (b"", "empty"),
    (zap_json([Site(BASE, [])]), "empty"),
    (zap_json([Site("https://unknown.example.jp", first_scan()[1].alerts)]), "site_mismatch"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><OWASPZAPReport version="2.15.0">&a;</OWASPZAPReport>',
     "xml_forbidden"),
    (b'<?xml version="1.0"?><OWASPZAPReport version="2.15.0"><site name="https://kaigo.example.lg.jp"><alerts>'
     b'<alertitem><pluginid>1</pluginid><name>x</name><riskcode>2</riskcode><uri>https://kaigo.example.lg.jp/</uri>'
     b'</alertitem></alerts></site></OWASPZAPReport>', "zap_old_layout"),
])
def test_a_bad_file_is_refused_in_japanese_and_leaves_nothing(site, body, code):
    with pytest.raises(ImportRefused) as exc:
        load(site, body, "bad", date(2024, 10, 15))
    assert exc.value.code == code
    with translation.override("ja"):  # an English page earlier in the run may have left "en" active
        assert any("\u3040" <= ch <= "\u9fff" for ch in exc.value.message)
    assert not DiagnosisRound.objects.exists() and not Finding.objects.exists()


def test_a_failure_after_the_upsert_leaves_nothing_half_imported(site, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing.audit, "record", boom)
    with pytest.raises(RuntimeError):
        load(site, zap_json(first_scan()), "a.json", date(2024, 10, 15))
    assert not DiagnosisRound.objects.exists() and not Finding.objects.exists()


def test_a_report_over_the_size_limit_is_refused_before_it_is_read(site, settings):
    settings.SECURITY_MAX_REPORT_BYTES = 1000
    with pytest.raises(ImportRefused) as exc:
        load(site, zap_json(first_scan()), "big.json", date(2024, 10, 15))
    assert exc.value.code == "too_large" and "MB" in exc.value.message


def test_a_wapiti_scan_of_hiroba_itself_imports_like_any_vendors(departments):
    hiroba = services.system_create(actor="test", url="https://hiroba.example.lg.jp/", name="hiroba",
                                    department=departments["systems"])
    body = wapiti_json("https://hiroba.example.lg.jp/", {
        "Content Security Policy Configuration": [{"path": "/", "level": 1, "info": "CSP is not set"}],
        "Cross Site Scripting": [{"path": "/consultations/x/submit/", "method": "POST", "parameter": "text",
                                  "level": 3, "info": "XSS vulnerability found via injection in the parameter text"}],
    }, anomalies={"Internal Server Error": [{"path": "/search", "level": 2, "parameter": "q"}]})
    result = load(hiroba, body, "wapiti.json", date(2025, 2, 1))
    assert result.line() == "new 3, unchanged 0, closed 0, reopened 0"
    xss = Finding.objects.get(system=hiroba, rule__rule_id="Cross Site Scripting")
    assert xss.severity == Severity.HIGH and xss.param == "text" and xss.method == "POST"
    assert xss.path == "https://hiroba.example.lg.jp/consultations/x/submit/"
    assert "curl" in xss.attack and xss.rule.solution == "Cross Site Scripting の対策"
    assert xss.more_instances[0]["http_request"].startswith("GET ")


def test_a_vendor_csv_grades_by_cvss_as_ipa_does(site):
    header = "ルールID,名称,危険度,CVSS,メソッド,URL,パラメータ,CWE,説明,対策,証跡,攻撃文字列,参考情報,診断日\n"
    rows = [f"V-1,SQLインジェクション,,9.8,POST,{BASE}/login,id,89,,,,,,2024-10-01",
            f"V-2,古いTLS,,7.5,GET,{BASE}/,,,,,,,,2024-10-01",
            f"V-3,エラー表示,,5.3,GET,{BASE}/x,,,,,,,,2024-10-01",
            f"V-4,バナー,,3.1,GET,{BASE}/y,,,,,,,,2024-10-01",
            f"V-5,情報,情報,,GET,{BASE}/z,,,,,,,,2024-10-01"]
    result = load(site, ("\ufeff" + header + "\n".join(rows)).encode(), "vendor.csv", None)
    assert result.new == 5 and result.round.performed_on == date(2024, 10, 1)
    grades = dict(Finding.objects.filter(system=site).values_list("rule__rule_id", "severity"))
    assert grades == {"V-1": Severity.CRITICAL, "V-2": Severity.HIGH, "V-3": Severity.MEDIUM,
                      "V-4": Severity.LOW, "V-5": Severity.INFO}
    assert Finding.objects.get(rule__rule_id="V-1").due_on == date(2024, 10, 8)  # 緊急: 7 days


def test_a_vendor_csv_with_bad_rows_names_them_and_imports_nothing(site):
    body = ("ルールID,名称,危険度,URL\nV-1,SQLインジェクション,超重要,https://kaigo.example.lg.jp/\n"
            ",名称なし,注意,ftp://x\n").encode()
    with pytest.raises(ImportRefused) as exc:
        load(site, body, "vendor.csv", None)
    assert "2行目" in exc.value.message and "3行目" in exc.value.message
    assert not Finding.objects.exists()


def test_the_severity_mapping_is_configurable(site, settings):
    settings.SECURITY_ZAP_RISKCODE_SEVERITY = {0: 0, 1: 1, 2: 2, 3: 4}  # treat ZAP High as 緊急
    load(site, zap_json(first_scan()), "a.json", date(2024, 10, 15))
    assert Finding.objects.get(rule__rule_id="40012").severity == Severity.CRITICAL


def test_a_rescan_that_only_renumbers_zap_ids_rewrites_nothing(site):
    load(site, zap_json(first_scan()), "a.json", date(2024, 10, 15))
    before = dict(Finding.objects.values_list("key", "content_hash"))
    body = zap_json(first_scan()).replace(b'"sourceid": "1"', b'"sourceid": "77"')
    result = load(site, body, "b.json", date(2025, 10, 15))
    assert result.line() == "new 0, unchanged 5, closed 0, reopened 0"
    assert dict(Finding.objects.values_list("key", "content_hash")) == before
