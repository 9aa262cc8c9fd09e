"""The public register: the published columns of the files a department chose to publish,
searchable by keyword, department, year and classification (as some prefectures offer)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from hiroba.core.models import Department
from hiroba.core.paging import page_of
from hiroba.records import forms, queries


@require_GET
def register_search(request: HttpRequest) -> HttpResponse:
    files = queries.public_files()
    departments = Department.objects.filter(pk__in=files.values("department_id")).select_related("parent")
    form = forms.RegisterSearchForm(request.GET or None, departments=departments, years=queries.years(files))
    data = form.cleaned_data if form.is_valid() else {}
    page = page_of(request, queries.search(files, data), 50)
    return render(request, "records/register.html", {"form": form, "page": page})
