"""core.paging.page_of: the one way a list is cut into pages."""

from __future__ import annotations

import warnings

import pytest
from django.core.paginator import UnorderedObjectListWarning
from django.test import RequestFactory

from hiroba.core.models import Department
from hiroba.core.paging import page_of

pytestmark = pytest.mark.django_db


def get(**query: str):
    return RequestFactory().get("/", query)


@pytest.mark.parametrize("asked", ["", "abc", "1.5", "last"])
def test_a_page_number_that_is_not_a_number_gives_the_first_page(asked):
    page = page_of(get(page=asked), list(range(5)), per_page=2)
    assert page.number == 1 and list(page) == [0, 1]


@pytest.mark.parametrize("asked", ["99", "0", "-1"])
def test_a_page_out_of_range_gives_the_last_page(asked):
    page = page_of(get(page=asked), list(range(5)), per_page=2)
    assert page.number == 3 and list(page) == [4] and not page.has_next()


def test_another_parameter_names_the_page():
    page = page_of(get(page="1", runs="2"), list(range(5)), per_page=2, param="runs")
    assert list(page) == [2, 3]


def test_an_unordered_queryset_is_paged_by_primary_key_without_the_warning(departments):
    unordered = Department.objects.order_by()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnorderedObjectListWarning)
        first = page_of(get(), unordered, per_page=2)
        last = page_of(get(page="99"), unordered, per_page=2)
    pks = sorted(Department.objects.values_list("pk", flat=True))
    assert [d.pk for d in first] == pks[:2] and [d.pk for d in last] == pks[(len(pks) - 1) // 2 * 2:]


def test_an_ordered_queryset_keeps_its_order(departments):
    page = page_of(get(), Department.objects.order_by("-code"), per_page=3)
    assert [d.code for d in page] == sorted(Department.objects.values_list("code", flat=True), reverse=True)[:3]


def test_a_second_list_on_a_page_keeps_its_own_parameter(rf):
    from django.template import Context, Template

    request = rf.get("/staff/x/", {"status": "open", "page": "3"})
    page = page_of(request, list(range(10)), per_page=2, param="rounds")
    html = Template('{% include "includes/pagination.html" with page=rounds param="rounds" %}').render(
        Context({"request": request, "rounds": page}))
    assert "rounds=2" in html and "status=open" in html and "page=3" in html  # the other list's page is kept
    plain = Template('{% include "includes/pagination.html" %}').render(
        Context({"request": request, "page": page_of(request, list(range(10)), per_page=2)}))
    assert "page=2" in plain and "status=open" in plain
