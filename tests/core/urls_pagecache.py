"""A URLconf for the page cache tests: marked views that set a cookie, embed a CSRF token, are
private, or answer plainly (a counter shows whether the view ran)."""

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import include, path
from django.utils import translation

from hiroba.core import pagecache

RENDERS = {"count": 0}


def _counted(body: str) -> HttpResponse:
    RENDERS["count"] += 1
    return HttpResponse(f"{body} #{RENDERS['count']}")


@pagecache.public_page("tests")
def plain(request):
    return _counted("plain")


@pagecache.public_page("tests")
def sets_a_cookie(request):
    response = _counted("cookie")
    response.set_cookie("seen", "1")
    return response


@pagecache.public_page("tests")
def with_a_token(request):
    return _counted(f"token {get_token(request)}")


@pagecache.public_page("tests")
def private(request):
    response = _counted("private")
    response["Cache-Control"] = "private"
    return response


@pagecache.public_page("tests")
def language(request):
    return _counted(f"language {translation.get_language()}")


@pagecache.public_page("tests")
def with_a_nonce(request):
    return _counted(f"<script nonce=\"{request.csp_nonce}\"></script>")


urlpatterns = [
    path("cached/plain/", plain),
    path("cached/cookie/", sets_a_cookie),
    path("cached/token/", with_a_token),
    path("cached/private/", private),
    path("cached/language/", language),
    path("cached/nonce/", with_a_nonce),
    path("", include("hiroba.urls")),
]
