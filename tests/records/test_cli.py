"""The command-line contracts: `hiroba records scan PATH [--department D] [--json OUT]` and
`hiroba records register import FILE` / `export --format xlsx|csv OUT`."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from hiroba.core.models import AuditEntry
from hiroba.records import audit_actions as actions
from hiroba.records import sharegen
from hiroba.records.models import InventoryFile, RecordFile, Scan, ScanFinding
from tests.records.conftest import file_data
from tests.records.test_scanner import reference_duplicates

pytestmark = pytest.mark.django_db


def test_scan_writes_the_json_contract_and_stores_the_inventory(tmp_path, departments, capsys):
    share = tmp_path / "share"
    sharegen.generate(share, files=600, seed=5)
    out = tmp_path / "out.json"
    call_command("records", "scan", str(share), "--department", "高齢介護課", "--json", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == {"files", "bytes", "duplicates", "violations", "stale", "errors"}
    assert data["files"] == 600 and data["duplicates"] == reference_duplicates(share)
    assert all(set(v) == {"path", "rule", "suggestion"} for v in data["violations"])
    assert all(not v["path"].startswith("/") for v in data["violations"])
    scan = Scan.objects.get()
    assert scan.department == departments["care"] and scan.files == 600
    assert InventoryFile.objects.filter(root=scan.root).count() == 600
    assert ScanFinding.objects.filter(scan=scan).count() == len(data["violations"]) + len(data["stale"])
    assert AuditEntry.objects.filter(action=actions.SCAN_RUN).count() == 1
    assert "点検" in capsys.readouterr().out
    # a re-scan reads nothing unchanged and writes no inventory row
    call_command("records", "scan", str(share), "--json", str(out))
    assert Scan.objects.order_by("-id").first().hashed == 0
    assert InventoryFile.objects.count() == 600
    assert ScanFinding.objects.count() == len(data["violations"]) + len(data["stale"])  # kept, not copied


def test_files_in_folders_past_retention_are_reported(tmp_path, departments):
    share = tmp_path / "care"
    folder = share / "30_保存用" / "H30_要介護認定調査票"
    folder.mkdir(parents=True)
    (folder / "H30_調査票_001.pdf").write_bytes(b"%PDF-1.4 x")
    from hiroba.records import register

    register.file_create(actor="test", data=file_data(departments["care"], share_path="30_保存用/H30_要介護認定調査票"))
    out = tmp_path / "o.json"
    call_command("records", "scan", str(share), "--department", "care", "--json", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"path": "30_保存用/H30_要介護認定調査票/H30_調査票_001.pdf", "rule": "retention_expired",
            "suggestion": ""} in data["violations"]


def test_scan_exits_non_zero_only_when_it_cannot_scan(tmp_path, departments, settings, capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("records", "scan", str(tmp_path / "missing"))
    assert exc.value.code == 2
    settings.RECORDS_SCAN_ROOTS = [str(tmp_path / "allowed")]
    (tmp_path / "allowed").mkdir()
    (tmp_path / "other").mkdir()
    with pytest.raises(SystemExit) as exc:
        call_command("records", "scan", str(tmp_path / "allowed" / ".." / "other"))
    assert exc.value.code == 2
    assert "RECORDS_SCAN_ROOTS" in capsys.readouterr().err
    call_command("records", "scan", str(tmp_path / "allowed"))  # an empty folder is fine
    assert not Scan.objects.filter(root__endswith="other").exists()


def test_register_export_and_import(tmp_path, departments, capsys):
    from hiroba.records import register

    register.file_create(actor="test", data=file_data(departments["care"]))
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"kanribo.{fmt}"
        call_command("records", "register", "export", "--format", fmt, str(out))
        assert out.stat().st_size > 0
        call_command("records", "register", "import", str(out))
    assert "変更なし 1 件" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("所属,作成・取得年度,大分類,中分類,名称,作成・取得者,保存期間,保存場所,管理者,保存期間満了時の措置\r\n"
                   "高齢介護課,令和6年度,介護,認定,新規,係,5年,書庫,課長,廃棄\r\n"
                   "高齢介護課,令和6年度,介護,認定,新規2,係,7年,書庫,課長,廃棄\r\n", encoding="utf-8-sig")
    with pytest.raises(SystemExit) as exc:
        call_command("records", "register", "import", str(bad))
    assert exc.value.code == 2
    assert "3行目" in capsys.readouterr().err
    assert RecordFile.objects.count() == 1


def test_expiring_and_notify(expired_file, capsys):
    call_command("records", "expiring", "--year", "2024")
    out = capsys.readouterr().out
    assert "H30_要介護認定調査票" in out and "1 件" in out
    call_command("records", "notify")
    assert "通知" in capsys.readouterr().out
