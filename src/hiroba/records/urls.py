"""Public pages under /records/: the published register (行政文書ファイル管理簿) with search."""

from django.urls import path

from hiroba.records import views

app_name = "records"
urlpatterns = [
    path("", views.register_search, name="register"),
]
