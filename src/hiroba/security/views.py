"""Public pages: anyone may tell the ward about a security problem; the 受付番号 is shown only
after the report has been committed."""

from __future__ import annotations

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from hiroba.core import throttle
from hiroba.core.actors import Actor
from hiroba.core.errors import ServiceError
from hiroba.security import incidents
from hiroba.security.forms import ReportForm
from hiroba.security.models import Incident

RECEIPT_SALT = "hiroba.security.receipt"


@require_http_methods(["GET", "POST"])
@throttle.throttle("security.report", key=throttle.posted("email"))
def report(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = incidents.incident_report_receive(
                actor=Actor.resident(request.user), description=data["description"],
                related_url=data["related_url"], name=data["name"], email=data["email"],
                site_url=request.build_absolute_uri("/"),
            )
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            # The service's transaction has committed here: the number shown is durable.
            token = signing.dumps(incident.receipt_number, salt=RECEIPT_SALT)
            return HttpResponseRedirect(reverse("security:receipt", args=[token]), status=303)
    status = 400 if request.method == "POST" else 200
    return render(request, "security/report.html", {"form": form}, status=status)


def receipt(request: HttpRequest, token: str) -> HttpResponse:
    try:
        number = signing.loads(token, salt=RECEIPT_SALT, max_age=24 * 3600)
    except signing.BadSignature:
        raise Http404(gettext("受付番号の表示期限が過ぎたか、URLが正しくありません。")) from None
    incident = get_object_or_404(Incident, receipt_number=number)
    return render(request, "security/receipt.html", {"number": incident.receipt_number})
