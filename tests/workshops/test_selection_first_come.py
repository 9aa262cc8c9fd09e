"""selection_first_come: consented applications in the order received."""

from __future__ import annotations

import pytest

from hiroba.workshops import services
from hiroba.workshops.services import WorkshopError
from tests.workshops.conftest import AFTER_CONSENT, OPEN_DAY, at

pytestmark = pytest.mark.django_db


def test_the_earliest_consented_applications_get_the_seats(make_programme, submit, make_staff):
    clerk = make_staff().user
    programme = make_programme(selection_method="first_come", capacity=2, waitlist_size=1)
    submit(programme, 0, consent=False)
    for i in (1, 2, 3, 4):
        submit(programme, i)
    with at(AFTER_CONSENT):
        allocation = services.selection_first_come(actor=clerk, programme=programme)
    assert allocation.selected == ["R7-JHS-0002", "R7-JHS-0003"]
    assert allocation.waitlist == ["R7-JHS-0004"] and allocation.not_selected == ["R7-JHS-0005"]
    status = dict(programme.applications.values_list("receipt_number", "status"))
    assert status == {"R7-JHS-0001": "lapsed", "R7-JHS-0002": "selected", "R7-JHS-0003": "selected",
                      "R7-JHS-0004": "waitlisted", "R7-JHS-0005": "not_selected"}
    with at(AFTER_CONSENT), pytest.raises(WorkshopError):
        services.selection_first_come(actor=clerk, programme=programme)


def test_it_waits_for_the_consent_deadline(make_programme, submit, make_staff):
    programme = make_programme(selection_method="first_come")
    submit(programme, 0)
    with at(OPEN_DAY), pytest.raises(WorkshopError) as error:
        services.selection_first_come(actor=make_staff().user, programme=programme)
    assert error.value.code == "too_early"


def test_a_lottery_programme_cannot_be_selected_first_come(programme, submit, make_staff):
    submit(programme, 0)
    with at(AFTER_CONSENT), pytest.raises(WorkshopError):
        services.selection_first_come(actor=make_staff().user, programme=programme)
