"""`hiroba audit chain --follow`, the chainer process that runs beside the app servers: it keeps
linking pending entries, wave after wave and batch after batch, and never stops by itself."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests import processes

pytestmark = pytest.mark.django_db(transaction=True)

WRITE = """
from django.db import transaction
from hiroba.core import audit
for i in range({start}, {start} + {n}):
    with transaction.atomic():
        audit.record_pending(actor="resident", action="test.receive", object_type="x.thing", object_id=i,
                             object_repr=f"thing {{i}}", changes={{"n": i}})
"""
COUNT = "from hiroba.core import audit; from hiroba.core.models import AuditEntry; " \
        "print(audit.pending_count(), AuditEntry.objects.count())"


@pytest.fixture
def shared_db(request, tmp_path):
    with processes.shared_database(request, tmp_path) as db:
        yield db


def _wait_until_linked(db: processes.SharedDatabase, chainer, total: int) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        assert chainer.poll() is None, f"the chainer stopped:\n{db.log('chainer')}"
        pending, chained = map(int, db.shell(COUNT).split())
        if pending == 0 and chained == total:
            return
        time.sleep(0.3)
    raise AssertionError(f"not linked in time (pending {pending}, chained {chained}):\n{db.log('chainer')}")


def test_the_follow_loop_links_wave_after_wave_in_several_batches(shared_db):
    chainer = shared_db.start(str(processes.VENV_BIN / "hiroba"), "audit", "chain", "--follow", "--interval", "0.1",
                              "--batch-size", "7", log="chainer")
    shared_db.shell(WRITE.format(start=1, n=30))  # five batches of at most 7
    _wait_until_linked(shared_db, chainer, 30)
    shared_db.shell(WRITE.format(start=31, n=16))  # and again, after an idle pass
    _wait_until_linked(shared_db, chainer, 46)
    assert chainer.poll() is None, "the chainer must keep running"
    verify = shared_db.hiroba("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.strip() == "OK 46 entries"
    assert "Traceback" not in shared_db.log("chainer")


def test_the_chain_command_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match="--batch-size は1以上"):
        call_command("audit", "chain", "--batch-size", "0")
