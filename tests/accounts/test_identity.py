"""`accounts.identity`: the level a request's resident has reached, asked by any module."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from hiroba.accounts import identity
from hiroba.accounts.models import IdentityLevel

pytestmark = pytest.mark.django_db


def _request(user=None, verified: identity.VerifiedIdentity | None = None):
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = user or AnonymousUser()
    if verified is not None:
        identity.remember(request, verified)
        request.session.save()
        request.COOKIES[settings.SESSION_COOKIE_NAME] = request.session.session_key
    return request


def test_the_levels_a_resident_reaches(resident):
    assert identity.level(_request()) == IdentityLevel.NONE
    assert identity.level(_request(resident)) == IdentityLevel.NONE  # the address is not confirmed yet
    EmailAddress.objects.create(user=resident, email=resident.email, verified=True, primary=True)
    request = _request(resident)
    assert identity.level(request) == IdentityLevel.EMAIL
    assert identity.satisfies(request, IdentityLevel.EMAIL) and not identity.satisfies(request, IdentityLevel.VERIFIED)
    card = identity.VerifiedIdentity(verifier="oidc", issuer="https://idp.example", subject="0001", name="番号 花子")
    request = _request(verified=card)
    assert identity.verified(request) == card and identity.level(request) == IdentityLevel.VERIFIED
    assert identity.satisfies(request, IdentityLevel.VERIFIED)
    assert IdentityLevel.satisfies("verified", "none") and not IdentityLevel.satisfies("none", "email")
