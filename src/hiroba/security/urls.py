"""Public pages under /security/: the 「セキュリティに関するご連絡」 form and its receipt."""

from django.urls import path

from hiroba.security import views

app_name = "security"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/received/<str:token>/", views.receipt, name="receipt"),
]
