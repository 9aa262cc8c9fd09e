"""Form pieces shared by every app: the check that a public form was filled in by a person.

`HumanCheckForm` adds two fields to a public form: a honeypot (a text field placed off-screen,
labelled for screen-reader users 「この欄は空のままにしてください」, out of the tab order) that
people leave empty and form-filling bots fill, and a signed time stamp of when the form was
shown. A form sent with the honeypot filled, or sooner than HIROBA_FORM_MIN_FILL_SECONDS after it
was shown, is invalid with a Japanese message: the view stores nothing.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hiroba.core.errors import ServiceError

SALT = "hiroba.core.forms.started"
MAX_AGE_SECONDS = 24 * 3600  # a form left open longer is simply shown again with a fresh stamp
HONEYPOT = "website"
STARTED = "form_started"


class HoneypotInput(forms.TextInput):
    """Rendered with the form's hidden fields, inside an off-screen box with its own label."""

    template_name = "core/widgets/honeypot.html"
    is_hidden = True  # templates render it among the hidden fields, never as a visible form row

    def __init__(self) -> None:
        super().__init__(attrs={"autocomplete": "off", "tabindex": "-1"})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["label"] = gettext("この欄は空のままにしてください")
        context["widget"]["type"] = "text"
        return context


def stamp(now: float | None = None) -> str:
    return signing.dumps(int(now if now is not None else time.time()), salt=SALT)


class HumanCheckForm(forms.Form):
    """Mix into a public form (before forms.Form). Set `human_check = False` on a subclass used by
    staff (for example the intake of paper opinions) to drop the check."""

    human_check = True

    website = forms.CharField(label=_("この欄は空のままにしてください"), required=False, widget=HoneypotInput())
    form_started = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.human_check:
            self.fields.pop(HONEYPOT, None)
            self.fields.pop(STARTED, None)
        else:
            self.fields[STARTED].initial = stamp()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.human_check:
            return cleaned
        honeypot = cleaned.pop(HONEYPOT, "")
        started = cleaned.pop(STARTED, "")
        if honeypot:
            raise forms.ValidationError(
                gettext("送信できませんでした。「この欄は空のままにしてください」の欄に入力があります。"
                        "その欄を空にして、もう一度送信してください。"), code="honeypot")
        minimum = settings.HIROBA_FORM_MIN_FILL_SECONDS
        if minimum <= 0:
            return cleaned
        try:
            shown_at = signing.loads(started or "", salt=SALT, max_age=MAX_AGE_SECONDS)
        except signing.BadSignature:
            data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict (a bound form)
            data[self.add_prefix(STARTED)] = stamp()
            self.data = data
            raise forms.ValidationError(
                gettext("ページを開いてから時間がたったため、送信を確認できませんでした。"
                        "内容を確かめて、もう一度送信してください。"), code="stale") from None
        if time.time() - float(shown_at) < minimum:
            raise forms.ValidationError(
                gettext("入力から送信までが短すぎるため、受け付けられませんでした。"
                        "内容を確かめて、もう一度送信してください。"), code="too_fast")
        return cleaned


# The longest address SMTP carries (RFC 5321: a 256-octet path less the angle brackets); every
# e-mail column is varchar(254), so a longer address must be refused by the form, not the database.
EMAIL_MAX_LENGTH = 254
EMAIL_TOO_LONG = _("メールアドレスは%(limit_value)d文字以内で入力してください（現在%(show_value)d文字）。")


def limit_email_length(field: forms.Field) -> forms.Field:
    """Give an e-mail field (ours or a library's) the column's length limit and a Japanese message."""
    from django.core.validators import MaxLengthValidator

    field.max_length = EMAIL_MAX_LENGTH  # type: ignore[attr-defined]
    field.validators.append(MaxLengthValidator(EMAIL_MAX_LENGTH, message=EMAIL_TOO_LONG))
    field.widget.attrs["maxlength"] = str(EMAIL_MAX_LENGTH)
    return field


class EmailField(forms.EmailField):
    """forms.EmailField limited to what the database stores."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        limit_email_length(self)


def limit_choices(form: forms.BaseForm, name: str, queryset: QuerySet[Any]) -> None:
    """Offer only `queryset` in a model choice field of `form` (e.g. the departments the user may
    act for). Declare the field with ``queryset=Model.objects.none()`` and call this in __init__."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


def set_choices(form: forms.BaseForm, name: str, choices: Any) -> None:
    """Offer `choices` in a (typed) choice field of `form` that are known only when the form is made
    (e.g. the departments or years present in a list)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def cleaned_or_refuse(form: forms.BaseForm, message: Any, *, code: str = "invalid") -> dict[str, Any]:
    """A staff button's small form: its cleaned data, or a `ServiceError` with ``message`` (which
    `core.errors.flashed` shows as the refusal) when the form is not valid."""
    if not form.is_valid():
        raise ServiceError(message, code=code)
    return form.cleaned_data
