"""A confirmation step before a weighty or irreversible staff action (募集を締め切る, 決裁に回す,
結果を公表する, 抽選する).

The first POST of the action's form answers with a page that says what will happen, carrying the
posted values on; only its 「…する」 button (which adds ``confirmed=yes``) performs the action.
Plain HTML forms: it works without JavaScript and with any assistive technology.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

FIELD = "confirmed"
_NOT_CARRIED = {"csrfmiddlewaretoken", FIELD}


def confirmed(request: HttpRequest) -> bool:
    """True when the POST comes from the confirmation page's button."""
    return request.method == "POST" and request.POST.get(FIELD) == "yes"


def page(
    request: HttpRequest,
    *,
    title: str,
    consequences: Sequence[str],
    confirm_label: str,
    cancel_url: str,
    subject: str = "",
    form: forms.Form | None = None,
    warning: str = "",
    status: int = 200,
) -> HttpResponse:
    """The confirmation page: what will happen, the posted values carried on as hidden fields
    (except those of `form`, which it shows for input, e.g. a required reason)."""
    shown = set(form.fields) if form is not None else set()
    hidden = [(name, value) for name in request.POST if name not in _NOT_CARRIED and name not in shown
              for value in request.POST.getlist(name)]
    context: dict[str, Any] = {
        "title": title, "subject": subject, "consequences": list(consequences), "confirm_label": confirm_label,
        "cancel_url": cancel_url, "hidden": hidden, "form": form, "warning": warning, "action": request.path,
    }
    return render(request, "includes/confirm.html", context, status=status)
