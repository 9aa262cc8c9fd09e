"""`accounts.ResidentVerification`: the one stored verification per resident, recorded at a
counter or by the verifier, revoked by staff, and asked for by every module through
`accounts.identity` — in a later session too."""

from __future__ import annotations

from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from hiroba.accounts import identity, services
from hiroba.accounts.models import IdentityLevel, Relationship, ResidentVerification, Role, User
from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db

CARD = identity.VerifiedIdentity(verifier="oidc", issuer="https://idp.example", subject="0001", name="番号 花子",
                                 email="hanako@example.jp")


@pytest.fixture
def clerk(make_staff) -> User:
    return make_staff(email="clerk@example.jp", department="digital", role=Role.HANDLE).user


def _new_session(user) -> object:
    """A request of a later session: a session cookie, nothing of the verifier in the session."""
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session.save()
    request.COOKIES[settings.SESSION_COOKIE_NAME] = request.session.session_key
    request.user = user
    return request


def _completed(user) -> object:
    request = _new_session(user)
    identity.complete(request, CARD)
    return request


def test_completing_the_verifier_stores_the_signed_in_residents_verification(resident):
    request = _completed(resident)
    stored = ResidentVerification.objects.get(user=resident)
    assert stored.method == ResidentVerification.Method.OIDC and stored.identity_key == CARD.subject_hash
    assert stored.residency == "" and stored.verified_by is None and stored.display_name == "番号 花子"
    assert identity.verified(request) == CARD  # this session: the verifier's own identity
    entry = AuditEntry.objects.get(action="proposals.voter_verify")
    assert entry.actor_id == resident.pk and entry.changes["method"] == "oidc"


def test_a_later_session_of_the_resident_is_verified_by_the_stored_verification(resident, django_assert_num_queries):
    _completed(resident)
    later = _new_session(resident)
    assert identity.SESSION_KEY not in later.session
    with django_assert_num_queries(1):
        found = identity.verified(later)
        assert identity.level(later) == IdentityLevel.VERIFIED  # looked up once per request
    assert found is not None and found.subject_hash == CARD.subject_hash and found.verifier == "oidc"
    assert identity.satisfies(later, IdentityLevel.VERIFIED) and identity.user_level(resident) == IdentityLevel.VERIFIED
    assert identity.level(_new_session(AnonymousUser())) == IdentityLevel.NONE


def test_a_counter_verification_verifies_every_session_of_the_account(resident, clerk):
    services.resident_verify(actor=clerk, user=resident, display_name="窓口 花子", residency=Relationship.RESIDENT,
                             birth_date=date(1980, 4, 1), name_kana="まどぐち はなこ", address="千代田区九段南1-2-1")
    found = identity.verified(_new_session(resident))
    assert found is not None and found.verifier == "counter" and found.name == "窓口 花子"
    assert identity.level(_new_session(resident)) == IdentityLevel.VERIFIED


def test_a_revoked_verification_no_longer_counts(resident, clerk):
    _completed(resident)
    EmailAddress.objects.create(user=resident, email=resident.email, verified=True, primary=True)
    stored = ResidentVerification.objects.get(user=resident)
    with pytest.raises(services.VerificationRefused) as refused:
        services.resident_verification_revoke(actor=clerk, verification=stored, reason=" ")
    assert refused.value.code == "reason_missing"
    services.resident_verification_revoke(actor=clerk, verification=stored, reason="なりすましの申告")
    later = _new_session(resident)
    assert identity.verified(later) is None and identity.level(later) == IdentityLevel.EMAIL
    assert identity.stored_verification(resident) is None and identity.user_level(resident) == IdentityLevel.EMAIL
    entry = AuditEntry.objects.get(action="proposals.voter_revoke")
    assert entry.actor_id == clerk.pk and entry.changes == {"reason": "なりすましの申告"}


def test_the_verifier_renews_a_revoked_verification_without_the_counters_facts(resident, clerk):
    counter = services.resident_verify(actor=clerk, user=resident, display_name="窓口 花子",
                                       residency=Relationship.WORKER, birth_date=date(1980, 4, 1),
                                       name_kana="まどぐち はなこ", address="千代田区九段南1-2-1")
    services.resident_verification_revoke(actor=clerk, verification=counter, reason="書類の誤り")
    _completed(resident)
    renewed = ResidentVerification.objects.get(user=resident)
    assert renewed.pk == counter.pk and renewed.is_valid and renewed.method == "oidc"
    assert renewed.residency == "" and renewed.birth_date is None and renewed.verified_by is None
    assert identity.level(_new_session(resident)) == IdentityLevel.VERIFIED


