"""core.forms.HumanCheckForm: a honeypot and a minimum fill time on public forms (issue 13.8)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django import forms

from hiroba.core.forms import EmailField, HumanCheckForm, stamp

MOMENT = datetime(2025, 6, 20, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


class OpinionLike(HumanCheckForm):
    text = forms.CharField()


@pytest.fixture
def min_fill(settings):
    settings.HIROBA_FORM_MIN_FILL_SECONDS = 3


def test_the_honeypot_is_rendered_off_screen_with_its_label_and_a_signed_stamp(min_fill):
    html = str(OpinionLike())
    assert '<div class="hp-field"><label for="id_website">この欄は空のままにしてください</label>' in html
    assert 'tabindex="-1"' in html and 'autocomplete="off"' in html
    assert 'type="hidden" name="form_started"' in html
    form = OpinionLike()
    assert [f.name for f in form.hidden_fields()] == ["website", "form_started"]  # never a visible row


def test_a_filled_honeypot_is_refused_in_japanese(min_fill):
    with time_machine.travel(MOMENT, tick=False) as traveller:
        started = stamp()
        traveller.shift(30)
        form = OpinionLike({"text": "意見", "website": "http://spam.example", "form_started": started})
        assert not form.is_valid()
    assert "「この欄は空のままにしてください」の欄に入力があります" in form.non_field_errors()[0]


def test_a_form_sent_too_fast_is_refused_and_accepted_after_a_moment(min_fill):
    with time_machine.travel(MOMENT, tick=False) as traveller:
        data = {"text": "意見", "website": "", "form_started": stamp()}
        traveller.shift(1)
        form = OpinionLike(data)
        assert not form.is_valid() and "短すぎる" in form.non_field_errors()[0]
        traveller.shift(5)
        form = OpinionLike(data)
        assert form.is_valid() and form.cleaned_data == {"text": "意見"}


def test_a_missing_or_forged_stamp_is_refused_and_replaced(min_fill):
    for started in ("", "1718000000", stamp()[:-2] + "xx"):
        form = OpinionLike({"text": "意見", "form_started": started})
        assert not form.is_valid() and "もう一度送信してください" in form.non_field_errors()[0]
        assert form["form_started"].value() != started  # shown again with a fresh stamp


def test_with_no_minimum_only_the_honeypot_counts(settings):
    settings.HIROBA_FORM_MIN_FILL_SECONDS = 0
    assert OpinionLike({"text": "意見"}).is_valid()
    assert not OpinionLike({"text": "意見", "website": "x"}).is_valid()


@pytest.mark.parametrize("length, valid", [(254, True), (255, False), (320, False)])
def test_email_fields_refuse_what_the_column_cannot_hold(length, valid):
    class F(forms.Form):
        email = EmailField()

    address = "a" * 64 + "@" + ".".join(["b" * 60] * 10)
    address = address[:length - 3] + ".jp" if length <= len(address) else address
    form = F({"email": address[:length]})
    assert len(form.data["email"]) == length
    assert form.is_valid() is valid
    if not valid:
        assert "254文字以内" in form.errors["email"][-1]
