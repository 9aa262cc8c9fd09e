from django.urls import path

from hiroba.consultations import views

app_name = "consultations"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("confirm/<str:token>/", views.confirm_email, name="confirm_email"),
    path("verify/callback/", views.verify_callback, name="verify_callback"),
    path("<slug:slug>/", views.case_detail, name="detail"),
    path("<slug:slug>/submit/", views.submit, name="submit"),
    path("<slug:slug>/receipt/<str:token>/", views.receipt, name="receipt"),
    path("<slug:slug>/verify/", views.verify_start, name="verify_start"),
    path("<slug:slug>/report/", views.report_impersonation, name="report"),
    path("<slug:slug>/results/", views.results, name="results"),
    path("<slug:slug>/results.<str:fmt>", views.results_download, name="results_download"),
    path("<slug:slug>/results/v<int:version>/", views.results, name="results_version"),
    path("<slug:slug>/results/v<int:version>.<str:fmt>", views.results_download, name="results_version_download"),
]
