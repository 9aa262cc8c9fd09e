"""Structured logs: one JSON object a line, with the request id and client address of the request
being served (hiroba.core.request_context) on every line. `HIROBA_LOG_FORMAT=json` turns it on
(scripts/cluster.sh and deploy/hiroba.env.example do); the default stays plain text."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from hiroba.core import request_context


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``client`` to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.current()
        record.request_id = context.request_id
        record.client = context.ip_address or ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "client": getattr(record, "client", ""),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
