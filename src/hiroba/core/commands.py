"""The one shape of hiroba's management commands with sub-actions (`hiroba notices send …`).

A command subclasses `ActionCommand`, declares its sub-parsers with ``dest="action"`` and writes
one ``do_<action>(options)`` method per action. `handle` dispatches to it; a `ServiceError` raised
by the service the action calls becomes its Japanese message on stderr and the exit code
`exit_code` (1 unless the command's contract says otherwise), never a traceback.

    class Command(ActionCommand):
        def add_arguments(self, parser):
            sub = parser.add_subparsers(dest="action", required=True)
            sub.add_parser("remind")

        def do_remind(self, options):
            ...

`iso_date` is the argparse type for a YYYY-MM-DD option, with the error in Japanese.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError

from hiroba.core.errors import ServiceError


def iso_date(value: str) -> date:
    """argparse type: a date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日付は YYYY-MM-DD で指定してください: {value!r}") from exc


class ActionCommand(BaseCommand):
    """A command of sub-actions: ``do_<action>`` per action, service errors as exit codes."""

    exit_code = 1

    def fail(self, message: str, code: int | None = None) -> NoReturn:
        self.stderr.write(message)
        sys.exit(self.exit_code if code is None else code)

    def service_error(self, exc: ServiceError) -> None:
        """Hook: write what the error carries beside its message (row errors, say)."""

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"do_{options['action']}")(options)
        except ServiceError as exc:
            self.service_error(exc)
            self.fail(exc.message)
