"""Benchmark of the intake channels (issue 18), ratios in one run.

    python bench/intake_channels.py                         # 10,000 mails, 100 OCR pages, SQLite
    python bench/intake_channels.py --db postgres --messages 2000 --ocr-pages 20

* **mail**: N messages in a Maildir (Japanese text, ISO-2022-JP) turned into submissions by one
  `hiroba consultation mailbox` pass (parse, .eml stored with its SHA-256, entry, submission,
  audit, automatic reply queued) against **web**: the same N texts through the web intake path
  in the same process (the public form's final POST through Django's whole stack: middleware,
  rate limit, validation, `submission_receive`, the receipt mail queued, the 303). Target:
  mail ≥ 0.5 × web.
* **ocr**: a batch of pages the benchmark renders itself (Japanese letters printed with the Noto
  font hiroba ships, made into a PDF and rasterised at 300 dpi by the OCR path): pages per second
  and the character accuracy against the known text (target ≥ 95 % on clean print).
"""

from __future__ import annotations

import argparse
import io
import json
import mailbox
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FONT = ROOT / "src" / "hiroba" / "core" / "static" / "fonts" / "NotoSansJP-Regular.woff2"
PHRASES = ["高齢者向けの窓口支援を拡充してください。", "区役所の手続きをオンラインで完結できるようにしてほしい。",
           "子育て世帯への情報提供を充実させてください。", "個人情報の管理を徹底してください。",
           "図書館の開館時間を延ばしてほしいです。", "公園の防災設備を点検してください。",
           "やさしい日本語での案内を増やしてください。", "デジタル機器に不慣れな人への講座を開いてください。"]


def texts(n: int, seed: int = 18) -> list[str]:
    rng = random.Random(seed)
    return [f"意見{i}：" + "".join(rng.sample(PHRASES, 3)) for i in range(n)]


def setup(db: str, workdir: Path) -> str:
    """Point Django at a new database (SQLite in `workdir`, or a PostgreSQL database made for the
    run, whose name is returned so that it is dropped afterwards) and migrate it."""
    name = ""
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        import psycopg

        base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        name = f"hiroba_bench_channels_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{name}"
    os.environ["HIROBA_DATA_DIR"] = str(workdir / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiroba.settings")
    os.environ.setdefault("HIROBA_FORM_MIN_FILL_SECONDS", "0")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return name


def drop_database(name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def make_case(slug: str):
    from django.utils import timezone

    from hiroba.consultations import services
    from hiroba.consultations.models import Case
    from hiroba.core.models import Department

    department, _ = Department.objects.get_or_create(code="digital", defaults={"name": "デジタル政策課"})
    today = timezone.localdate()
    case = services.case_create(
        actor="bench", slug=slug, title="ベンチマーク用の案件", department=department,
        period_start=today - timedelta(days=10), period_end=today + timedelta(days=25),
        channels=["email", "web", "post"], receipt_code="BM", email_address=f"{slug}@example.jp",
    )
    Case.objects.filter(pk=case.pk).update(state=Case.State.OPEN)
    case.refresh_from_db()
    return case


def bench_web(case, items: list[str]) -> float:
    """The web intake path: the final POST of the public form (step=submit) through the whole
    Django stack in this process — middleware, rate limit, form validation, `submission_receive`,
    the receipt mail queued, the 303 to the receipt page. No network: the same as the mail side."""
    from django.conf import settings
    from django.test import Client

    from hiroba.core.forms import HONEYPOT, STARTED, stamp

    settings.ALLOWED_HOSTS = ["*"]
    settings.HIROBA_RATE_LIMITS = {scope: "10000000/m/ip,10000000/m/key" for scope in settings.HIROBA_RATE_LIMITS}
    client = Client(secure=True, REMOTE_ADDR="192.0.2.10")
    url = f"/consultations/{case.slug}/submit/"
    start = time.perf_counter()
    for i, text in enumerate(items):
        response = client.post(url, {"name": f"区民 {i}", "address": "千代田区九段南1-2-1", "category": "resident",
                                     "email": f"resident{i}@example.ne.jp", "phone": "", "section": "", "text": text,
                                     "idempotency_key": uuid.uuid4().hex, HONEYPOT: "", STARTED: stamp(),
                                     "step": "submit"})
        assert response.status_code == 303, response.status_code
    return time.perf_counter() - start


def bench_mail(case, items: list[str], workdir: Path) -> tuple[float, str]:
    from django.utils import timezone

    from hiroba.consultations.intake import mailbox as intake_mailbox

    path = workdir / "Maildir"
    box = mailbox.Maildir(str(path), create=True)
    now = timezone.now()
    for i, text in enumerate(items):
        msg = MIMEText(text, "plain", "iso-2022-jp")
        msg["Subject"] = Header("DX戦略（素案）への意見", "iso-2022-jp").encode()
        msg["From"] = formataddr((f"区民 {i}", f"resident{i}@example.ne.jp"), charset="utf-8")
        msg["To"] = case.email_address
        msg["Message-ID"] = f"<bench-{i}@example.ne.jp>"
        msg["Date"] = format_datetime(now)
        msg["Received"] = f"from mx.example.ne.jp by mail.city.example.jp; {format_datetime(now)}"
        box.add(msg.as_bytes())
    start = time.perf_counter()
    result = intake_mailbox.read_case(case, path)
    elapsed = time.perf_counter() - start
    return elapsed, f"new {result.new}, duplicate {result.duplicate}, held {len(result.held)}"




def render_pages(n: int) -> tuple[bytes, list[str]]:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), 40)
    rng = random.Random(100)
    pages, known = [], []
    for p in range(n):
        lines = [f"千代田区DX戦略（素案）への意見 {p + 1}"] + ["".join(rng.sample(PHRASES, 2)) for _ in range(8)]
        image = Image.new("L", (2480, 3508), 255)
        draw = ImageDraw.Draw(image)
        for k, line in enumerate(lines):
            draw.text((220, 250 + k * 80), line, font=font, fill=0)
        pages.append(image)
        known.append("\n".join(lines))
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=300)
    return out.getvalue(), known


