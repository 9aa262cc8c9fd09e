from django.urls import path

from hiroba.workshops import views

app_name = "workshops_staff"
urlpatterns = [
    path("", views.staff_list, name="list"),
    path("new/", views.staff_create, name="create"),
    path("<slug:code>/", views.staff_detail, name="detail"),
    path("<slug:code>/edit/", views.staff_edit, name="edit"),
    path("<slug:code>/quotas/", views.staff_quota, name="quota"),
    path("<slug:code>/applications/<str:receipt>/", views.staff_application, name="application"),
    path("<slug:code>/lottery/", views.staff_lottery, name="lottery"),
    path("<slug:code>/sessions/new/", views.staff_session, name="session_create"),
    path("<slug:code>/sessions/<int:number>/", views.staff_session, name="session_edit"),
    path("<slug:code>/sessions/<int:number>/attendance/", views.staff_attendance, name="attendance"),
    path("<slug:code>/outputs/", views.staff_outputs, name="outputs"),
    path("<slug:code>/outputs/submit/", views.staff_outputs_submit, name="outputs_submit"),
    path("<slug:code>/export/", views.staff_export, name="export"),
]
