"""/staff/api/: a staff member's own API tokens — create (shown once), list, revoke.

Behind the staff gate (signed in, staff, MFA enrolled); the service refuses a token to anyone
without a strong second factor as well."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hiroba.accounts import permissions
from hiroba.accounts.models import User
from hiroba.api import tokens, webhooks
from hiroba.api.forms import TokenForm, WebhookForm
from hiroba.api.models import ApiToken
from hiroba.core.errors import ServiceError, flashed
from hiroba.core.paging import page_of


def _visible(request: HttpRequest) -> QuerySet[ApiToken]:
    qs = ApiToken.objects.select_related("user").prefetch_related("departments")
    if permissions.is_system_admin(request.user):
        return qs
    # Behind the staff gate: the user is a signed-in staff member.
    return qs.filter(user=request.user) if isinstance(request.user, User) else qs.none()


def token_list(request: HttpRequest) -> HttpResponse:
    return render(request, "api/staff/tokens.html", {"page": page_of(request, _visible(request)),
                                                     "is_admin": permissions.is_system_admin(request.user)})


@require_http_methods(["GET", "POST"])
def token_new(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None, departments=tokens.grantable_departments(request.user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            token, plain = tokens.token_create(actor=request.user, user=request.user, name=d["name"],
                                               departments=d["departments"], modules=d["modules"],
                                               access=d["access"], expires_on=d["expires_on"])
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            response = render(request, "api/staff/token_created.html", {"token": token, "plain": plain})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "api/staff/token_new.html", {"form": form, "max_day": tokens.max_expiry_day()},
                  status=400 if request.method == "POST" else 200)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(_visible(request), pk=pk)
    with flashed(request, _("APIトークン「%(name)s」を失効させました。") % {"name": token.name}):
        tokens.token_revoke(actor=request.user, token=token)
    return HttpResponseRedirect(reverse("api_staff:tokens"))


def webhook_list(request: HttpRequest) -> HttpResponse:
    """The hooks of the departments the user reads, each with its latest deliveries (the log)."""
    from hiroba.accounts.models import Role
    from hiroba.api.models import Webhook

    ids = permissions.department_ids(request.user, Role.READ)
    hooks = Webhook.objects.select_related("department").prefetch_related("deliveries")
    if ids is not None:
        hooks = hooks.filter(department_id__in=ids)
    page = page_of(request, hooks)
    manageable = set(webhooks.manageable_departments(request.user).values_list("pk", flat=True))
    return render(request, "api/staff/webhooks.html", {
        "page": page, "hooks": [(h, list(h.deliveries.all()[:50]), h.department_id in manageable) for h in page],
        "may_register": bool(manageable)})


@require_http_methods(["GET", "POST"])
def webhook_new(request: HttpRequest) -> HttpResponse:
    """Register a hook for a department the user approves for; its signing secret is shown once."""
    departments = webhooks.manageable_departments(request.user)
    if not departments.exists():
        raise PermissionDenied
    form = WebhookForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            hook, secret = webhooks.hook_create(actor=request.user, department=d["department"], url=d["url"],
                                                events=d["events"])
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            response = render(request, "api/staff/webhook_created.html", {"hook": hook, "secret": secret})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "api/staff/webhook_new.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


@require_POST
def webhook_disable(request: HttpRequest, pk: int) -> HttpResponse:
    from hiroba.api.models import Webhook

    hook = get_object_or_404(Webhook.objects.filter(department__in=webhooks.manageable_departments(request.user)),
                             pk=pk)
    with flashed(request, _("Webhook（%(url)s）を止めました。") % {"url": hook.url}):
        webhooks.hook_disable(actor=request.user, hook=hook)
    return HttpResponseRedirect(reverse("api_staff:webhooks"))


urlpatterns = [
    path("webhooks/", webhook_list, name="webhooks"),
    path("webhooks/new/", webhook_new, name="webhook_new"),
    path("webhooks/<int:pk>/disable/", webhook_disable, name="webhook_disable"),
    path("tokens/", token_list, name="tokens"),
    path("tokens/new/", token_new, name="token_new"),
    path("tokens/<int:pk>/revoke/", token_revoke, name="token_revoke"),
]
