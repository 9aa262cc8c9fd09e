"""hiroba.analysis must never import Django."""

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def test_it_never_imports_django() -> None:
    code = (
        "import sys, hiroba.analysis, hiroba.analysis.cli, hiroba.analysis.report, hiroba.analysis.pii;"
        "from hiroba.analysis import analyze, Opinion;"
        "analyze([Opinion('1', '山田さんの電話は03-1234-5678です。'), Opinion('2', '山田さんの電話は03-1234-5678です。')]);"
        "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')];"
        "assert not bad, bad"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_no_module_mentions_django() -> None:
    for path in (SRC / "hiroba" / "analysis").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import django" not in text and "from django" not in text, path
