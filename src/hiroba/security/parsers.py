"""Reading diagnosis reports: OWASP ZAP (traditional JSON and XML), wapiti3 JSON, and the ward's
CSV / Excel template for vendors' own reports. No Django models here: a parser turns a file into
`Report` (rules and instances, every field the report has) or raises `ReportError` with a
Japanese message; the import service decides what the instances mean for the register.

ZAP's JSON is read as a stream of events (ijson), one alert object at a time, so a large report
never exists in memory as one tree; ZAP's XML is read with defusedxml's iterparse, which refuses
DTDs and entity declarations (no entity expansion, no external entities: a report from a vendor
is untrusted input).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core.errors import ServiceError
from hiroba.core.text import decode_japanese

FORMATS = ("zap-json", "zap-xml", "wapiti-json", "csv")
SEVERITY_LABELS = {"緊急": 4, "重要": 3, "警告": 2, "注意": 1, "情報": 0}


class ReportError(ServiceError):
    """The file is not a report we can take in whole; nothing is imported."""

    code = "bad_report"


@dataclass
class Rule:
    source: str
    rule_id: str
    name: str
    cweid: int | None = None
    wascid: int | None = None
    description: str = ""
    solution: str = ""
    reference: str = ""
    otherinfo: str = ""


@dataclass(slots=True)
class Instance:
    """One place a rule fired: every field the report gives for it."""

    rule_id: str
    title: str
    method: str
    uri: str
    param: str = ""
    attack: str = ""
    evidence: str = ""
    otherinfo: str = ""
    riskcode: int | None = None
    confidence: int | None = None
    level: int | None = None  # wapiti's level, or a vendor's grade (0–4) when given
    cvss: Decimal | None = None
    alert_ref: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # fields of the report we store verbatim


@dataclass
class Report:
    tool: str  # zap / wapiti / vendor
    fmt: str
    version: str = ""
    sites: list[str] = field(default_factory=list)
    performed_on: date | None = None
    rules: dict[str, Rule] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)


def origin(url: str) -> str:
    """scheme://host[:port] in lower case, default ports dropped: what a report's site is matched on."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def endpoint_path(uri: str) -> str:
    """The URI without its query string or fragment (host in lower case, empty path as "/")."""
    parts = urlsplit(uri.strip())
    netloc = parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", "", ""))


