"""Benchmark of proposal voting on PostgreSQL: concurrent casting, then the tally of 1,000,000 ballots.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/votes.py
    DATABASE_URL=… python bench/votes.py --votes 10000 --ballots 100000 --workers 4   # quick run

1. Creates its own database (``<name>_bench_votes`` on the server of DATABASE_URL; dropped and
   re-created each run), migrates it, and sets up a call with 50 shortlisted proposals and
   ⌈votes / 3⌉ verified voters (bulk-created).
2. Casts ``--votes`` votes through ``services.vote_cast`` (the real path: eligibility, row lock,
   conditional UPDATE, unique constraint) from ``--workers`` processes at once, and prints
   votes/second. A generator with a fixed seed decides every voter's three choices and keeps its
   own count per proposal.
3. Loads further ballots with COPY (anonymous, as after sealing) up to ``--ballots`` rows, runs
   VACUUM ANALYZE, then times ``services.tally(call)`` beside the raw
   ``SELECT proposal_id, count(*) FROM proposals_ballot WHERE call_id = … GROUP BY proposal_id``
   over the same table (median of several alternating runs) and prints the ratio (target ≤ 1.5).
4. Checks the tally against the generator: no vote lost or doubled. Exits 1 when it is not exact
   or the ratio is above the target.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import multiprocessing as mp
import os
import random
import secrets
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PROPOSALS = 50
PER_VOTER = 3
SEED = 20250722
JST = ZoneInfo("Asia/Tokyo")


def choices_of(voter_index: int, shortlist: list[int]) -> list[int]:
    """The generator: voter i's choices, the same on every run and in every process."""
    rng = random.Random(SEED * 1_000_003 + voter_index)
    return rng.sample(shortlist, PER_VOTER)


