from django.urls import path

from hiroba.proposals import staff_views as views

app_name = "proposals_staff"
urlpatterns = [
    path("", views.call_list, name="list"),
    path("new/", views.call_edit, name="call_new"),
    path("reviews/", views.my_reviews, name="my_reviews"),
    path("reviews/<int:pk>/", views.review, name="review"),
    path("reviews/<int:pk>/conflict/", views.review_conflict, name="review_conflict"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("verify/", views.verify, name="verify"),
    path("<slug:slug>/", views.call_detail, name="call"),
    path("<slug:slug>/edit/", views.call_edit, name="call_edit"),
    path("<slug:slug>/reviewers/", views.reviewers, name="reviewers"),
    path("<slug:slug>/screening/", views.screening, name="screening"),
    path("<slug:slug>/voters/", views.voters, name="voters"),
    path("<slug:slug>/results/publish/", views.publish_results, name="publish_results"),
    path("<slug:slug>/p/<str:receipt>/", views.proposal_detail, name="proposal"),
    path("<slug:slug>/p/<str:receipt>/decide/", views.decide, name="decide"),
    path("<slug:slug>/p/<str:receipt>/adopt/", views.adopt, name="adopt"),
    path("<slug:slug>/p/<str:receipt>/followup/", views.followup_edit, name="followup"),
    path("<slug:slug>/p/<str:receipt>/<str:action>/", views.proposal_moderate, name="moderate"),
]
