"""The one way a staff list is cut into pages: `page_of(request, items)`, rendered under the table
with {% include "includes/pagination.html" %}.

A bad page number gives a page, as Django's `get_page` does, never a 404: the first when it is
missing or not a number, the last when it is out of range (past the end, 0 or negative).
A queryset that is not ordered is ordered by its primary key first, so its pages are stable and
Django's UnorderedObjectListWarning never fires; a list that means an order says it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

#: Rows per page of a list that names no size of its own.
PER_PAGE = 50


def page_of(request: HttpRequest, items: QuerySet[Any] | Sequence[Any], per_page: int | None = None,
            param: str = "page") -> Page[Any]:
    """The page of `items` asked for by the request's `param`, `per_page` rows long (PER_PAGE
    unless given)."""
    if isinstance(items, QuerySet) and not items.ordered:
        items = items.order_by("pk")
    return Paginator(items, per_page or PER_PAGE).get_page(request.GET.get(param))
