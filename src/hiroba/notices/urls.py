"""Residents' pages under /notices/: their notices, consent per type, linking their 宛名番号."""

from django.urls import path

from hiroba.notices import views

app_name = "notices"
urlpatterns = [
    path("", views.home, name="home"),
    path("link/", views.link, name="link"),
    path("consent/<slug:slug>/", views.consent, name="consent"),
    path("<int:pk>/", views.notice_detail, name="notice"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
]
