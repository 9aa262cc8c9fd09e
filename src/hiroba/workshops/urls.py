from django.urls import path

from hiroba.workshops import views

app_name = "workshops"
urlpatterns = [
    path("", views.programme_list, name="list"),
    path("consent/<str:token>/", views.consent, name="consent"),
    path("<slug:code>/", views.programme_detail, name="detail"),
    path("<slug:code>/apply/", views.apply, name="apply"),
    path("<slug:code>/thanks/", views.thanks, name="thanks"),
    path("<slug:code>/lottery/entries.txt", views.lottery_entries, name="lottery_entries"),
]
