"""Mounted at the site root by hiroba/urls.py: /api/v1/, /opendata/ and /staff/api/."""

from django.urls import include, path

from hiroba.api import opendata, staff_views
from hiroba.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("opendata/", include((opendata.urlpatterns, "opendata"))),
    path("staff/api/", include((staff_views.urlpatterns, "api_staff"))),
]
