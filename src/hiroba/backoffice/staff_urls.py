"""The staff back office (/staff/): every URL here passes the StaffAreaMiddleware gate."""

from django.urls import path

from hiroba.accounts import views as account_views
from hiroba.backoffice import views

app_name = "staff"
urlpatterns = [
    path("", views.staff_home, name="home"),
    path("departments/", views.department_list, name="department_list"),
    path("departments/<slug:code>/", views.department_detail, name="department_detail"),
    path("audit/", views.audit_log, name="audit_log"),
    path("throttle/", views.throttle_report, name="throttle"),
    path("accounts/review/", account_views.account_review_page, name="account_review"),
]