def _int(value: Any) -> int | None:
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        return int(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _report_date(raw: Any) -> date | None:
    text = _text(raw).strip()
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    match = re.search(r"(\d{4})-(\d{2})-(\d{2})", text)
    return date(int(match[1]), int(match[2]), int(match[3])) if match else None


# --- detection ------------------------------------------------------------------------------

def detect(head: bytes, filename: str = "") -> str:
    """The format from the first bytes of the file (and its name for CSV)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"PK"):
        return "csv"  # an Excel workbook in the vendors' template
    if text.startswith(b"<"):
        return "zap-xml"
    if text.startswith(b"{"):
        if b'"vulnerabilities"' in head or b'"classifications"' in head:
            return "wapiti-json"
        if b'"site"' in head or b'"@version"' in head or b'"@programName"' in head:
            return "zap-json"
        return "zap-json" if b'"vulnerabilities"' not in head else "wapiti-json"
    if filename.lower().endswith((".csv", ".txt", ".xlsx")):
        return "csv"
    if text[:1].isalpha() or text[:1] in (b'"',):
        return "csv"
    raise ReportError(_("ファイルの形式を判別できません。--format で zap-json、zap-xml、wapiti-json、csv "
                        "のいずれかを指定してください。"), code="unknown_format")


# --- OWASP ZAP ------------------------------------------------------------------------------

ZAP_VERSION = re.compile(r"^(?:2\.\d+(?:\.\d+)?|D-\d{4}-\d{2}-\d{2})$")


def _check_zap_version(version: str) -> None:
    if not version:
        raise ReportError(_("ZAPのレポートのバージョン（@version）がありません。ZAP 2.x の Traditional JSON / XML "
                            "レポートを取り込んでください。"), code="zap_version_missing")
    if not ZAP_VERSION.match(version):
        raise ReportError(format_lazy(_("対応していないZAPのバージョン（{version}）のレポートです。ZAP 2.x の "
                                        "Traditional JSON / XML レポートを取り込んでください。"), version=version),
                          code="zap_version")


def _zap_alert(alert: dict[str, Any], site: str, report: Report) -> None:
    """One ZAP alert (with its instances) into the report."""
    rule_id = _text(alert.get("pluginid")).strip()
    name = _text(alert.get("name") or alert.get("alert")).strip()
    if not rule_id or not name:
        raise ReportError(_("ZAPのアラートに pluginid または name がありません（ファイルが壊れているか、"
                            "別の形式です）。"), code="zap_alert_incomplete")
    instances = alert.get("instances")
    if not isinstance(instances, list):
        raise ReportError(_("ZAPのアラートに instances がありません。古い形式のレポートは取り込めません（ZAP 2.x の "
                            "Traditional レポートで出力し直してください）。"), code="zap_old_layout")
    riskcode = _int(alert.get("riskcode"))
    confidence = _int(alert.get("confidence"))
    if riskcode is None or not 0 <= riskcode <= 3:
        raise ReportError(format_lazy(_("ZAPのアラート {rule} の riskcode（{value}）が 0〜3 ではありません。"),
                                      rule=rule_id, value=_text(alert.get("riskcode"))), code="zap_riskcode")
    if rule_id not in report.rules:
        report.rules[rule_id] = Rule(
            source="zap", rule_id=rule_id, name=name, cweid=_int(alert.get("cweid")), wascid=_int(alert.get("wascid")),
            description=_text(alert.get("desc")), solution=_text(alert.get("solution")),
            reference=_text(alert.get("reference")), otherinfo=_text(alert.get("otherinfo")),
        )
    extra = {k: _text(alert.get(k)) for k in ("riskdesc", "sourceid", "count", "systemic") if alert.get(k) is not None}
    extra["site"] = site
    alert_ref = _text(alert.get("alertRef"))
    for inst in instances:
        if not isinstance(inst, dict):
            raise ReportError(_("ZAPのアラートの instances の形式が正しくありません。"), code="zap_instance")
        uri = _text(inst.get("uri")).strip()
        if not uri:
            raise ReportError(format_lazy(_("ZAPのアラート {rule} に uri のない検出箇所があります。"), rule=rule_id),
                              code="zap_instance_uri")
        inst_extra = dict(extra)
        for k in ("id", "nodeName"):
            if inst.get(k) not in (None, ""):
                inst_extra[k] = _text(inst.get(k))
        report.instances.append(Instance(
            rule_id=rule_id, title=name, method=_text(inst.get("method")).upper()[:16], uri=uri,
            param=_text(inst.get("param"))[:500], attack=_text(inst.get("attack")), evidence=_text(inst.get("evidence")),
            otherinfo=_text(inst.get("otherinfo")), riskcode=riskcode, confidence=confidence, alert_ref=alert_ref[:40],
            extra=inst_extra,
        ))


def parse_zap_json(stream: IO[bytes]) -> Report:
    import ijson

    report = Report(tool="zap", fmt="zap-json")
    site = ""
    builder: Any = None
    saw_site_list = False
    try:
        for prefix, event, value in ijson.parse(stream, use_float=True):
            if builder is not None:
                builder.event(event, value)
                if prefix == "site.item.alerts.item" and event == "end_map":
                    if not report.version:
                        _check_zap_version("")
                    _zap_alert(builder.value, site, report)
                    builder = None
                continue
            if prefix == "site.item.alerts.item" and event == "start_map":
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
            elif prefix == "@version":
                report.version = _text(value)
                _check_zap_version(report.version)
            elif prefix == "@generated" and report.performed_on is None:
                report.performed_on = _report_date(value)
            elif prefix == "created":
                report.performed_on = _report_date(value) or report.performed_on
            elif prefix == "site" and event == "start_array":
                saw_site_list = True
            elif prefix == "site.item.@name":
                site = _text(value)
                report.sites.append(site)
    except ijson.JSONError as exc:
        raise ReportError(format_lazy(_("JSONとして読めません（途中で切れているか、壊れています）: {error}"),
                                      error=str(exc)[:200]), code="malformed") from None
    except UnicodeDecodeError:
        raise ReportError(_("文字コードがUTF-8ではありません。"), code="encoding") from None
    _check_zap_version(report.version)
    if not saw_site_list:
        raise ReportError(_("ZAPのレポートに site がありません（別の形式のJSONです）。"), code="zap_no_site")
    return report


def parse_zap_xml(stream: IO[bytes]) -> Report:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    report = Report(tool="zap", fmt="zap-xml")
    site = ""
    seen_root = False
    try:
        for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True,
                                        forbid_entities=True, forbid_external=True):
            tag = element.tag
            if event == "start":
                if not seen_root:
                    seen_root = True
                    if tag != "OWASPZAPReport":
                        raise ReportError(_("ZAPのXMLレポート（OWASPZAPReport）ではありません。"), code="zap_xml_root")
                    report.version = element.get("version", "")
                    _check_zap_version(report.version)
                    report.performed_on = _report_date(element.get("created")) or _report_date(
                        element.get("generated"))
                elif tag == "site":
                    site = element.get("name", "")
                    report.sites.append(site)
                continue
            if tag == "alertitem":
                _zap_alert(_xml_alert(element), site, report)
                element.clear()
            elif tag == "site":
                element.clear()
    except DefusedXmlException:
        raise ReportError(_("XMLに DTD やエンティティ宣言が含まれています。安全のため取り込みません。"),
                          code="xml_forbidden") from None
    except ParseError as exc:
        raise ReportError(format_lazy(_("XMLとして読めません（途中で切れているか、壊れています）: {error}"),
                                      error=str(exc)[:200]), code="malformed") from None
    if not seen_root:
        raise ReportError(_("空のファイルです。"), code="empty")
    return report


def _xml_alert(element: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {}
    for child in element:
        if child.tag == "instances":
            alert["instances"] = [{c.tag: (c.text or "") for c in inst} for inst in child if inst.tag == "instance"]
        else:
            alert[child.tag] = child.text or ""
    return alert


# --- wapiti3 --------------------------------------------------------------------------------

def parse_wapiti_json(stream: IO[bytes]) -> Report:
    try:
        data = json.load(stream)
    except UnicodeDecodeError:
        raise ReportError(_("文字コードがUTF-8ではありません。"), code="encoding") from None
    except json.JSONDecodeError as exc:
        raise ReportError(format_lazy(_("JSONとして読めません（途中で切れているか、壊れています）: {error}"),
                                      error=str(exc)[:200]), code="malformed") from None
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), dict):
        raise ReportError(_("wapiti の JSON レポート（vulnerabilities）ではありません。"), code="wapiti_layout")
    infos: dict[str, Any] = data["infos"] if isinstance(data.get("infos"), dict) else {}
    report = Report(tool="wapiti", fmt="wapiti-json", version=_text(infos.get("version")),
                    performed_on=_report_date(infos.get("date")))
    if infos.get("target"):
        report.sites.append(_text(infos["target"]))
    classifications: dict[str, Any] = (data["classifications"] if isinstance(data.get("classifications"), dict)
                                       else {})
    for section in ("vulnerabilities", "anomalies", "additionals"):
        groups = data.get(section) or {}
        if not isinstance(groups, dict):
            raise ReportError(format_lazy(_("wapiti の {section} の形式が正しくありません。"), section=section),
                              code="wapiti_layout")
        for category, items in groups.items():
            if not isinstance(items, list):
                raise ReportError(format_lazy(_("wapiti の {section}「{category}」の形式が正しくありません。"),
                                              section=section, category=category), code="wapiti_layout")
            if not items:
                continue
            info = classifications.get(category) or {}
            refs = info.get("ref") or {}
            reference = "\n".join(f"{k}: {v}" for k, v in refs.items()) if isinstance(refs, dict) else _text(refs)
            report.rules.setdefault(category, Rule(
                source="wapiti", rule_id=category[:120], name=category[:300], description=_text(info.get("desc")),
                solution=_text(info.get("sol")), reference=reference,
            ))
            for item in items:
                if not isinstance(item, dict) or not item.get("path"):
                    raise ReportError(format_lazy(_("wapiti の「{category}」に path のない項目があります。"),
                                                  category=category), code="wapiti_item")
                level = _int(item.get("level"))
                if level is None or not 0 <= level <= 4:
                    raise ReportError(format_lazy(_("wapiti の「{category}」の level（{value}）が 0〜4 ではありません。"),
                                                  category=category, value=_text(item.get("level"))),
                                      code="wapiti_level")
                path = _text(item.get("path"))
                uri = path if "://" in path else (report.sites[0].rstrip("/") + "/" + path.lstrip("/")
                                                  if report.sites else path)
                wstg = item.get("wstg")
                report.instances.append(Instance(
                    rule_id=category[:120], title=category[:300], method=_text(item.get("method")).upper()[:16],
                    uri=uri, param=_text(item.get("parameter"))[:500], evidence=_text(item.get("info")),
                    attack=_text(item.get("curl_command")), level=level,
                    extra={"section": section, "module": _text(item.get("module")),
                           "referer": _text(item.get("referer")), "http_request": _text(item.get("http_request")),
                           "wstg": wstg if isinstance(wstg, list) else _text(wstg)},
                ))
    return report


# --- the vendors' template ------------------------------------------------------------------

#: (heading, attribute, required)
TEMPLATE_COLUMNS = [
    ("ルールID", "rule_id", True), ("名称", "title", True), ("危険度", "grade", False), ("CVSS", "cvss", False),
    ("メソッド", "method", False), ("URL", "uri", True), ("パラメータ", "param", False), ("CWE", "cweid", False),
    ("説明", "description", False), ("対策", "solution", False), ("証跡", "evidence", False),
    ("攻撃文字列", "attack", False), ("参考情報", "reference", False), ("診断日", "performed_on", False),
]


def _rows_from_csv(raw: bytes) -> list[list[str]]:
    text = decode_japanese(raw)
    if text is None:
        raise ReportError(_("文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）。"), code="encoding")
    return [row for row in csv.reader(io.StringIO(text, newline=""))]


def _rows_from_xlsx(raw: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise ReportError(_("Excelファイルとして読めません。"), code="malformed") from None
    sheet = workbook.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        rows.append(["" if v is None else (v.isoformat() if isinstance(v, datetime | date) else str(v))
                     for v in values])
    workbook.close()
    return rows


def parse_vendor_template(stream: IO[bytes], *, source: str = "vendor") -> Report:
    from hiroba.core import tabular

    raw = stream.read()
    rows = _rows_from_xlsx(raw) if raw.startswith(b"PK") else _rows_from_csv(raw)
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ReportError(_("空のファイルです。"), code="empty")
    header = [tabular.unguard(h).strip() for h in rows[0]]
    index = {h: i for i, h in enumerate(header)}
    missing = [h for h, _attr, required in TEMPLATE_COLUMNS if required and h not in index]
    if missing:
        raise ReportError(format_lazy(_("1行目に必要な列がありません: {columns}（テンプレートの見出しのままにしてください）。"),
                                      columns="、".join(missing)), code="template_columns")
    if "危険度" not in index and "CVSS" not in index:
        raise ReportError(_("「危険度」または「CVSS」の列が必要です。"), code="template_grade")
    report = Report(tool="vendor", fmt="csv")
    errors: list[str] = []
    for line, row in enumerate(rows[1:], start=2):
        def cell(h: str, row: list[str] = row) -> str:
            return tabular.unguard(row[index[h]]).strip() if h in index and index[h] < len(row) else ""
        problems = []
        rule_id, title, uri = cell("ルールID"), cell("名称"), cell("URL")
        if not rule_id:
            problems.append("ルールIDが空です")
        if not title:
            problems.append("名称が空です")
        if not uri.startswith(("http://", "https://")):
            problems.append("URLが http:// または https:// で始まっていません")
        grade_text, cvss_text = cell("危険度"), cell("CVSS")
        level = SEVERITY_LABELS.get(grade_text) if grade_text else None
        if grade_text and level is None:
            problems.append(f"危険度「{grade_text}」は 緊急・重要・警告・注意・情報 のいずれかにしてください")
        cvss = None
        if cvss_text:
            try:
                cvss = Decimal(cvss_text).quantize(Decimal("0.1"))
                if not Decimal("0") <= cvss <= Decimal("10"):
                    raise InvalidOperation
            except InvalidOperation:
                problems.append(f"CVSS「{cvss_text}」は 0.0〜10.0 の数にしてください")
                cvss = None
        if level is None and cvss is None and not problems:
            problems.append("危険度かCVSSのどちらかを入れてください")
        if problems:
            errors.append(f"{line}行目: " + "、".join(problems))
            continue
        if rule_id not in report.rules:
            report.rules[rule_id] = Rule(source=source, rule_id=rule_id[:120], name=title[:300],
                                         cweid=_int(cell("CWE")), description=cell("説明"), solution=cell("対策"),
                                         reference=cell("参考情報"))
        performed = _report_date(cell("診断日"))
        if performed and (report.performed_on is None or performed > report.performed_on):
            report.performed_on = performed
        report.instances.append(Instance(
            rule_id=rule_id[:120], title=title[:300], method=(cell("メソッド") or "GET").upper()[:16], uri=uri,
            param=cell("パラメータ")[:500], attack=cell("攻撃文字列"), evidence=cell("証跡"), level=level, cvss=cvss,
            extra={"line": line},
        ))
        report.sites.append(origin(uri))
    if errors:
        shown = "／".join(errors[:10]) + (f"／ほか {len(errors) - 10} 件" if len(errors) > 10 else "")
        raise ReportError(format_lazy(_("取り込めない行があります（ファイル全体を取り込みませんでした）: {errors}"),
                                      errors=shown), code="template_rows")
    report.sites = sorted(set(report.sites))
    return report


PARSERS: dict[str, Callable[[IO[bytes]], Report]] = {
    "zap-json": parse_zap_json, "zap-xml": parse_zap_xml, "wapiti-json": parse_wapiti_json,
    "csv": parse_vendor_template,
}


def parse(stream: IO[bytes], fmt: str) -> Report:
    if fmt not in PARSERS:
        raise ReportError(format_lazy(_("形式「{fmt}」には対応していません（zap-json、zap-xml、wapiti-json、csv）。"),
                                      fmt=fmt), code="unknown_format")
    return PARSERS[fmt](stream)


def iter_template_rows() -> Iterator[list[str]]:
    """The template's example rows (for the download)."""
    yield ["ZAP-10020", "クリックジャッキング対策の欠如", "注意", "", "GET", "https://www.example.lg.jp/", "",
           "1021", "X-Frame-Options ヘッダがありません。", "X-Frame-Options または CSP frame-ancestors を設定する。",
           "", "", "", "2024-10-15"]
    yield ["V-0001", "SQLインジェクション", "", "9.8", "POST", "https://www.example.lg.jp/search", "q", "89",
           "検索語がSQL文に連結されています。", "プレースホルダを使う。", "SQL syntax error", "' OR 1=1--", "", "2024-10-15"]
