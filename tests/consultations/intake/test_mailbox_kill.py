"""The mailbox reader SIGKILLed in the middle of a pass loses and doubles nothing: a message is
marked read only after its submission is committed, and the next pass takes the rest."""

from __future__ import annotations

import mailbox
import signal
import time

import pytest

from tests import processes
from tests.consultations.intake.conftest import jp_mail

N = 150
SETUP = """
from datetime import date
from hiroba.consultations import services
from hiroba.consultations.models import Case
from hiroba.core.models import Department
d = Department.objects.create(code="digital", name="デジタル政策課")
case = services.case_create(actor="test", slug="dx-plan", title="千代田区DX戦略（素案）", department=d,
    period_start=date(2025, 1, 5), period_end=date(2025, 2, 10), channels=["email", "web"], receipt_code="DX",
    email_address="dx-comment@example.jp")
Case.objects.filter(pk=case.pk).update(state="open")
"""
COUNT = """
from hiroba.consultations.models import Submission
from hiroba.consultations.intake.models import Entry
s = list(Submission.objects.order_by("receipt_seq").values_list("receipt_seq", "idempotency_key"))
print(len(s), len({k for _, k in s}), [q for q, _ in s] == list(range(1, len(s) + 1)), Entry.objects.count(),
      len(set(Entry.objects.values_list("message_id", flat=True))))
"""


@pytest.fixture
def shared_db(request, tmp_path):
    with processes.shared_database(request, tmp_path) as db:
        yield db


def test_a_reader_killed_mid_pass_loses_and_doubles_nothing(shared_db, tmp_path):
    shared_db.shell(SETUP)
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(str(path), create=True)
    for i in range(N):
        box.add(jp_mail(f"{i}番目の意見です。窓口の支援を拡充してください。", message_id=f"<kill-{i}@example.ne.jp>"))
    reader = shared_db.start(str(processes.VENV_BIN / "hiroba"), "consultation", "mailbox", "dx-plan",
                             "--maildir", str(path), log="reader")
    deadline = time.time() + 120
    while time.time() < deadline and len(list((path / "cur").iterdir())) < 10:
        assert reader.poll() is None, shared_db.log("reader")
        time.sleep(0.05)
    reader.send_signal(signal.SIGKILL)  # no clean-up, no rollback handler: the process is gone
    reader.wait(30)
    done_before = len(list((path / "cur").iterdir()))
    assert 10 <= done_before < N, "the kill should land in the middle of the pass"
    second = shared_db.hiroba("consultation", "mailbox", "dx-plan", "--maildir", str(path))
    assert second.returncode == 0, second.stderr
    new, duplicate = (int(part.split()[1]) for part in second.stdout.splitlines()[0].split(", ")[:2])
    assert new + duplicate == N - done_before and duplicate <= 1  # at most the one committed but not yet marked
    count, distinct, contiguous, entries, message_ids = shared_db.shell(COUNT).split()
    assert (int(count), int(distinct), contiguous, int(entries), int(message_ids)) == (N, N, "True", N, N)
    assert not list((path / "new").iterdir())
    third = shared_db.hiroba("consultation", "mailbox", "dx-plan", "--maildir", str(path))
    assert third.stdout.splitlines()[0] == "new 0, duplicate 0, held 0"
