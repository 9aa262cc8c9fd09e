"""``hiroba analyze IN.jsonl --out REPORT.json [--sections S.json] [--past P.json]``.

Exit codes: 0 success, 2 bad input or usage (message on stderr, nothing written).
The report is written atomically (temporary file, then rename).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from hiroba.analysis.inputs import InputError, read_opinions, read_past, read_sections
from hiroba.analysis.model import Progress
from hiroba.analysis.report import analyze, dumps

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (without the ``analyze`` sub-command word)."""
    p = argparse.ArgumentParser(
        prog="hiroba analyze",
        description="意見の分析レポートを作成します（重複・組織的意見、同趣旨グループ、該当箇所、回答案、個人情報、提出シグナル）。",
    )
    p.add_argument("input", metavar="IN.jsonl", help='1行に1件の意見 {"id", "text", ...}')
    p.add_argument("--out", required=True, metavar="REPORT.json", help="出力するレポート")
    p.add_argument("--sections", metavar="S.json", help='素案の節 [{"id", "title", "text"}]')
    p.add_argument("--past", metavar="P.json", action="append", default=[],
                   help="過去の意見と回答（P.json または consultation.json）。複数指定可")
    p.add_argument("--no-names", action="store_true", help="人名の検出を行わない（高速）")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="並列処理のプロセス数（既定: 2、1 で並列化しない）。結果は変わりません")
    p.add_argument("--quiet", action="store_true", help="進捗を表示しない")
    return p


def _tqdm_progress() -> tuple[Progress, Any]:
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bars.clear()
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="件", leave=False, file=sys.stderr)
        bar.total = total
        bar.n = done
        bar.refresh()

    def close() -> None:
        for b in bars.values():
            b.close()

    return progress, close


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    args = build_parser().parse_args(argv)
    from hiroba.analysis.report import Params

    try:
        opinions = read_opinions(args.input)
        sections = read_sections(args.sections) if args.sections else None
        past = [item for path in args.past for item in read_past(path)] or None
        if past:
            seen: set[str] = set()
            for item in past:
                if item.id in seen:
                    raise InputError(f"過去の回答の id \"{item.id}\" が重複しています（duplicate past id）")
                seen.add(item.id)
    except InputError as e:
        print(f"エラー: {e}", file=sys.stderr)
        return 2

    progress: Progress | None = None
    close = None
    if not args.quiet and sys.stderr.isatty():
        progress, close = _tqdm_progress()
    try:
        report = analyze(opinions, sections=sections, past=past, params=Params(person_names=not args.no_names),
                         progress=progress, workers=args.workers)
    finally:
        if close:
            close()
    out = Path(args.out)
    data = dumps(report).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".analysis-", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
