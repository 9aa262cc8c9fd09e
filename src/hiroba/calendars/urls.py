"""Public school calendars under /calendars/: pages, iCalendar feeds, QR codes, CSV and open data."""

from django.urls import path

from hiroba.calendars import views

app_name = "calendars"
urlpatterns = [
    path("", views.index, name="index"),
    path("family/", views.family, name="family"),
    path("opendata/event_list.csv", views.open_data, name="open_data"),
    path("my/<str:token>/", views.combination, name="combination"),
    path("my/<str:token>/list/", views.combination_list, name="combination_list"),
    path("my/<str:token>/feed.ics", views.combination_feed, name="combination_feed"),
    path("my/<str:token>/qr.svg", views.combination_qr, name="combination_qr"),
    path("<slug:slug>/", views.school, name="school"),
    path("<slug:slug>/list/", views.school_list, name="school_list"),
    path("<slug:slug>/feed.ics", views.school_feed, name="school_feed"),
    path("<slug:slug>/events.csv", views.school_csv, name="school_csv"),
    path("<slug:slug>/event_list.csv", views.school_open_data, name="school_open_data"),
    path("<slug:slug>/<slug:key>/feed.ics", views.calendar_feed, name="calendar_feed"),
    path("<slug:slug>/<slug:key>/qr.svg", views.calendar_qr, name="calendar_qr"),
]
