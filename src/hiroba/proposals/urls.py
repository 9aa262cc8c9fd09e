from django.urls import path

from hiroba.proposals import views

app_name = "proposals"
urlpatterns = [
    path("", views.call_list, name="list"),
    path("mine/", views.mine, name="mine"),
    path("adopted/", views.followups, name="followups"),
    path("verifier/ballots.py", views.verifier, name="verifier"),
    path("<slug:slug>/", views.call_detail, name="call"),
    path("<slug:slug>/propose/", views.propose, name="propose"),
    path("<slug:slug>/propose/<int:pk>/", views.propose, name="edit"),
    path("<slug:slug>/propose/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<slug:slug>/propose/<int:pk>/done/", views.done, name="done"),
    path("<slug:slug>/vote/", views.vote, name="vote"),
    path("<slug:slug>/results/", views.results, name="results"),
    path("<slug:slug>/results.<str:fmt>", views.results_export, name="export"),
    path("<slug:slug>/p/<str:receipt>/", views.proposal_public, name="proposal"),
]
