"""The refusals of the calendars app, all `ServiceError`s (code for programs, field for forms).

- `ParseError`: a value (date, time, 繰り返し) that cannot be read. It is also a `ValueError`,
  as a parsing failure always was; the form or the import names the field it came from.
- `FileRejected`: an uploaded file that cannot be read as a whole (field ``file``).
- `RowError`: one problem of one row of an import. Collected, not raised: the preview lists them
  all, and the batch stores them (``as_dict``) so the list can be shown again.
- `ImportNotApplicable`: an import that cannot be applied; ``errors`` lists the row problems.
- `CalendarsError`: any other refusal of a calendars service.
"""

from __future__ import annotations

from typing import Any

from hiroba.core.errors import ServiceError


class CalendarsError(ServiceError):
    """A calendars service refused the operation; nothing was changed."""


class ParseError(ServiceError, ValueError):
    """A value that cannot be read; the message names the value and is shown to the clerk."""

    code = "unreadable"


class FileRejected(ServiceError):
    """The file as a whole cannot be read (too large, wrong format, no header)."""

    code = "file_rejected"

    def __init__(self, message: Any, code: str | None = None) -> None:
        super().__init__(message, code, field="file")


class RowError(ServiceError):
    """A problem of one row (``line`` as Excel shows it, None for the file) in one column."""

    code = "row_invalid"

    def __init__(self, line: int | None, column: str, message: Any, code: str | None = None,
                 field: str | None = None) -> None:
        super().__init__(message, code, field=field)
        self.line = line
        self.column = column

    def as_dict(self) -> dict[str, Any]:
        """The stored form of the problem (the message rendered now, in the active language)."""
        return {"line": self.line, "column": self.column, "message": self.message, "code": self.code}


class ImportNotApplicable(ServiceError):
    """The batch cannot be applied (already applied, or rows no longer fit); `errors` says why."""

    code = "import_not_applicable"

    def __init__(self, errors: list[dict[str, Any]], code: str | None = None) -> None:
        super().__init__("; ".join(str(e["message"]) for e in errors), code)
        self.errors = errors
