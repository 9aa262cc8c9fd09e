"""The command line contract: site add, import (one summary line and the round's id; exit 1 with
a Japanese message and nothing imported on a bad file), findings as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date

import pytest
from django.core.management import call_command

from hiroba.security.models import DiagnosisRound, Finding, System
from tests.security.test_import import first_scan, second_scan
from tests.security.zapgen import zap_json, zap_xml

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("security", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return out.getvalue(), err.getvalue(), code


def test_site_add_registers_a_site_by_department_name(departments):
    out, _err, code = run("site", "add", "https://kaigo.example.lg.jp/", "--name", "介護保険申請", "--department",
                          "高齢介護課")
    assert code == 0 and "登録しました" in out
    system = System.objects.get()
    assert system.department == departments["care"] and system.url == "https://kaigo.example.lg.jp/"


def test_site_add_with_an_unknown_department_exits_1_in_japanese(departments):
    _out, err, code = run("site", "add", "https://x.example.jp/", "--name", "x", "--department", "存在しない課")
    assert code == 1 and "所属「存在しない課」が見つかりません" in err
    assert not System.objects.exists()


def test_import_prints_the_summary_line_and_the_round_id(site, tmp_path):
    first = tmp_path / "first.json"
    first.write_bytes(zap_json(first_scan()))
    out, _err, code = run("import", str(first), "--site", "https://kaigo.example.lg.jp/", "--performed-on", "2024-10-15")
    lines = out.strip().splitlines()
    assert code == 0
    assert lines[0] == "new 5, unchanged 0, closed 0, reopened 0"
    assert lines[1] == str(DiagnosisRound.objects.get().pk)
    second = tmp_path / "second.xml"
    second.write_bytes(zap_xml(second_scan()))
    out, _err, code = run("import", str(second), "--site", "https://kaigo.example.lg.jp", "--format", "zap-xml",
                          "--performed-on", "2025-10-15")
    assert code == 0 and out.splitlines()[0] == "new 1, unchanged 3, closed 2, reopened 0"


@pytest.mark.parametrize("content", [b"{\"@version\": \"2.15.0\", \"site\": [", b"", b"<OWASPZAPReport version='9'/>"])
def test_import_of_a_bad_file_exits_1_and_imports_nothing(site, tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    out, err, code = run("import", str(bad), "--site", "https://kaigo.example.lg.jp/")
    assert code == 1 and out == ""
    assert any("\u3040" <= ch <= "\u9fff" for ch in err)
    assert not DiagnosisRound.objects.exists() and not Finding.objects.exists()


def test_import_for_an_unknown_site_exits_1(site, tmp_path):
    report = tmp_path / "r.json"
    report.write_bytes(zap_json(first_scan()))
    _out, err, code = run("import", str(report), "--site", "https://nowhere.example.jp/")
    assert code == 1 and "登録されていません" in err


def test_findings_come_out_as_csv_and_json_with_status_due_date_and_seen_dates(site, tmp_path):
    report = tmp_path / "r.json"
    report.write_bytes(zap_json(first_scan()))
    run("import", str(report), "--site", site.url, "--performed-on", "2024-10-15")
    out, _err, code = run("findings", "--site", site.url, "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    header = rows[2]
    assert {"危険度", "対応状況", "対応期限", "初回検出日", "最終検出日"} <= set(header)
    xss = next(r for r in rows[3:] if r[header.index("ルールID")] == "40012")
    assert xss[header.index("危険度")] == "重要" and xss[header.index("対応状況")] == "未対応"
    assert xss[header.index("対応期限")] == "2024-11-14" and xss[header.index("初回検出日")] == "2024-10-15"
    out, _err, code = run("findings", "--site", site.url, "--format", "json")
    data = json.loads(out)
    assert data["url"] == site.url and len(data["findings"]) == 5
    assert {f["rule_id"] for f in data["findings"]} >= {"40012", "10020"}
    assert next(f for f in data["findings"] if f["rule_id"] == "40012")["last_seen"] == date(2024, 10, 15).isoformat()


def test_the_command_line_exits_1_in_a_real_process(tmp_path):
    """Through `python -m django` as an operator runs it: the exit status is 1 on a bad file."""
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{")
    result = subprocess.run([sys.executable, "-m", "django", "security", "import", str(bad), "--site",
                             "https://nowhere.example.jp/", "--format", "zap-json"], capture_output=True, text=True,
                            env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "hiroba.settings"})
    assert result.returncode == 1
    assert result.stdout == ""
