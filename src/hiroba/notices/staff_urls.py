"""Staff pages under /staff/notices/ (behind the staff gate: sign-in, staff, MFA)."""

from django.urls import path

from hiroba.notices import staff_views as views

app_name = "notices_staff"
urlpatterns = [
    path("", views.home, name="home"),
    path("batches/new/", views.batch_new, name="batch_new"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/<str:name>/", views.batch_transition, name="batch_transition"),
    path("batches/<int:pk>/record.csv", views.batch_record, name="batch_record"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("types/new/", views.type_new, name="type_new"),
    path("types/<slug:slug>/", views.type_detail, name="type"),
    path("recipients/import/", views.recipients_upload, name="recipients_upload"),
    path("recipients/import/<int:pk>/", views.recipients_preview, name="recipients_preview"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<int:pk>/print.pdf", views.run_pdf, name="run_pdf"),
    path("runs/<int:pk>/list.csv", views.run_csv, name="run_csv"),
    path("runs/<int:pk>/<str:name>/", views.run_transition, name="run_transition"),
]
