"""WSGI entry point (gunicorn hiroba.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiroba.settings")
application = get_wsgi_application()
