"""hiroba analyze IN.jsonl --out REPORT.json [--sections S.json] [--past P.json]

A thin wrapper: the analysis is pure Python (hiroba.analysis) and parses its own arguments.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "意見の分析（決定的・生成AIなし）。引数は `hiroba analyze --help` を参照"

    def run_from_argv(self, argv: list[str]) -> None:
        from hiroba.analysis.cli import main

        sys.exit(main(argv[2:]))

    def handle(self, *args: Any, **options: Any) -> None:  # called only via call_command
        from hiroba.analysis.cli import main

        code = main(list(args))
        if code:
            sys.exit(code)