def bench_url(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit("bench/votes.py needs PostgreSQL: DATABASE_URL=postgres://user@host:5432/db")
    name = (parts.path.lstrip("/") or "postgres") + "_bench_votes"
    admin = urlunsplit(parts._replace(path="/postgres"))
    return admin, urlunsplit(parts._replace(path="/" + name)), name


def recreate_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiroba.settings")
    os.environ.setdefault("HIROBA_SECRET_KEY", "bench-" + secrets.token_hex(32))
    os.environ.setdefault("HIROBA_DEBUG", "0")  # DEBUG would keep every query in memory
    os.environ.setdefault("HIROBA_DATA_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("HIROBA_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def prepare(n_voters: int, *, name: str = "bench", proposals: int = PROPOSALS) -> tuple[int, list[int], list[int]]:
    """Call `name` (its slug, department code and e-mail domain), `proposals` shortlisted
    proposals, n_voters verified residents. Returns (call id, proposal ids, user ids by voter).
    tests/deploy/votes.py prepares the cluster test's vote the same way."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from hiroba.accounts.models import Relationship, ResidentVerification, Role, StaffMembership, User
    from hiroba.core.models import Department
    from hiroba.proposals import services

    today = timezone.localdate()
    dept = Department.objects.create(code=name, name=f"ベンチ課（{name}）")
    clerk = User.objects.create_user(email=f"clerk@{name}.example", kind=User.Kind.STAFF, password=None)
    StaffMembership.objects.create(user=clerk, department=dept, role=Role.APPROVE, starts_on=date(2000, 1, 1))
    call = services.call_create(
        actor=clerk, department=dept, title="ベンチマーク", theme="投票の速さ", slug=name, receipt_prefix="B",
        submission_start=today - timedelta(days=40), submission_end=today - timedelta(days=30),
        voting_start=today - timedelta(days=1), voting_end=today + timedelta(days=10), publish=True,
        now=datetime.combine(today - timedelta(days=41), dtime(9), tzinfo=JST))
    during = datetime.combine(today - timedelta(days=35), dtime(10), tzinfo=JST)
    screening = datetime.combine(today - timedelta(days=20), dtime(10), tzinfo=JST)
    pids = []
    for i in range(proposals):
        p = services.proposal_submit_on_behalf(actor=clerk, call=call, title=f"提案{i}", problem="課題", idea="案",
                                               beneficiaries="区民", proposer_label="団体", source="bench", now=during)
        services.proposal_decide(actor=clerk, proposal=p, decision="shortlisted", reason="選定", now=screening)
        pids.append(p.pk)
    unusable = make_password(None)
    batch = 5000
    for start in range(0, n_voters, batch):
        emails = [f"v{i}@{name}.example" for i in range(start, min(n_voters, start + batch))]
        User.objects.bulk_create([User(email=e, password=unusable) for e in emails])
        users = list(User.objects.filter(email__in=emails).only("id", "email"))
        EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True, primary=True)
                                          for u in users])
        ResidentVerification.objects.bulk_create([
            ResidentVerification(user=u, display_name=u.email, residency=Relationship.RESIDENT,
                                 method=ResidentVerification.Method.OIDC) for u in users])
    user_ids = [pk for _, pk in sorted(
        (int(e[1:].split("@")[0]), pk) for e, pk in User.objects.filter(email__startswith="v", email__endswith=f"@{name}.example")
        .values_list("email", "pk"))]
    return call.pk, pids, user_ids


def worker(args: tuple[int, int, int, list[int], list[int], int]) -> tuple[int, int, Counter]:
    """Cast the votes of voters w, w+P, w+2P, … ; returns (cast, refused, own count)."""
    w, n_workers, call_id, pids, user_ids, n_votes = args
    from django.db import connections

    from hiroba.accounts.models import User
    from hiroba.proposals import services
    from hiroba.proposals.models import Call

    connections.close_all()
    call = Call.objects.get(pk=call_id)
    cast = refused = 0
    counted: Counter = Counter()
    mine = list(range(w, len(user_ids), n_workers))
    users = User.objects.in_bulk([user_ids[i] for i in mine])
    for i in mine:
        voter = users[user_ids[i]]
        for pid in choices_of(i, pids)[: max(0, min(PER_VOTER, n_votes - i * PER_VOTER))]:
            try:
                services.vote_cast(voter=voter, call=call, proposal=pid)
            except services.VoteRefused:
                refused += 1
            else:
                cast += 1
                counted[pid] += 1
    connections.close_all()
    return cast, refused, counted


def copy_ballots(call_id: int, pids: list[int], n: int, counted: Counter) -> None:
    """Bulk-load n more anonymous ballots (three per synthetic voter, sealed-style tokens) by COPY."""
    from django.db import connection

    rng = random.Random(SEED)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        written = 0
        voter = 0
        while written < n:
            buf = io.StringIO()
            for _ in range(min(100_000, n - written) // PER_VOTER + 1):
                if written >= n:
                    break
                token = hashlib.sha256(f"bench-sealed-{voter}".encode()).hexdigest()
                voter += 1
                for pid in rng.sample(pids, PER_VOTER)[: n - written]:
                    buf.write(f"{uuid.UUID(int=rng.getrandbits(128), version=4)}\t{call_id}\t{pid}\t{token}\n")
                    counted[pid] += 1
                    written += 1
            with raw.copy("COPY proposals_ballot (id, call_id, proposal_id, token) FROM STDIN") as copy:
                copy.write(buf.getvalue())


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--ballots", type=int, default=1_000_000, help="ballots in the table for the tally")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        print("bench/votes.py: set DATABASE_URL=postgres://… (it creates its own database on that server)")
        return 2
    admin_url, db_url, name = bench_url(url)
    recreate_database(admin_url, name)
    os.environ["DATABASE_URL"] = db_url
    django_setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from hiroba.proposals import services
    from hiroba.proposals.models import Ballot, Call, Participation

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    n_voters = math.ceil(args.votes / PER_VOTER)
    call_id, pids, user_ids = prepare(n_voters)
    print(f"database {name}: migrated and prepared {PROPOSALS} proposals, {n_voters:,} voters "
          f"in {time.perf_counter() - t0:.1f}s")

    connections.close_all()
    jobs = [(w, args.workers, call_id, pids, user_ids, args.votes) for w in range(args.workers)]
    t = time.perf_counter()
    with mp.get_context("fork").Pool(args.workers) as pool:
        results = pool.map(worker, jobs)
    elapsed = time.perf_counter() - t
    cast = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    counted: Counter = Counter()
    for r in results:
        counted.update(r[2])
    print(f"cast {cast:,} votes through services.vote_cast from {args.workers} processes in {elapsed:.1f}s "
          f"= {cast / elapsed:,.0f} votes/s (refused {refused})")

    call = Call.objects.get(pk=call_id)
    exact_cast = services.tally(call) == dict(counted) and cast == args.votes and refused == 0
    part_sum = sum(Participation.objects.filter(call=call).values_list("ballot_count", flat=True))
    exact_cast = exact_cast and part_sum == cast

    extra = max(0, args.ballots - cast)
    t = time.perf_counter()
    copy_ballots(call_id, pids, extra, counted)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE proposals_ballot")
    total = Ballot.objects.filter(call_id=call_id).count()
    print(f"loaded {extra:,} more ballots by COPY ({total:,} in the table) in {time.perf_counter() - t:.1f}s")

    def raw() -> dict[int, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT proposal_id, count(*) FROM proposals_ballot WHERE call_id = %s "
                           "GROUP BY proposal_id", [call_id])
            return dict(cursor.fetchall())

    raw(), services.tally(call)  # warm the cache
    raw_times, orm_times = [], []
    for _ in range(args.repeat):
        raw_times += timed(raw, 1)
        orm_times += timed(lambda: services.tally(call), 1)
    raw_s, orm_s = statistics.median(raw_times), statistics.median(orm_times)
    ratio = orm_s / raw_s
    exact_tally = services.tally(call) == dict(counted) == raw() and sum(counted.values()) == total
    print(f"tally of {total:,} ballots: services.tally {orm_s * 1000:.1f} ms, raw GROUP BY {raw_s * 1000:.1f} ms, "
          f"ratio {ratio:.2f} (target ≤ 1.5)")
    t = time.perf_counter()
    from hiroba.proposals import ballots as ballot_math

    digest = ballot_math.digest(services.anonymised_ballots(call))
    print(f"anonymised ballot set and SHA-256 over {total:,} ballots: {time.perf_counter() - t:.1f}s ({digest[:16]}…)")
    print(f"exact: cast votes {'OK' if exact_cast else 'NG'}, tally against the generator "
          f"{'OK' if exact_tally else 'NG'} (no vote lost or doubled)")
    connections.close_all()
    if not args.keep:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0 if exact_cast and exact_tally and ratio <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
