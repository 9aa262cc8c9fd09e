"""The application form's furigana labels are translated when the form is shown, not when the
module is imported: in Japanese with <ruby>, in English as plain English."""

from __future__ import annotations

from django.utils import translation

from hiroba.workshops.forms import ApplicationForm


def test_the_english_form_shows_english_labels_without_furigana():
    form = ApplicationForm()
    with translation.override("en"):
        html = form.as_div()
    assert "Your parent or guardian’s name" in html and "Date of birth" in html and "School year" in html
    assert "I have read how my personal information is handled" in html
    assert "When your parent or guardian presses “I agree”" in html
    assert "<ruby>" not in html and "保護者" not in html


def test_the_japanese_form_keeps_the_furigana():
    form = ApplicationForm()
    with translation.override("ja"):
        html = form.as_div()
    assert "<ruby>保護者<rp>（</rp><rt>ほごしゃ</rt><rp>）</rp></ruby>（おうちの人）の名前" in html
    assert "<ruby>生年月日<rp>（</rp><rt>せいねんがっぴ</rt><rp>）</rp></ruby>" in html
    assert "このアドレスに、<ruby>同意<rp>（</rp><rt>どうい</rt><rp>）</rp></ruby>をお願いするメール" in html
