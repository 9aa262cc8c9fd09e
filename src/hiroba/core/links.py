"""Absolute links for mails: built from the configured address, never guessed from a proxy.

`settings.HIROBA_BASE_URL` when it is set; otherwise the scheme `HIROBA_HTTPS` says (https, or
http as in the demo) and the host of the request, or outside a request (a management command,
the worker) the first of `ALLOWED_HOSTS`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest


def base_url(request: HttpRequest | None = None) -> str:
    """``scheme://host[:port]`` (no trailing slash) that links in mails start with."""
    if settings.HIROBA_BASE_URL:
        return settings.HIROBA_BASE_URL.rstrip("/")
    scheme = "https" if settings.HTTPS else "http"
    if request is not None:
        host = request.get_host()
    else:
        host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")), "localhost")
    return f"{scheme}://{host}"


def absolute(path_or_url: str, request: HttpRequest | None = None) -> str:
    """The absolute link to a path (``/consultations/…``); an absolute URL is re-based on the
    configured address (its scheme and host replaced, path, query and fragment kept)."""
    bits = urlsplit(path_or_url)
    path = bits.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    tail = path + (f"?{bits.query}" if bits.query else "") + (f"#{bits.fragment}" if bits.fragment else "")
    return base_url(request) + tail
