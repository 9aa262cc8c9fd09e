"""The staff home's to-do list: what is waiting for the signed-in staff member, with counts.

Each domain app declares a function on its AppConfig, ``staff_todos = "hiroba.<app>.todo.todos"``,
taking the user and returning `Todo` rows; core collects them without importing any app by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Todo:
    label: str  # 「共有された意見（回答待ち）」
    count: int
    url: str  # where the work is done
    urgent: bool = False  # past a due date
    #: (text, url) of the cases or records behind the count, the first few
    details: list[tuple[str, str]] = field(default_factory=list)


def collect(user: Any) -> list[Todo]:
    """Every app's to-dos for `user` that have something waiting, urgent ones first."""
    rows: list[Todo] = []
    for config in apps.get_app_configs():
        path = getattr(config, "staff_todos", None)
        if path:
            rows.extend(todo for todo in import_string(path)(user) if todo.count)
    return sorted(rows, key=lambda t: not t.urgent)
