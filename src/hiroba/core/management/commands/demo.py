"""hiroba demo: load the demo data of every module (idempotent)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "デモデータ（所属・職員、および各機能のデモ）を読み込む。何度実行しても同じ結果になる。"

    def handle(self, *args: Any, **options: Any) -> None:
        for config in apps.get_app_configs():
            if not config.name.startswith("hiroba."):
                continue
            try:
                load = import_string(f"{config.name}.demo.load")
            except ImportError:
                continue
            with transaction.atomic():
                load(lambda line, label=config.verbose_name: self.stdout.write(f"[{label}] {line}"))
        self.stdout.write(self.style.SUCCESS("デモデータを読み込みました。 http://127.0.0.1:8000/"))
