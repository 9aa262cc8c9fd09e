"""Staff pages under /staff/calendars/ (behind the staff gate: sign-in, staff, MFA)."""

from django.urls import path

from hiroba.calendars import staff_views as views

app_name = "calendars_staff"
urlpatterns = [
    path("", views.index, name="index"),
    path("template.xlsx", views.template_xlsx, name="template_xlsx"),
    path("template.csv", views.template_csv, name="template_csv"),
    path("<slug:slug>/", views.school_detail, name="school"),
    path("<slug:slug>/events.csv", views.events_csv, name="events_csv"),
    path("<slug:slug>/events/new/", views.event_new, name="event_new"),
    path("<slug:slug>/events/<int:pk>/", views.event_detail, name="event"),
    path("<slug:slug>/events/<int:pk>/edit/", views.event_edit, name="event_edit"),
    path("<slug:slug>/events/<int:pk>/cancel/", views.event_cancel, name="event_cancel"),
    path("<slug:slug>/events/<int:pk>/restore/", views.event_restore, name="event_restore"),
    path("<slug:slug>/calendars/new/", views.calendar_new, name="calendar_new"),
    path("<slug:slug>/terms/", views.terms, name="terms"),
    path("<slug:slug>/terms/<int:pk>/delete/", views.term_delete, name="term_delete"),
    path("<slug:slug>/import/", views.import_upload, name="import"),
    path("<slug:slug>/import/<int:pk>/", views.import_preview, name="import_preview"),
    path("<slug:slug>/import/<int:pk>/apply/", views.import_apply, name="import_apply"),
    path("<slug:slug>/import/<int:pk>/discard/", views.import_discard, name="import_discard"),
]
