"""hiroba's own records in the register: every installed module's records, notices included."""

from __future__ import annotations

import pytest

from hiroba.notices import types
from hiroba.records import own_records
from hiroba.records.models import RecordFile

pytestmark = pytest.mark.django_db


def test_each_notice_type_is_a_file_of_its_department_once(departments):
    notice_type = types.type_create(actor="test", slug="kaigo-hokenryo", name="介護保険料額決定通知書",
                                    department=departments["care"])
    assert own_records.sync(actor="test") == 1
    row = RecordFile.objects.get(source_type="notices.noticetype")
    assert (row.name, row.department, row.source_id) == ("介護保険料額決定通知書", departments["care"], str(notice_type.pk))
    assert own_records.sync(actor="test") == 0  # run again: nothing new
