from django.urls import include, path

from hiroba.consultations import analysis_views as av
from hiroba.consultations import staff_views as v

app_name = "consultations_staff"
urlpatterns = [
    path("", v.case_list, name="list"),
    path("new/", v.case_create, name="case_create"),
    path("routing/", v.routing_queue, name="routing_queue"),
    path("routing/<int:pk>/", v.routing_respond, name="routing_respond"),
    path("<slug:slug>/", v.case_detail, name="detail"),
    path("<slug:slug>/state/", v.case_state, name="case_state"),
    path("<slug:slug>/details/", v.case_details, name="case_details"),
    path("<slug:slug>/flood-guard/", v.case_proof_of_work, name="proof_of_work"),
    path("<slug:slug>/submitters/", v.submitters, name="submitters"),
    path("<slug:slug>/sections/", v.section_add, name="section_add"),
    path("<slug:slug>/intake/", v.intake, name="intake"),
    path("<slug:slug>/channels/", include("hiroba.consultations.intake.staff_urls")),  # mail, scans, form service
    path("<slug:slug>/submissions/<str:number>/", v.submission_detail, name="submission"),
    path("<slug:slug>/submissions/<str:number>/original/", v.submission_original, name="submission_original"),
    path("<slug:slug>/items/<int:number>/", v.item_detail, name="item"),
    path("<slug:slug>/analysis/", av.overview, name="analysis"),
    path("<slug:slug>/analysis/start/", av.start, name="analysis_start"),
    path("<slug:slug>/analysis/progress.json", av.progress, name="analysis_progress"),
    path("<slug:slug>/analysis/<str:kind>/<str:key>/", av.cluster_detail, name="analysis_cluster"),
    path("<slug:slug>/approval/", v.approval, name="approval"),
    path("<slug:slug>/approval/route/", v.approval_route, name="approval_route"),
    path("<slug:slug>/masks/", v.masks, name="masks"),
    path("<slug:slug>/reports/", v.reports, name="reports"),
    path("<slug:slug>/reports/<int:pk>/", v.report_review, name="report_review"),
    path("<slug:slug>/publish/", v.publish, name="publish"),
    path("<slug:slug>/export.<str:fmt>", v.export, name="export"),
]