def test_a_live_verification_is_left_as_it_is(resident, clerk):
    counter = services.resident_verify(actor=clerk, user=resident, display_name="窓口 花子",
                                       residency=Relationship.RESIDENT, birth_date=date(1980, 4, 1),
                                       name_kana="まどぐち はなこ", address="千代田区九段南1-2-1")
    _completed(resident)
    kept = ResidentVerification.objects.get(user=resident)
    assert (kept.method, kept.residency, kept.identity_key) == ("counter", "resident", counter.identity_key)
    assert AuditEntry.objects.filter(action="proposals.voter_verify").count() == 1  # the counter's only


def test_nothing_is_stored_for_a_subject_another_account_verified(resident):
    _completed(resident)
    other = User.objects.create_user(email="other@example.jp", password="x" * 12)
    request = _completed(other)
    assert not ResidentVerification.objects.filter(user=other).exists()
    assert identity.level(request) == IdentityLevel.VERIFIED  # the session holds it, as before
    assert identity.level(_new_session(other)) == IdentityLevel.NONE


def test_nothing_is_stored_for_an_anonymous_resident_or_a_staff_member(clerk):
    assert identity.complete(_new_session(AnonymousUser()), CARD) is None
    assert identity.complete(_new_session(clerk), CARD) is None
    assert not ResidentVerification.objects.exists()


def test_the_counter_verification_is_audited_and_one_per_person(resident, clerk):
    person = services.resident_verify(actor=clerk, display_name="紙 太郎", residency=Relationship.RESIDENT,
                                      birth_date=date(1950, 1, 2), name_kana="かみ たろう", address="千代田区1")
    assert person.user is None and person.verified_by == clerk
    assert identity.person_verification(name_kana="カミ タロウ", birth_date=date(1950, 1, 2),
                                        address="千代田区１") == person
    with pytest.raises(services.VerificationRefused) as twice:
        services.resident_verify(actor=clerk, display_name="紙 太郎", residency=Relationship.RESIDENT,
                                 birth_date=date(1950, 1, 2), name_kana="かみ たろう", address="千代田区1")
    assert twice.value.code == "duplicate"
    linked = services.resident_verify(actor=clerk, user=resident, display_name="紙 太郎",
                                      residency=Relationship.RESIDENT, birth_date=date(1950, 1, 2),
                                      name_kana="かみ たろう", address="千代田区1")
    assert linked.pk == person.pk and linked.user == resident
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["proposals.voter_verify", "proposals.voter_link"]


def test_the_proposals_names_are_the_accounts_ones():
    from hiroba.proposals import services as proposals
    from hiroba.proposals.models import VoterVerification

    assert VoterVerification is ResidentVerification
    assert proposals.voter_verify is services.resident_verify
    assert proposals.voter_verification_revoke is services.resident_verification_revoke
    assert proposals.VerificationRefused is services.VerificationRefused
    assert proposals.identity_key is identity.identity_key


def test_the_counter_adds_the_relationship_to_the_verifiers_verification(resident, clerk):
    _completed(resident)
    kept = services.resident_verify(actor=clerk, user=resident, display_name="番号 花子",
                                    residency=Relationship.STUDENT, birth_date=date(2008, 5, 1),
                                    name_kana="ばんごう はなこ", address="千代田区九段南1-2-1")
    assert ResidentVerification.objects.get(user=resident) == kept
    assert (kept.method, kept.residency, kept.verified_by) == ("counter", "student", clerk)
    assert kept.identity_key == identity.identity_key(name_kana="ばんごう はなこ", birth_date=date(2008, 5, 1),
                                                      address="千代田区九段南1-2-1")
    entry = AuditEntry.objects.filter(action="proposals.voter_verify").latest("seq")
    assert entry.actor_id == clerk.pk and entry.changes["method"] == ["oidc", "counter"]
    with pytest.raises(services.VerificationRefused) as twice:  # a counter's verification is not redone
        services.resident_verify(actor=clerk, user=resident, display_name="番号 花子", residency=Relationship.RESIDENT,
                                 birth_date=date(2008, 5, 1), name_kana="ばんごう はなこ", address="千代田区1")
    assert twice.value.code == "duplicate"
