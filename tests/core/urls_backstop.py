"""A URLconf for the audit backstop test: a view that writes without calling the audit log."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from hiroba.core.models import Department


@csrf_exempt
def careless_write(request):
    Department.objects.create(code="careless", name="記録し忘れ")
    return HttpResponse("ok")


urlpatterns = [
    path("staff/careless/", careless_write),
    path("", include("hiroba.urls")),
]
