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
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

SLUG = "cluster-votes"
BENCH = str(Path(__file__).resolve().parents[2] / "bench" / "votes.py")
PROPOSALS = 8
CHOICES = 3

SETUP = '''
import importlib.util, json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from hiroba.accounts.models import User

spec = importlib.util.spec_from_file_location("hiroba_bench_votes", {bench!r})
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
_call, pids, user_ids = bench.prepare({voters}, name="{slug}", proposals={proposals})  # the vote bench's set-up
users = User.objects.in_bulk(user_ids)
store = import_module(settings.SESSION_ENGINE).SessionStore
sessions = []
for pk in user_ids:  # signed in, as a sign-in leaves the session
    s = store()
    s[SESSION_KEY] = str(pk)
    s[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
    s[HASH_SESSION_KEY] = users[pk].get_session_auth_hash()
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
