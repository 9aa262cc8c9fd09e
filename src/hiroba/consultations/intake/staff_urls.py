"""Mounted by consultations/staff_urls.py under /staff/consultations/<slug>/channels/."""

from django.urls import path

from hiroba.consultations.intake import staff_views as v

app_name = "intake"
urlpatterns = [
    path("", v.queue, name="queue"),
    path("<int:pk>/", v.entry_detail, name="entry"),
    path("<int:pk>/reject/", v.entry_reject, name="reject"),
    path("originals/<int:pk>/", v.original, name="original"),
    path("scans/", v.scan_upload, name="scans"),
    path("scans/separator-sheet.pdf", v.separator_sheet, name="separator_sheet"),
    path("formservice/", v.form_import, name="formservice"),
]
