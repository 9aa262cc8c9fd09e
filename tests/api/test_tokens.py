"""Staff tokens: created only with MFA, at most a year, stored hashed, scoped to modules,
departments and read or write, expired and revoked ones refused, every use audited with the
token's id; the one write (an opinion from another intake system) is the web form's service."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from hiroba.api import tokens
from hiroba.api.models import ApiToken
from hiroba.consultations.models import Case, Submission
from hiroba.core import audit, paging
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import AuditEntry, Department
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def entries(action):
    audit.chain_pending()
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def test_a_token_is_shown_once_and_stored_only_as_its_hash(make_token):
    token, plain = make_token()
    assert plain.startswith(f"hiroba_{token.prefix}_")
    row = ApiToken.objects.get(pk=token.pk)
    assert row.token_hash == tokens.hash_token(plain) and plain not in str(row.__dict__)
    created = entries("api.token_create")[-1]
    assert created.changes["token_id"] == token.pk and plain not in str(created.changes)


def test_creating_a_token_needs_mfa_a_role_in_the_departments_and_at_most_a_year(make_staff, departments):
    no_mfa = make_staff(email="nomfa@example.jp", mfa=False).user
    day = timezone.localdate() + timedelta(days=30)
    with pytest.raises(NotAllowed) as exc:
        tokens.token_create(actor=no_mfa, user=no_mfa, name="x", departments=[departments["digital"]],
                            modules=["consultations"], access="read", expires_on=day)
    assert exc.value.code == "mfa_required"
    user = make_staff(email="ok@example.jp").user
    with pytest.raises(NotAllowed) as exc:
        tokens.token_create(actor=user, user=user, name="x", departments=[departments["care"]],
                            modules=["consultations"], access="read", expires_on=day)
    assert exc.value.code == "department_not_allowed"
    with pytest.raises(ServiceError) as exc:
        tokens.token_create(actor=user, user=user, name="x", departments=[departments["digital"]],
                            modules=["consultations"], access="read",
                            expires_on=timezone.localdate() + timedelta(days=366))
    assert exc.value.code == "expiry_too_long"
    with pytest.raises(ServiceError) as exc:
        tokens.token_create(actor=user, user=user, name="x", departments=[departments["digital"]],
                            modules=["nothing"], access="read", expires_on=day)
    assert exc.value.code == "modules_invalid"
    other = make_staff(email="other@example.jp").user
    with pytest.raises(NotAllowed):
        tokens.token_create(actor=other, user=user, name="x", departments=[departments["digital"]],
                            modules=["consultations"], access="read", expires_on=day)
    assert not ApiToken.objects.exists()


def test_every_use_is_audited_with_the_tokens_id(client, make_token):
    token, plain = make_token()
    body = client.get("/api/v1/staff/token", **bearer(plain)).json()
    assert body["id"] == f"api/token/{token.prefix}" and body["modules"] == ["consultations"]
    client.get("/api/v1/staff/consultations/", **bearer(plain))
    uses = entries("api.token_use")
    assert [e.changes["token_id"] for e in uses] == [token.pk, token.pk]
    assert [e.changes["path"] for e in uses] == ["/api/v1/staff/token", "/api/v1/staff/consultations/"]
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


@pytest.mark.parametrize("header,code", [
    (None, "token_required"), ("Bearer nonsense", "token_invalid"), ("Basic abc", "token_required"),
    ("Bearer hiroba_000000000000_wrong", "token_invalid"),
])
def test_a_missing_or_unknown_token_is_refused(client, header, code):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/api/v1/staff/token", **extra)
    assert response.status_code == 401 and response.json()["error"]["code"] == code


def test_an_expired_or_revoked_token_is_refused_and_the_refusal_audited(client, make_token, time_machine):
    token, plain = make_token(days=1)
    time_machine.move_to(timezone.now() + timedelta(days=3))
    response = client.get("/api/v1/staff/token", **bearer(plain))
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_expired"
    time_machine.move_to(timezone.now() - timedelta(days=3))
    assert client.get("/api/v1/staff/token", **bearer(plain)).status_code == 200
    tokens.token_revoke(actor=token.user, token=token)
    response = client.get("/api/v1/staff/token", **bearer(plain))
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_revoked"
    assert [e.changes["reason"] for e in entries("api.token_refused")] == ["token_expired", "token_revoked"]
    assert entries("api.token_revoke")[-1].changes["token_id"] == token.pk
    with pytest.raises(ServiceError):
        tokens.token_revoke(actor=token.user, token=token)


def test_a_token_outside_its_module_is_refused(client, make_token, case):
    _, plain = make_token(modules=["calendars"])
    response = client.get("/api/v1/staff/consultations/", **bearer(plain))
    assert response.status_code == 403 and response.json()["error"]["code"] == "scope_module"


def test_department_isolation(client, make_token, make_case):
    mine = make_case(slug="mine", department="digital")
    make_case(slug="theirs", department="care")
    _, plain = make_token()
    body = client.get("/api/v1/staff/consultations/", **bearer(plain)).json()
    assert [c["slug"] for c in body["items"]] == [mine.slug]
    response = client.get("/api/v1/staff/consultations/theirs/items", **bearer(plain))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_token_never_reaches_further_than_its_owners_current_roles(client, make_token, make_case):
    from hiroba.accounts.models import StaffMembership

    make_case(slug="mine", department="digital")
    token, plain = make_token()
    StaffMembership.objects.filter(user=token.user).update(ends_on=timezone.localdate() - timedelta(days=1))
    assert client.get("/api/v1/staff/consultations/", **bearer(plain)).json()["items"] == []


def test_the_items_read_masks_and_hides_submitters(client, make_token, answered_case):
    token, plain = make_token()
    body = client.get(f"/api/v1/staff/consultations/{answered_case.slug}/items", **bearer(plain)).json()
    assert [i["number"] for i in body["items"]] == [1, 2, 3]
    text = str(body)
    assert "090-1234-5678" not in text and "区民1" not in text and "k1@example.jp" not in text
    assert body["items"][0]["response"] == "窓口の受付時間は、利用状況を踏まえて検討します。"


def post_opinion(client, plain, slug, key=None, **body):
    payload = {"channel": "email", "text": "APIから届いた意見です。", "name": "連携 太郎", "address": "千代田区",
               "category": "resident", **body}
    headers = {**bearer(plain), **({"HTTP_IDEMPOTENCY_KEY": key} if key else {})}
    return client.post(f"/api/v1/staff/consultations/{slug}/submissions", payload, content_type="application/json",
                       **headers)


def test_an_intake_system_submits_an_opinion_idempotently(client, make_token, make_case, time_machine):
    from tests.consultations.conftest import DURING

    time_machine.move_to(DURING)
    case = make_case()
    token, plain = make_token(access="write")
    key = uuid.uuid4().hex
    first = post_opinion(client, plain, case.slug, key)
    assert first.status_code == 201, first.content
    number = first.json()["receipt_number"]
    assert number == "2025-DX-0001" and first.json()["created"] is True
    again = post_opinion(client, plain, case.slug, key)
    assert again.status_code == 200 and again.json()["receipt_number"] == number and again.json()["created"] is False
    submission = Submission.objects.get(case=case)
    assert submission.entered_by == token.user and submission.channel == "email"
    assert [e.object_id for e in entries("consultations.submission_receive")] == [str(submission.pk)]
    assert "連携 太郎" not in first.content.decode()


def test_a_read_token_cannot_write_and_bad_bodies_write_nothing(client, make_token, make_case, time_machine):
    from tests.consultations.conftest import DURING

    time_machine.move_to(DURING)
    case = make_case()
    _, read = make_token()
    response = post_opinion(client, read, case.slug, uuid.uuid4().hex)
    assert response.status_code == 403 and response.json()["error"]["code"] == "scope_write"
    _, write = make_token(access="write")
    assert post_opinion(client, write, case.slug).status_code == 400  # no Idempotency-Key
    response = post_opinion(client, write, case.slug, uuid.uuid4().hex, unknown_field="x")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
    assert post_opinion(client, write, case.slug, uuid.uuid4().hex, channel="pigeon").status_code == 400
    assert post_opinion(client, write, case.slug, uuid.uuid4().hex, text=123).status_code == 400
    assert post_opinion(client, write, case.slug, uuid.uuid4().hex, section=999999).status_code == 400
    Case.objects.filter(pk=case.pk).update(state=Case.State.TALLYING, closed_on=case.period_start)
    response = post_opinion(client, write, case.slug, uuid.uuid4().hex, channel="web")
    assert response.status_code in (400, 409) and "error" in response.json()
    assert not Submission.objects.exists()


def test_the_command_creates_lists_and_revokes(make_staff, departments):
    user = make_staff(email="cli@example.jp").user
    out = StringIO()
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    call_command("api", "token", "create", "--user", "cli@example.jp", "--name", "受付連携", "--department", "digital",
                 "--module", "consultations", "--access", "write", "--expires", day, stdout=out)
    plain = out.getvalue().strip().splitlines()[-1]
    token = tokens.find(plain)
    assert token.user == user and token.access == "write"
    out = StringIO()
    call_command("api", "token", "list", stdout=out)
    assert token.prefix in out.getvalue() and plain not in out.getvalue()
    call_command("api", "token", "revoke", token.prefix, stdout=StringIO())
    with pytest.raises(tokens.TokenRefused):
        tokens.find(plain)
    with pytest.raises(CommandError):
        call_command("api", "token", "create", "--user", "cli@example.jp", "--name", "x", "--department", "care",
                     "--module", "consultations", "--expires", day, stdout=StringIO())
    assert entries("api.token_create")[0].actor_label == "cli:api"


def test_the_staff_screen_creates_a_token_shown_once_and_revokes_it(staff_client):
    page = staff_client.get("/staff/api/tokens/new/")
    assert page.status_code == 200
    day = (timezone.localdate() + timedelta(days=30)).isoformat()
    digital = Department.objects.get(code="digital")
    response = staff_client.post("/staff/api/tokens/new/", {"name": "連携", "modules": ["consultations"],
                                                            "departments": [digital.pk], "access": "read",
                                                            "expires_on": day})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    assert f"hiroba_{token.prefix}_" in response.content.decode()
    listing = staff_client.get("/staff/api/tokens/").content.decode()
    assert token.prefix in listing and f"hiroba_{token.prefix}_" not in listing
    too_long = (timezone.localdate() + timedelta(days=400)).isoformat()
    refused = staff_client.post("/staff/api/tokens/new/", {"name": "連携", "modules": ["consultations"],
                                                           "departments": [digital.pk], "access": "read",
                                                           "expires_on": too_long})
    assert refused.status_code == 400 and ApiToken.objects.count() == 1
    staff_client.post(f"/staff/api/tokens/{token.pk}/revoke/")
    assert ApiToken.objects.get().revoked_at is not None


def test_the_staff_screen_needs_mfa(client, make_staff):
    user = make_staff(email="weak@example.jp", mfa=False).user
    client.force_login(user)
    assert client.get("/staff/api/tokens/new/").status_code == 302


def test_the_staff_token_list_is_paginated(staff_client, make_token, monkeypatch):
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    made = [make_token(user=staff_client.staff.user)[0] for _ in range(3)]
    first = staff_client.get("/staff/api/tokens/").content.decode()
    assert sum(t.prefix in first for t in made) == 2 and 'class="pagination"' in first and "?page=2" in first
    second = staff_client.get("/staff/api/tokens/?page=2").content.decode()
    assert sum(t.prefix in second for t in made) == 1
