"""Staff pages under /staff/security/ (behind the staff gate: sign-in, staff, MFA)."""

from django.urls import path

from hiroba.security import staff_views as views

app_name = "security_staff"
urlpatterns = [
    path("", views.home, name="home"),
    path("queue/", views.queue, name="queue"),
    path("overdue/", views.overdue, name="overdue"),
    path("posture/", views.posture_run, name="posture"),
    path("systems/", views.system_list, name="systems"),
    path("systems/new/", views.system_new, name="system_new"),
    path("systems/template.<str:fmt>", views.template_download, name="template"),
    path("systems/<int:pk>/", views.system_detail, name="system"),
    path("systems/<int:pk>/edit/", views.system_edit, name="system_edit"),
    path("systems/<int:pk>/import/", views.system_import, name="system_import"),
    path("systems/<int:pk>/report.<str:fmt>", views.system_report, name="system_report"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
    path("findings/<int:pk>/transition/<str:name>/", views.finding_transition, name="finding_transition"),
    path("findings/<int:pk>/risk/", views.risk_request, name="risk_request"),
    path("acceptances/", views.acceptance_list, name="acceptances"),
    path("acceptances/<int:pk>/", views.risk_decide, name="risk_decide"),
    path("audits/", views.audit_list, name="audits"),
    path("audits/new/", views.audit_new, name="audit_new"),
    path("audits/<int:pk>/", views.audit_detail, name="audit"),
    path("issues/<int:pk>/actions/new/", views.action_new, name="action_new"),
    path("actions/<int:pk>/<str:name>/", views.action_transition, name="action_transition"),
    path("incidents/", views.incident_list, name="incidents"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("playbooks/new/", views.playbook_new, name="playbook_new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/<str:what>/", views.incident_action, name="incident_action"),
    path("training/", views.course_list, name="courses"),
    path("training/new/", views.course_new, name="course_new"),
    path("training/<int:pk>/", views.course_detail, name="course"),
    path("policy/", views.policy_page, name="policy"),
    path("policy/new/", views.policy_new, name="policy_new"),
]
