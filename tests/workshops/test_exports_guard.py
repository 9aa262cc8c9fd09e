"""The applicants' CSV neutralises every text a spreadsheet would run as a formula (issue 13.7)."""

from __future__ import annotations

import io

import pytest

from hiroba.workshops import exports
from hiroba.workshops.models import Application
from tests.formula_guard import STARTS, assert_guarded, csv_cells, poison

pytestmark = pytest.mark.django_db

TEXT_FIELDS = ["receipt_number", "student_name", "student_kana", "school_name", "accessibility_needs", "address",
               "student_email", "student_phone", "guardian_name", "guardian_relationship", "guardian_email",
               "guardian_phone"]


@pytest.mark.parametrize("start", STARTS)
def test_every_text_of_an_applicant_is_exported_guarded(programme, submit, make_staff, start):
    app = submit(programme, 0)
    planted = poison(app, TEXT_FIELDS, start)
    out = io.StringIO()
    exports.applications_csv(actor=make_staff().user, programme=programme, out=out, include_contacts=True,
                             reason="案内の郵送")
    cells = csv_cells(out.getvalue().encode("utf-8"))
    assert_guarded(cells, planted)
    assert Application.objects.get().guardian_name == planted["guardian_name"]  # stored as given, guarded on export
