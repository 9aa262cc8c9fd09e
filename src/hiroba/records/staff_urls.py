"""Staff pages under /staff/records/ (behind the staff gate: sign-in, staff, MFA)."""

from django.urls import path

from hiroba.records import staff_views as views
from hiroba.records import transfer_views

app_name = "records_staff"
urlpatterns = [
    path("", views.home, name="home"),
    path("guideline/", views.guideline, name="guideline"),
    path("files/", views.file_list, name="files"),
    path("files/new/", views.file_new, name="file_new"),
    path("files/import/", views.file_import, name="file_import"),
    path("files/<int:pk>/", views.file_detail, name="file"),
    path("files/<int:pk>/<str:what>/", views.file_action, name="file_action"),
    path("expiry/", views.expiry, name="expiry"),
    path("approvals/", views.approvals, name="approvals"),
    path("scans/", views.scan_list, name="scans"),
    path("scans/<int:pk>/", views.scan_detail, name="scan"),
    path("search/", views.search, name="search"),
    path("transfers/", transfer_views.transfer_list, name="transfers"),
    path("transfers/new/", transfer_views.transfer_new, name="transfer_new"),
    path("transfers/<int:pk>/", transfer_views.transfer_detail, name="transfer"),
    path("transfers/<int:pk>/files/<int:file_pk>/", transfer_views.transfer_download, name="transfer_download"),
    path("transfers/<int:pk>/<str:what>/", transfer_views.transfer_action, name="transfer_action"),
]
