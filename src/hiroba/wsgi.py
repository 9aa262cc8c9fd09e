"""WSGI entry point (gunicorn hiroba.wsgi): Django's application behind the page cache's front,
which answers anonymous readers' hits on cached public pages before Django's handler runs
(hiroba.core.pagecache.WSGIFront; docs/decisions/0021)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiroba.settings")
django_application = get_wsgi_application()

from hiroba.core.pagecache import WSGIFront  # noqa: E402 (after Django is set up)

application = WSGIFront(django_application)