def bench_ocr(n: int) -> dict[str, float]:
    """The OCR path of a batch: rasterise (and look for blank pages and separator barcodes), then
    every page through tesseract, `ocr.workers()` at once, as `scans.queue_file` reads them."""
    from hiroba.consultations.intake import ocr

    if why := ocr.available():
        return {"skipped": why}  # type: ignore[dict-item]
    pdf, known = render_pages(n)
    start = time.perf_counter()
    pages = ocr.load_pages("batch.pdf", pdf)
    raster = time.perf_counter() - start
    read = ocr.recognise_all([page.image for page in pages])
    elapsed = time.perf_counter() - start
    scores = [ocr.character_accuracy(text, got) for (got, _), text in zip(read, known, strict=True)]
    return {"pages": n, "workers": ocr.workers(), "seconds": round(elapsed, 1), "rasterise_seconds": round(raster, 1),
            "pages_per_second": round(n / elapsed, 3), "char_accuracy_mean": round(sum(scores) / n, 4),
            "char_accuracy_min": round(min(scores), 4), "load_average_1min": round(os.getloadavg()[0], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--ocr-pages", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hiroba-bench-channels-") as tmp:
        workdir = Path(tmp)
        database = setup(args.db, workdir)
        report: dict[str, object] = {"db": args.db, "messages": args.messages}
        if args.messages:
            items = texts(args.messages)
            web = bench_web(make_case("bench-web"), items)
            mail, summary = bench_mail(make_case("bench-mail"), items, workdir)
            report.update({"web_per_second": round(args.messages / web, 1), "mail_per_second": round(args.messages / mail, 1),
                           "mail_over_web": round(web / mail, 3), "mail_pass": summary, "target_mail_over_web": 0.5})
        if args.ocr_pages:
            report["ocr"] = bench_ocr(args.ocr_pages)
        print(json.dumps(report, ensure_ascii=False, indent=2))
        if database:
            drop_database(database)


if __name__ == "__main__":
    main()
