"""`hiroba analyze` runs the pure-Python analysis from the console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _hiroba(*args: str, tmp_path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HIROBA_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="hiroba.settings")
    return subprocess.run([sys.executable, "-m", "hiroba.cli", *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_it_writes_the_report(tmp_path):
    source = tmp_path / "in.jsonl"
    lines = [{"id": str(i), "text": "区役所の窓口は土曜日も開けてください。連絡先は03-1234-5678です。"} for i in range(3)]
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    result = _hiroba("analyze", str(source), "--out", str(out), "--quiet", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["n_opinions"] == 3 and report["n_distinct"] == 1
    assert report["campaigns"][0]["size"] == 3
    assert report["pii"]["0"][0]["kind"] == "phone"


def test_bad_json_names_the_line_and_writes_nothing(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "1", "text": "a"}\n{broken\n', encoding="utf-8")
    out = tmp_path / "report.json"
    result = _hiroba("analyze", str(source), "--out", str(out), tmp_path=tmp_path)
    assert result.returncode == 2
    assert "2行目" in result.stderr
    assert not out.exists()
