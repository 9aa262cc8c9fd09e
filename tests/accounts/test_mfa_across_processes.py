"""Several app servers share one cache: a TOTP code accepted by one server is refused by another
(the replay guard), and the per-address limit on failed sign-ins counts across servers.

Two real gunicorn processes on one database, with the default cache (Django's database cache)
and, when Redis is reachable, with HIROBA_CACHE_URL=redis://…."""

from __future__ import annotations

import time
import uuid

import pyotp
import pytest

from tests import processes, redisenv
from tests.redisenv import REDIS_URL

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Correct-Horse-Battery-9"
EMAIL = "clerk@example.jp"
OUTSIDE = "203.0.113.7"
PERIOD = 120  # a long TOTP period, so that one code's window outlasts the test
CREATE_STAFF = """
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from hiroba.accounts.models import Role, StaffMembership, User
from hiroba.core.models import Department
department = Department.objects.create(code="digital", name="デジタル政策課")
user = User.objects.create_user(email="{email}", password="{password}", kind=User.Kind.STAFF, display_name="区 職員")
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
StaffMembership.objects.create(user=user, department=department, role=Role.HANDLE)
TOTP.activate(user, "{secret}")
"""


@pytest.fixture(params=["database", "redis"])
def cache_env(request) -> dict[str, str]:
    if request.param == "database":
        return {}
    redisenv.require()
    # A prefix of this run's own: nothing left by another run (or instance) is seen.
    return {"HIROBA_CACHE_URL": REDIS_URL, "HIROBA_CACHE_KEY_PREFIX": f"hiroba-test-{uuid.uuid4().hex}"}


@pytest.fixture
def shared_db(request, tmp_path):
    with processes.shared_database(request, tmp_path) as db:
        yield db


def _sign_in(base: str, code: str, *, address: str) -> tuple[int, str]:
    browser = processes.Browser(base, address=address)
    status, location, _ = browser.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    assert (status, location) == (302, "/accounts/2fa/authenticate/")
    browser.get(location)
    status, location, _ = browser.post("/accounts/2fa/authenticate/", {"code": code})
    return status, location


def test_servers_share_the_totp_replay_guard_and_the_failed_sign_in_limit(shared_db, cache_env):
    secret = pyotp.random_base32()
    shared_db.shell(CREATE_STAFF.format(email=EMAIL, password=PASSWORD, secret=secret))
    # Behind one reverse proxy (X-Forwarded-For names the client), with a low per-address limit.
    env = {**cache_env, "HIROBA_PROXY_COUNT": "1", "HIROBA_LOGIN_FAILURES_PER_ADDRESS": "4/m",
           "HIROBA_TEST_TOTP_PERIOD": str(PERIOD)}
    first, second = shared_db.serve(name="app1", **env), shared_db.serve(name="app2", **env)

    # 1. One TOTP code, two sessions on two servers: the second is a replay.
    totp = pyotp.TOTP(secret, interval=PERIOD)
    if totp.interval - time.time() % totp.interval < 25:
        time.sleep(totp.interval - time.time() % totp.interval + 0.5)  # the code's window outlasts the test
    code = totp.now()
    assert _sign_in(first, code, address="192.0.2.10") == (302, "/staff/")
    status, _ = _sign_in(second, code, address="192.0.2.11")
    assert totp.now() == code, "the code's window ended during the test: the refusal would prove nothing"
    assert status == 401
    assert _sign_in(first, code, address="192.0.2.12")[0] == 401  # nor again on the first
    counts = shared_db.shell(
        "from hiroba.core import audit; from hiroba.core.models import AuditEntry; audit.chain_pending(); "
        "print(AuditEntry.objects.filter(action='auth.login').count(), "
        "AuditEntry.objects.filter(action='auth.mfa_failed').count())")
    assert counts.split() == ["1", "2"]

    # 2. Failed sign-ins from one address, alternating between the servers, one account each.
    statuses = [processes.Browser((first, second)[i % 2], address=OUTSIDE).post(
        "/accounts/login/", {"login": f"guess{i}@example.jp", "password": "wrong-password-123"})[0] for i in range(4)]
    assert statuses == [401] * 4
    for base in (first, second):  # the fifth, on either server, is over the limit: even the right password
        status, _, body = processes.Browser(base, address=OUTSIDE).post(
            "/accounts/login/", {"login": EMAIL, "password": PASSWORD})
        assert status == 401 and "ログイン失敗が連続しています" in body
    status, location, _ = processes.Browser(second, address="192.0.2.13").post(
        "/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    assert (status, location) == (302, "/accounts/2fa/authenticate/")  # another address is not limited
