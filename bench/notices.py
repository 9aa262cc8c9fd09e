"""Benchmark of デジタル書面送付: a batch validated, routed and queued, and a print run rendered.

    python bench/notices.py                                      # SQLite in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/notices.py
    python bench/notices.py --recipients 5000 --letters 200      # quick run
    python bench/notices.py --recipients 100000 --letters 0      # the batch part only

1. Creates its own database (a temporary SQLite file, or ``<name>_bench_notices`` on the server of
   DATABASE_URL, dropped and re-created) and migrates it; registers ``--recipients`` recipients,
   30 % of them with an account that consents to the type (set-up, not timed).
2. Times the real path for a batch file of every recipient: ``batch_check`` (reading the CSV,
   every row validated, routed), ``batch_create`` (every notice rendered and hashed),
   ``batch_approve`` and ``batch_dispatch`` (each notice queued with its e-mail stored in the
   outbox, or put on paper, with its status history). The baseline, timed in the same run, is a
   plain ``bulk_create`` of the same Notice rows (already built in memory: no reading, no
   checks, no rendering, no e-mails, no history) in a batch of its own. Ratio = baseline time /
   real time (the issue's target: ≥ 0.5).
3. Puts ``--letters`` of the paper notices in a print run and renders it as the service does
   (``printing.run_pdf``: chunks of ``NOTICES_PRINT_CHUNK`` letters laid out as WeasyPrint
   documents in ``NOTICES_PRINT_WORKERS`` forked processes, joined into one PDF), then the same
   letters each as its own WeasyPrint document (``printing.letter_html``; rendered in as many forked
   processes as the run uses, each replaced after 250 letters, since WeasyPrint's memory grows
   from one document to the next in a process).
   Ratio = per-letter time / run time (target ≥ 5). ``--baseline-letters K`` renders only K of the
   run's letters (evenly spread) as documents of their own and compares the times per letter:
   the ratio is then an estimate from a sample, and says so. CPU times (this process and its
   children) are printed beside the wall-clock times: the machine is shared.
Prints both ratios; exits 1 when one is under its target.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def database(url: str | None) -> str:
    if url and url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = (parts.path.lstrip("/") or "postgres") + "_bench_notices"
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(parts._replace(path="/" + name))
    return f"sqlite:///{tempfile.mkdtemp(prefix='hiroba-bench-notices-')}/bench.sqlite3"


def cpu_time() -> float:
    """CPU seconds of this process and of its children that have ended (the print workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


#: Letters a baseline process renders before it exits: WeasyPrint keeps memory from one document
#: to the next in a process (3 GB and growing after a few thousand), so the baseline's processes
#: are replaced as the run's own workers are (one chunk each).
BASELINE_GROUP = 250


def _render_group(htmls: list[str]) -> tuple[int, int]:
    """(letters, bytes) of a group, each letter its own document."""
    from hiroba.core import pdf

    return len(htmls), sum(len(pdf.document(html).write_pdf()) for html in htmls)


def alone(items: list, letter_html, *, workers: int, started: tuple[float, float]) -> int:
    """Each letter as its own WeasyPrint document, in as many forked processes as the run uses,
    each rendering BASELINE_GROUP letters and exiting (its CPU is counted once it is reaped).
    The letters' HTML is made here, in this process, as the run makes its own. Bytes written."""
    import multiprocessing

    groups = [[letter_html(item) for item in items[i:i + BASELINE_GROUP]]
              for i in range(0, len(items), BASELINE_GROUP)]
    total, done = 0, 0
    with multiprocessing.get_context("fork").Pool(processes=workers, maxtasksperchild=1) as pool:
        for size, written in pool.imap_unordered(_render_group, groups):
            total += written
            before, done = done, done + size
            if done // 1000 > before // 1000 and done < len(items):  # a long baseline reports as it goes
                print(f"  {done:,} letters alone: {time.perf_counter() - started[0]:.1f} s, "
                      f"CPU {cpu_time() - started[1]:.1f} s", flush=True)
        pool.close()
        pool.join()  # every process reaped: its CPU is in RUSAGE_CHILDREN
    return total


def setup_django() -> None:
    os.environ["DATABASE_URL"] = database(os.environ.get("DATABASE_URL"))
    os.environ.setdefault("HIROBA_SECRET_KEY", "bench-" + secrets.token_hex(32))
    os.environ.setdefault("HIROBA_DEBUG", "0")
    os.environ["HIROBA_DATA_DIR"] = tempfile.mkdtemp(prefix="hiroba-bench-data-")
    os.environ.setdefault("HIROBA_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hiroba.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--baseline-letters", type=int, default=0,
                        help="letters rendered one document each for the baseline (default: all of the run)")
    args = parser.parse_args()
    setup_django()

    import datetime as dt

    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from hiroba.accounts.models import Role, StaffMembership, User
    from hiroba.core import pdf
    from hiroba.core.actors import Actor
    from hiroba.core.models import Department
    from hiroba.notices import batches, printing, types
    from hiroba.notices.models import Batch, Consent, Notice, PrintItem, PrintRun, Recipient, Status

    n = args.recipients
    print(f"database: {connection.vendor}; recipients {n:,}; letters {args.letters:,}")
    care = Department.objects.create(code="care", name="高齢介護課")
    approver = User.objects.create_user(email="approver@bench.example", password=None, kind=User.Kind.STAFF)
    StaffMembership.objects.create(user=approver, department=care, role=Role.APPROVE)
    kind = types.type_create(actor="bench", slug="kaigo", name="介護保険料額決定通知書", department=care,
                             deadline_wording="納期限は{{ 納期限 }}です。")
    types.template_publish(actor="bench", notice_type=kind, title="{{ 年度 }}年度 介護保険料額決定通知書",
                           body="{{ 氏名 }} 様\n\n{{ 年度 }}年度の介護保険料は、所得段階 第{{ 所得段階 }}段階により"
                                "年額 {{ 保険料 }} 円に決まりました。\n\n納付が難しいときは高齢介護課にご相談ください。")
    with transaction.atomic():
        Recipient.objects.bulk_create([
            Recipient(atena_number=f"{i:010d}", name=f"区民 {i}", postal_code="102-8688",
                      address=f"東京都千代田区九段南1-2-{i}", birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=i % 9000))
            for i in range(1, n + 1)], batch_size=2000)
        digest = make_password("bench-password")
        User.objects.bulk_create([User(email=f"r{i}@bench.example", password=digest, kind=User.Kind.RESIDENT)
                                  for i in range(1, n + 1) if i % 10 < 3], batch_size=2000)
        users = dict(User.objects.filter(email__endswith="@bench.example", kind=User.Kind.RESIDENT)
                     .values_list("email", "pk"))
        people = dict(Recipient.objects.values_list("atena_number", "pk"))
        links = [Recipient(pk=people[f"{i:010d}"], user_id=users[f"r{i}@bench.example"])
                 for i in range(1, n + 1) if i % 10 < 3]
        Recipient.objects.bulk_update(links, ["user"], batch_size=2000)
        Consent.objects.bulk_create([Consent(recipient_id=r.pk, notice_type=kind, consent_version=1) for r in links],
                                    batch_size=2000)
    lines = ["宛名番号,年度,所得段階,保険料,納期限"]
    lines += [f"{i:010d},令和7,{i % 9 + 1},{60000 + i % 9 * 6760},令和7年7月31日" for i in range(1, n + 1)]
    raw = ("\n".join(lines) + "\n").encode("utf-8")

    # a serving process has its URLconf loaded; load it here, untimed (the first reverse() imports every app's urls)
    from django.urls import reverse

    reverse("notices:home")
    start = time.perf_counter()
    check = batches.batch_check(notice_type=kind, raw=raw)
    assert check.ok, check.errors[:5]
    checked = time.perf_counter()
    batch = batches.batch_create(actor=Actor.system("bench"), check=check, filename="bench.csv")
    created = time.perf_counter()
    batches.batch_approve(actor=Actor.staff(approver), batch=batch)
    approved = time.perf_counter()
    result = batches.batch_dispatch(actor=Actor.system("bench"), batch=batch, chunk=1000)
    real = time.perf_counter() - start
    phases = (f"check {checked - start:.1f} s, create {created - checked:.1f} s, approve {approved - created:.1f} s, "
              f"dispatch {start + real - approved:.1f} s")
    assert result.finished and result.queued + result.paper == n, result

    rows = list(Notice.objects.filter(batch=batch).values("recipient_id", "template_id", "row_number", "values",
                                                          "title", "content_html", "content_sha256"))
    other = Batch.objects.create(notice_type=kind, template=batch.template, file_sha256="0" * 64, row_count=n)
    built = [Notice(batch=other, status=Status.QUEUED, route="digital", **row) for row in rows]
    start = time.perf_counter()
    with transaction.atomic():
        Notice.objects.bulk_create(built, batch_size=1000)
    baseline = time.perf_counter() - start
    batch_ratio = baseline / real
    print(f"batch of {n:,}: real path {real:.1f} s (queued {result.queued:,}, paper {result.paper:,}); "
          f"plain bulk insert {baseline:.1f} s; ratio {batch_ratio:.2f} (target >= 0.5); {phases}", flush=True)

    letters = args.letters
    if letters <= 0:  # --letters 0: the batch part only
        return 0 if batch_ratio >= 0.5 else 1
    paper = list(Notice.objects.filter(batch=batch, status=Status.PAPER).order_by("pk")
                 .values_list("pk", flat=True)[:letters])
    run = PrintRun.objects.create(letter_count=len(paper))
    PrintItem.objects.bulk_create([PrintItem(run=run, notice_id=pk, sequence=s) for s, pk in enumerate(paper, 1)],
                                  batch_size=1000)
    pdf.load()  # imported, untimed, as in a process that has printed before (about 2 s)
    start, cpu = time.perf_counter(), cpu_time()
    body, pages = printing.run_pdf(run)
    one, one_cpu = time.perf_counter() - start, cpu_time() - cpu
    assert len(pages) == len(paper), (len(pages), len(paper))
    print(f"print run of {len(paper):,} letters: {one:.1f} s, CPU {one_cpu:.1f} s; now each letter alone", flush=True)
    items = printing.run_items(run)
    sample = args.baseline_letters if 0 < args.baseline_letters < len(items) else len(items)
    items = [items[k * len(items) // sample] for k in range(sample)]
    start, cpu = time.perf_counter(), cpu_time()
    total_bytes = alone(items, printing.letter_html, workers=printing.print_workers(), started=(start, cpu))
    each, each_cpu = time.perf_counter() - start, cpu_time() - cpu
    print_ratio = (each / sample) / (one / len(paper))
    cpu_ratio = (each_cpu / sample) / (one_cpu / len(paper))
    label = "" if sample == len(paper) else f" [estimate: baseline on {sample:,} of the {len(paper):,} letters, per letter]"
    print(f"print run of {len(paper):,} letters ({sum(pages.values()):,} pages, {printing.print_workers()} workers, "
          f"{len(printing.chunks(len(paper), workers=printing.print_workers()))} chunks): "
          f"{one:.1f} s, CPU {one_cpu:.1f} s ({len(body) / 1e6:.1f} MB); "
          f"{sample:,} letters each its own document {each:.1f} s, CPU {each_cpu:.1f} s ({total_bytes / 1e6:.1f} MB); "
          f"ratio {print_ratio:.1f}, CPU ratio {cpu_ratio:.1f} (target >= 5){label}; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0 if batch_ratio >= 0.5 and print_ratio >= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
