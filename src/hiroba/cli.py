"""The `hiroba` console script: django-admin with hiroba's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiroba.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["hiroba", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
