"""Residents' votes through the loopback cluster, for tests/deploy/test_cluster.py.

`SETUP` (run with the cluster's `hiroba shell`) opens a call for voting with shortlisted
proposals and signed-in, verified residents (their sessions made as a sign-in makes them);
`cast` votes as each of them would in a browser (GET the vote page for its CSRF token, POST three
choices with one idempotency key, and POST again with the same key when the answer was lost);
`STORED` reads back what the database holds."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

SLUG = "cluster-votes"
PROPOSALS = 8
CHOICES = 3

SETUP = '''
import json
from datetime import date, datetime, time as dtime, timedelta
from importlib import import_module
from zoneinfo import ZoneInfo
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from hiroba.accounts.models import Relationship, ResidentVerification, Role, StaffMembership, User
from hiroba.core.models import Department
from hiroba.proposals import services

JST = ZoneInfo("Asia/Tokyo")
today = timezone.localdate()
dept = Department.objects.create(code="cluster-votes", name="投票課")
clerk = User.objects.create_user(email="clerk@votes.example", kind=User.Kind.STAFF, password=None)
StaffMembership.objects.create(user=clerk, department=dept, role=Role.APPROVE, starts_on=date(2000, 1, 1))
call = services.call_create(
    actor=clerk, department=dept, title="クラスタ投票", theme="投票", slug="{slug}", receipt_prefix="V",
    submission_start=today - timedelta(days=40), submission_end=today - timedelta(days=30),
    voting_start=today - timedelta(days=1), voting_end=today + timedelta(days=10), publish=True,
    now=datetime.combine(today - timedelta(days=41), dtime(9), tzinfo=JST))
during = datetime.combine(today - timedelta(days=35), dtime(10), tzinfo=JST)
screening = datetime.combine(today - timedelta(days=20), dtime(10), tzinfo=JST)
pids = []
for i in range({proposals}):
    p = services.proposal_submit_on_behalf(actor=clerk, call=call, title=f"提案{{i}}", problem="課題", idea="案",
                                           beneficiaries="区民", proposer_label="団体", source="cluster", now=during)
    services.proposal_decide(actor=clerk, proposal=p, decision="shortlisted", reason="選定", now=screening)
    pids.append(p.pk)
emails = [f"voter{{i}}@votes.example" for i in range({voters})]
User.objects.bulk_create([User(email=e, password=make_password(None)) for e in emails])
users = {{u.email: u for u in User.objects.filter(email__in=emails)}}
EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True, primary=True)
                                  for u in users.values()])
ResidentVerification.objects.bulk_create([
    ResidentVerification(user=u, display_name=u.email, residency=Relationship.RESIDENT,
                         method=ResidentVerification.Method.OIDC) for u in users.values()])
store = import_module(settings.SESSION_ENGINE).SessionStore
sessions = []
for e in emails:
    s = store()
    s[SESSION_KEY] = str(users[e].pk)
    s[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
    s[HASH_SESSION_KEY] = users[e].get_session_auth_hash()
    s.create()
    sessions.append(s.session_key)
print(json.dumps({{"proposals": pids, "sessions": sessions}}))
'''

STORED = '''
import json
from hiroba.proposals.models import Ballot, Call, Participation
from hiroba.proposals import services
call = Call.objects.get(slug="{slug}")
print(json.dumps({{
    "participations": {{str(p.user.email): p.ballot_count for p in Participation.objects.filter(call=call).select_related("user")}},
    "tally": {{str(k): v for k, v in services.tally(call).items()}},
    "ballots": Ballot.objects.filter(call=call).count(),
}}))
'''


def choices(voter: int, proposals: list[int]) -> list[int]:
    """The three proposals voter `voter` picks: spread over the shortlist, fixed per voter."""
    return sorted(proposals[(voter * 7 + k * 3) % len(proposals)] for k in range(CHOICES))


@dataclass
class Outcome:
    """What the residents' browsers saw: per voter the statuses of each try, and whether the vote
    was acknowledged (a redirect back to the vote page after the POST)."""

    tries: dict[int, list[int]] = field(default_factory=dict)
    acknowledged: set[int] = field(default_factory=set)
    last_acknowledged_at: float = 0.0

    def statuses(self) -> Counter[int]:
        return Counter(s for tries in self.tries.values() for s in tries)


def _request(port: int, method: str, path: str, headers: dict[str, str], body: str | None = None) -> tuple[int, str, list[str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        return resp.status, text, resp.headers.get_all("Set-Cookie") or []
    except (OSError, http.client.HTTPException):
        return 0, "", []
    finally:
        conn.close()


def _vote(port: int, voter: int, session: str, proposals: list[int], outcome: Outcome, lock: threading.Lock) -> None:
    path = f"/proposals/{SLUG}/vote/"
    key = uuid.uuid4().hex  # one key for the vote and every resend of it
    tries: list[int] = []
    for _attempt in range(20):
        status, page, cookies = _request(port, "GET", path, {"Cookie": f"sessionid={session}"})
        if status != 200:
            tries.append(status)
            time.sleep(0.3)
            continue
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        cookie = next((c.split(";")[0] for c in cookies if c.startswith("csrftoken=")), "")
        assert token and cookie, page[:500]
        body = urlencode([("csrfmiddlewaretoken", token.group(1)), ("idempotency_key", key)]
                         + [("proposals", str(p)) for p in choices(voter, proposals)])
        status, _, _ = _request(port, "POST", path, {
            "Cookie": f"sessionid={session}; {cookie}", "Content-Type": "application/x-www-form-urlencoded"}, body)
        tries.append(status)
        if status == 302:
            break
        time.sleep(0.3)  # a lost answer (502 from the dead server, a cut connection): send it again
    with lock:
        outcome.tries[voter] = tries
        if tries and tries[-1] == 302:
            outcome.acknowledged.add(voter)
            outcome.last_acknowledged_at = max(outcome.last_acknowledged_at, time.time())


def cast(port: int, setup: dict[str, Any], *, threads: int = 4) -> Outcome:
    """Every voter votes once (resending on a lost answer), `threads` at a time."""
    outcome, lock = Outcome(), threading.Lock()
    sessions: list[str] = setup["sessions"]
    proposals: list[int] = setup["proposals"]

    def run(first: int) -> None:
        for voter in range(first, len(sessions), threads):
            _vote(port, voter, sessions[voter], proposals, outcome, lock)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return outcome


def expected(voters: set[int], proposals: list[int]) -> dict[str, int]:
    """The tally that the stored votes of `voters` must give: each counted once."""
    counted = Counter(p for v in voters for p in choices(v, proposals))
    return {str(p): n for p, n in counted.items()}


def parse(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.strip().splitlines()[-1])
