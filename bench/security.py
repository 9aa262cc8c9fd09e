"""Benchmark of the security register: importing ZAP reports, and the overdue dashboard.

    python bench/security.py                                    # SQLite in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/security.py
    python bench/security.py --instances 5000 --dashboard 20000 # quick run

1. Creates its own database (a temporary SQLite file, or ``<name>_bench_security`` on the server
   of DATABASE_URL, dropped and re-created), migrates it, registers the systems.
2. Writes a ZAP traditional-json report with ``--instances`` alert instances (100 alerts, distinct
   endpoints), and a changed one (10 % of the findings gone, 10 % new, the rest unchanged).
3. Times, ``--rounds`` times each on fresh systems: the import of the first report through
   ``importing.round_import`` (streaming parse, keys, one transaction, one bulk upsert per chunk,
   the close / reopen updates, the audit entry, the stored file), the re-import of the changed
   report, and — the baseline — a plain ``bulk_create`` of the same Finding rows, built in memory
   beforehand (no parsing, no keys, no upsert). Prints the medians and the speed ratios
   (baseline time / import time; target ≥ 0.5).
4. Loads ``--dashboard`` findings and counts the queries of the overdue dashboard at 1/10 of
   that and at the full size: the count must be the same (a fixed number of queries).
Exits 1 when a ratio is under 0.5 or the query count grows.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
BASE = "https://bench{n}.example.lg.jp"


def zap_report(site: str, instances: int, *, skip_every: int = 0, new_from: int = 0) -> bytes:
    """100 alerts with instances at distinct endpoints; `skip_every` drops every n-th instance,
    `new_from` renumbers that many endpoints so they are new findings."""
    per_alert = max(1, instances // 100)
    alerts = []
    made = 0
    for a in range(100):
        insts = []
        for i in range(per_alert):
            n = a * per_alert + i
            if skip_every and n % skip_every == 0:
                continue
            path = f"/app/{a}/page{n + (10_000_000 if new_from and n % 10 == 1 else 0)}"
            insts.append({"id": str(n), "uri": f"{site}{path}?session=abc&n={n}", "nodeName": f"{site}{path}",
                          "method": "GET" if n % 3 else "POST", "param": f"p{n % 7}", "attack": "<script>1</script>",
                          "evidence": f"evidence {n}", "otherinfo": ""})
            made += 1
        alerts.append({
            "pluginid": str(10000 + a), "alertRef": str(10000 + a), "alert": f"Alert {a}", "name": f"Alert {a}",
            "riskcode": str(a % 4), "confidence": "2", "riskdesc": "Medium (Medium)",
            "desc": "<p>" + "description " * 20 + "</p>", "instances": insts, "count": str(len(insts)),
            "systemic": False, "solution": "<p>solution</p>", "otherinfo": "", "reference": "<p>ref</p>",
            "cweid": "79", "wascid": "8", "sourceid": "1",
        })
    return json.dumps({"@programName": "ZAP", "@version": "2.15.0", "@generated": "Tue, 15 Oct 2024 10:00:00",
                       "created": "2024-10-15T10:00:00Z",
                       "site": [{"@name": site, "@host": site.split("://")[1], "@port": "443", "@ssl": "true",
                                 "alerts": alerts}]}).encode()


def database(url: str | None) -> tuple[str, str | None]:
    if url and url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = (parts.path.lstrip("/") or "postgres") + "_bench_security"
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(parts._replace(path="/" + name)), name
    tmp = tempfile.mkdtemp(prefix="hiroba-bench-security-")
    return f"sqlite:///{tmp}/bench.sqlite3", None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=30_000)
    parser.add_argument("--dashboard", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    url, _ = database(os.environ.get("DATABASE_URL"))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("HIROBA_SECRET_KEY", "bench-" + secrets.token_hex(32))
    os.environ.setdefault("HIROBA_DEBUG", "0")
    data_dir = tempfile.mkdtemp(prefix="hiroba-bench-data-")
    os.environ["HIROBA_DATA_DIR"] = data_dir
    os.environ.setdefault("HIROBA_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hiroba.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from hiroba.accounts.models import Role
    from hiroba.core.models import Department
    from hiroba.security import importing, parsers, queries, services
    from hiroba.security.models import DiagnosisRound, Finding, FindingStatus, Rule

    print(f"database: {connection.vendor}; instances per report: {args.instances}")
    office = Department.objects.create(code="joho-system", name="情報システム課")
    depts = [Department.objects.create(code=f"dept{i}", name=f"課{i}") for i in range(20)]

    first_body = zap_report("https://SITEHOST", args.instances)
    changed_body = zap_report("https://SITEHOST", args.instances, skip_every=10, new_from=1)
    print(f"report: {len(first_body) / 1e6:.1f} MB; changed report: {len(changed_body) / 1e6:.1f} MB")

    def body_for(body: bytes, site: str) -> bytes:
        return body.replace(b"https://SITEHOST", site.encode()).replace(b"SITEHOST", site.split("://")[1].encode())

    def baseline_rows(system, body: bytes) -> list[Finding]:
        """The rows the import writes, built in memory (parsing and keys not timed)."""
        report = parsers.parse(importing.spooled(body), "zap-json")
        rnd = DiagnosisRound.objects.create(system=system, fiscal_year=2024, performed_on=date(2024, 10, 15),
                                            tool="zap", file_format="zap-json")
        rule_ids = {}
        for rule in report.rules.values():
            rule_ids[rule.rule_id] = Rule.objects.get_or_create(source="bench", rule_id=rule.rule_id,
                                                                defaults={"name": rule.name})[0].pk
        seen, rows = set(), []
        for inst in report.instances:
            path = parsers.endpoint_path(inst.uri)
            key = importing.finding_key("zap", inst.rule_id, inst.method, path, inst.param)
            if key in seen:
                continue
            seen.add(key)
            rows.append(Finding(system=system, key=key, rule_id=rule_ids[inst.rule_id], title=inst.title, severity=1,
                                riskcode=inst.riskcode, confidence=inst.confidence, method=inst.method, path=path,
                                param=inst.param, uri=inst.uri, attack=inst.attack, evidence=inst.evidence,
                                otherinfo=inst.otherinfo, more_instances=[inst.extra], status=FindingStatus.OPEN,
                                due_on=date(2025, 1, 1), first_round=rnd, last_round=rnd,
                                first_seen_on=rnd.performed_on, last_seen_on=rnd.performed_on))
        return rows

    first_times, second_times, base_times, base2_times = [], [], [], []
    lines = []
    for r in range(args.rounds):
        site = BASE.format(n=r)
        system = services.system_create(actor="bench", url=site + "/", name=f"bench {r}", department=depts[r % 20])
        other = services.system_create(actor="bench", url=BASE.format(n=100 + r) + "/", name=f"base {r}",
                                       department=depts[r % 20])
        other2 = services.system_create(actor="bench", url=BASE.format(n=200 + r) + "/", name=f"base2 {r}",
                                        department=depts[r % 20])
        rows = baseline_rows(other, body_for(first_body, site))
        rows2 = baseline_rows(other2, body_for(changed_body, site))
        start = time.perf_counter()
        with transaction.atomic():
            Finding.objects.bulk_create(rows, batch_size=1000)
        base_times.append(time.perf_counter() - start)

        stream = importing.spooled(body_for(first_body, site))
        start = time.perf_counter()
        result = importing.round_import(actor="bench", system=system, stream=stream, filename="first.json",
                                        performed_on=date(2024, 10, 15))
        first_times.append(time.perf_counter() - start)
        lines.append(result.line())

        start = time.perf_counter()
        with transaction.atomic():
            Finding.objects.bulk_create(rows2, batch_size=1000)
        base2_times.append(time.perf_counter() - start)

        stream = importing.spooled(body_for(changed_body, site))
        start = time.perf_counter()
        result = importing.round_import(actor="bench", system=system, stream=stream, filename="changed.json",
                                        performed_on=date(2025, 10, 15))
        second_times.append(time.perf_counter() - start)
        lines.append(result.line())
    n_first = len(rows)
    base, first, base2, second = (statistics.median(x) for x in (base_times, first_times, base2_times, second_times))
    r1, r2 = base / first, base2 / second
    print(f"import results: {lines[0]} / re-import: {lines[1]}")
    print(f"plain bulk insert of {n_first} rows: {base:.2f} s ({n_first / base:,.0f} rows/s)")
    print(f"import of the first report:      {first:.2f} s ({n_first / first:,.0f} rows/s)  ratio {r1:.2f}")
    print(f"plain bulk insert of {len(rows2)} rows: {base2:.2f} s")
    print(f"re-import of the changed report: {second:.2f} s  ratio {r2:.2f}")

    # --- the overdue dashboard ------------------------------------------------------------------
    from hiroba.accounts.models import StaffMembership, User

    Finding.objects.all().delete()  # the dashboard counts only its own findings
    viewer = User.objects.create_user(email="ciso@bench.example", password=None, kind=User.Kind.STAFF)
    StaffMembership.objects.create(user=viewer, department=office, role=Role.READ)
    dash_systems = [services.system_create(actor="bench", url=f"https://dash{i}.example.lg.jp/", name=f"dash {i}",
                                           department=depts[i % 20]) for i in range(56)]
    rule = Rule.objects.create(source="bench", rule_id="dash", name="dash")
    rnds = {s.pk: DiagnosisRound.objects.create(system=s, fiscal_year=2024, performed_on=date(2024, 10, 1), tool="zap",
                                                file_format="zap-json") for s in dash_systems}

    def load(count: int, offset: int) -> None:
        batch = []
        for n in range(offset, offset + count):
            s = dash_systems[n % 56]
            batch.append(Finding(system=s, key=f"{n:064d}", rule=rule, title="t", severity=1 + n % 4, method="GET",
                                 path=f"/p{n}", uri=f"/p{n}", status=FindingStatus.OPEN,
                                 due_on=date(2024, 10, 1) + timedelta(days=n % 900), first_round=rnds[s.pk],
                                 last_round=rnds[s.pk], first_seen_on=date(2024, 10, 1), last_seen_on=date(2024, 10, 1)))
            if len(batch) == 5000:
                Finding.objects.bulk_create(batch)
                batch = []
        Finding.objects.bulk_create(batch)

    def measure() -> tuple[int, float, int]:
        from hiroba.security import access

        access.forget(viewer)
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            dash = queries.overdue_dashboard(viewer, today=date(2025, 6, 1))
            elapsed = time.perf_counter() - start
        return len(ctx.captured_queries), elapsed, dash.open_total

    small = args.dashboard // 10
    load(small, 0)
    q_small, t_small, n_small = measure()
    load(args.dashboard - small, small)
    q_big, t_big, n_big = measure()
    print(f"overdue dashboard: {n_small:,} open findings → {q_small} queries ({t_small * 1000:.0f} ms); "
          f"{n_big:,} → {q_big} queries ({t_big * 1000:.0f} ms)")
    ok = r1 >= 0.5 and r2 >= 0.5 and q_small == q_big
    print("OK" if ok else "BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
