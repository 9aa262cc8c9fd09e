"""The ``analyze`` command: output, determinism, bad input."""

import json
from pathlib import Path

import pytest

from hiroba.analysis.cli import main

LETTER = "区役所の窓口を縮小する方針に反対します。高齢者が取り残されます。対面の相談窓口を維持してください。"


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def sample_rows() -> list[dict[str, str]]:
    rows = [{"id": str(i), "text": LETTER, "received_at": "2025-01-10T10:00:00+09:00", "email": f"u{i}@mailinator.com"}
            for i in range(1, 13)]
    rows += [
        {"id": "20", "text": "図書館の開館時間を延長してほしい。連絡先は０３－１２３４－５６７８です。", "name": "千代田太郎"},
        {"id": "21", "text": "P39 の行政手続のオンライン化について、入力項目を減らしてください。"},
        {"id": "23", "text": "重点方針1には賛成です。"},
        {"id": "22", "text": "🙂" * 10 + "\x00\x07制御文字と😀絵文字とＦｕｌｌ　ｗｉｄｔｈ" + "\u202e"},
    ]
    return rows


def test_it_writes_the_report(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", sample_rows())
    sections = tmp_path / "s.json"
    sections.write_text(json.dumps([
        {"id": "s1", "title": "重点方針1 行政手続のオンライン化", "text": "オンライン申請 入力項目", "pages": [38, 41]},
        {"id": "s2", "title": "窓口サービス", "text": "対面の窓口 相談"},
    ], ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "r.json"
    assert main([str(src), "--out", str(out), "--sections", str(sections)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["n_opinions"] == 16
    assert report["n_distinct"] == 5
    [campaign] = report["campaigns"]
    assert campaign["size"] == 12 and campaign["representative_id"] == "1"
    assert report["pii"]["20"] == [{"start": 21, "end": 33, "kind": "phone"}]
    assert report["sections"]["21"][0]["section_id"] == "s1"
    assert "page" in report["sections"]["21"][0]["reasons"]
    assert report["sections"]["23"][0]["section_id"] == "s1"
    assert report["sections"]["23"][0]["score"] == 1.0 and "title" in report["sections"]["23"][0]["reasons"]
    assert report["sections"]["1"][0]["section_id"] == "s2"
    signals = report["signals"]
    assert signals["bursts"][0]["kind"] == "same_second" and signals["bursts"][0]["count"] == 12
    assert len(signals["disposable_emails"]) == 12


def test_it_is_byte_identical_across_runs(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", sample_rows())
    past = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "chiyoda-dx-strategy-2025" / "consultation.json"
    extra = ["--past", str(past)] if past.exists() else []
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main([str(src), "--out", str(a), *extra]) == 0
    assert main([str(src), "--out", str(b), *extra]) == 0
    assert a.read_bytes() == b.read_bytes()
    c = tmp_path / "c.json"
    assert main([str(src), "--out", str(c), "--workers", "1", *extra]) == 0
    assert c.read_bytes() == a.read_bytes()
    if extra:
        report = json.loads(a.read_text(encoding="utf-8"))
        assert report["suggestions"]["21"]  # shares オンライン・入力・項目 with a past opinion
        # the library opinion shares almost nothing with the past ones: nothing offered, and why
        assert report["suggestions"]["20"] == []
        assert report["suggestions_withheld"]["20"]["best_score"] < report["suggestions_withheld"]["20"]["threshold"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"id": "1", "text": "a"}, "", "{not json"], "3行目: JSONとして読めません"),
        ([{"id": "1", "text": "a"}, {"text": "b"}], "2行目: \"id\" がないか不正です"),
        ([{"id": "1"}], "1行目: \"text\" がないか文字列ではありません"),
        ([{"id": "1", "text": "a"}, {"id": 1, "text": "b"}], "2行目: id \"1\" が重複しています"),
        (["[1, 2]"], "1行目: JSONオブジェクトではありません"),
    ],
)
def test_it_rejects_bad_input_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 rows: list[object], message: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "r.json"
    assert main([str(src), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]


def test_it_rejects_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "r.json")]) == 2
    assert "ファイルを読めません" in capsys.readouterr().err


def test_it_rejects_invalid_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": "1", "text": "a"}\n{"id": "2", "text": "\xff"}\n')
    assert main([str(src), "--out", str(tmp_path / "r.json")]) == 2
    assert "2行目: UTF-8として読めません" in capsys.readouterr().err


def test_an_empty_file_gives_an_empty_report(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n\n", encoding="utf-8")
    out = tmp_path / "r.json"
    assert main([str(src), "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["n_opinions"] == 0 and report["campaigns"] == [] and report["groups"] == []
    assert report["pii"] == {} and report["signals"]["bursts"] == []


def test_it_survives_a_long_mixed_text(tmp_path: Path) -> None:
    text = ("区の施策について意見します。連絡は03-1234-5678へ。English words, 한국어, العربية, 😀\u200b\x01。" * 2000)[:100_000]
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "long", "text": text}, {"id": "x", "text": ""}])
    out = tmp_path / "r.json"
    assert main([str(src), "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    spans = report["pii"]["long"]
    assert len(spans) > 1000
    assert all(text[s["start"] : s["end"]] == "03-1234-5678" for s in spans if s["kind"] == "phone")
