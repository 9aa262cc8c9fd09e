"""Staff pages under /staff/surveys/."""

from django.urls import path

from hiroba.surveys import staff_views as views

app_name = "surveys_staff"
urlpatterns = [
    path("", views.survey_list, name="list"),
    path("new/", views.survey_new, name="new"),
    path("<int:pk>/", views.survey_detail, name="detail"),
    path("<int:pk>/answer/", views.survey_answer, name="answer"),
    path("<int:pk>/open/", views.survey_open, name="open"),
    path("<int:pk>/close/", views.survey_close, name="close"),
    path("<int:pk>/results.csv", views.results_csv, name="results_csv"),
    path("<int:pk>/answers.csv", views.answers_csv, name="answers_csv"),
    path("<int:pk>/results.xlsx", views.results_xlsx, name="results_xlsx"),
]
