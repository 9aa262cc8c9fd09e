"""The verified-account level against a real OpenID Connect provider on loopback (no mocks):
state, nonce, PKCE and the ID token's signature are checked; the opinion records who verified."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from hiroba.consultations.models import Submission
from tests.consultations.conftest import DURING
from tests.consultations.oidc_provider import Provider

pytestmark = pytest.mark.django_db


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


@pytest.fixture
def provider(settings) -> Iterator[Provider]:
    with Provider() as idp:
        settings.CONSULTATIONS_OIDC = {"issuer": idp.url, "client_id": idp.client_id,
                                       "client_secret": idp.client_secret, "label": "マイナンバーカード"}
        yield idp


def authorize(client, case) -> str:
    """Follow the resident to the IdP and back; returns the callback path with code and state."""
    start = client.get(f"/consultations/{case.slug}/verify/")
    assert start.status_code == 302 and start["Location"].startswith("http://127.0.0.1")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start["Location"]).query))
    assert query["code_challenge_method"] == "S256" and query["nonce"] and query["state"]
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(start["Location"], timeout=5)
    except urllib.error.HTTPError as redirect:
        location = redirect.headers["Location"]
    else:  # pragma: no cover
        raise AssertionError("the provider did not redirect back")
    url = urllib.parse.urlsplit(location)
    return f"{url.path}?{url.query}"


def test_a_verified_resident_submits_and_the_subject_is_recorded(client, make_case, provider, time_machine):
    time_machine.move_to(DURING)
    case = make_case(identity_level="verified")
    page = client.get(f"/consultations/{case.slug}/submit/")
    assert "本人確認が必要です" in page.content.decode()
    refused = client.post(f"/consultations/{case.slug}/submit/", {"text": "x", "step": "submit"})
    assert refused.status_code == 403 and Submission.objects.count() == 0
    back = client.get(authorize(client, case))
    assert back.status_code == 302 and back["Location"].endswith(f"/consultations/{case.slug}/submit/")
    assert provider.token_requests[-1]["code_verifier"]
    form = client.get(f"/consultations/{case.slug}/submit/")
    assert "本人確認済み：番号 カード子" in form.content.decode()
    done = client.post(f"/consultations/{case.slug}/submit/", {
        "name": "番号 カード子", "address": "千代田区", "category": "resident", "text": "本人の意見です。",
        "idempotency_key": uuid.uuid4().hex, "step": "submit"})
    assert done.status_code == 303
    submission = Submission.objects.get()
    assert submission.identity_status == Submission.IdentityStatus.VERIFIED
    assert submission.verified_by == "oidc"
    assert submission.verified_subject == hashlib.sha256(f"{provider.url}|resident-0001".encode()).hexdigest()


def test_one_verification_serves_the_resident_for_every_case_of_the_session(client, make_case, provider,
                                                                              time_machine):
    from hiroba.accounts import identity
    from hiroba.accounts.models import IdentityLevel

    time_machine.move_to(DURING)
    first = make_case(identity_level="verified")
    second = make_case(slug="second-case", identity_level="verified")
    assert client.get(authorize(client, first)).status_code == 302
    assert len(provider.token_requests) == 1
    assert client.session[identity.SESSION_KEY]["subject"] == "resident-0001"  # one identity, not one per case
    form = client.get(f"/consultations/{second.slug}/submit/")
    assert "本人確認済み：番号 カード子" in form.content.decode()
    assert len(provider.token_requests) == 1  # no second trip to the provider
    request = form.wsgi_request
    assert identity.level(request) == IdentityLevel.VERIFIED and identity.satisfies(request, IdentityLevel.EMAIL)


@pytest.mark.parametrize("misbehave, reason", [
    ("nonce", "nonce"), ("aud", "aud"), ("expired", "exp"), ("signature", "署名"),
])
def test_a_bad_id_token_is_refused(client, make_case, provider, time_machine, misbehave, reason):
    time_machine.move_to(DURING)
    case = make_case(identity_level="verified")
    provider.misbehave = misbehave
    response = client.get(authorize(client, case))
    assert response.status_code == 400 and reason in response.content.decode()
    assert "hiroba_identity" not in client.session


def test_a_forged_state_is_refused(client, make_case, provider, time_machine):
    time_machine.move_to(DURING)
    case = make_case(identity_level="verified")
    path = authorize(client, case)
    forged = path.replace("state=", "state=x")
    response = client.get(forged)
    assert response.status_code == 400 and "state" in response.content.decode()
    assert provider.token_requests == []  # the code was never redeemed


def test_pkce_is_enforced_by_the_provider(client, make_case, provider, time_machine):
    time_machine.move_to(DURING)
    case = make_case(identity_level="verified")
    path = authorize(client, case)
    session = client.session
    session["hiroba_identity_oidc_pending"]["verifier"] = "wrong-verifier"
    session.save()
    response = client.get(path)
    assert response.status_code == 400
    assert "hiroba_identity" not in client.session


def test_a_signed_in_residents_verification_is_stored_and_serves_a_later_session(client, make_case, provider,
                                                                                  resident, time_machine):
    from django.test import Client

    from hiroba.accounts.models import ResidentVerification

    time_machine.move_to(DURING)
    case = make_case(identity_level="verified")
    client.force_login(resident)
    assert client.get(authorize(client, case)).status_code == 302
    stored = ResidentVerification.objects.get(user=resident)
    subject_hash = hashlib.sha256(f"{provider.url}|resident-0001".encode()).hexdigest()
    assert stored.method == "oidc" and stored.identity_key == subject_hash and stored.is_valid

    later = Client()  # another browser, another session: nothing of the verifier in it
    later.force_login(resident)
    form = later.get(f"/consultations/{case.slug}/submit/")
    assert "本人確認済み：番号 カード子" in form.content.decode()
    assert "hiroba_identity" not in later.session and len(provider.token_requests) == 1
    done = later.post(f"/consultations/{case.slug}/submit/", {
        "name": "番号 カード子", "address": "千代田区", "category": "resident", "text": "次の日の意見です。",
        "idempotency_key": uuid.uuid4().hex, "step": "submit"})
    assert done.status_code == 303
    submission = Submission.objects.get()
    assert submission.identity_status == Submission.IdentityStatus.VERIFIED
    assert (submission.verified_by, submission.verified_subject) == ("oidc", subject_hash)
