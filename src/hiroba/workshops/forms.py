"""Input validation. The application form is written for a 13-year-old: short, plain words, furigana."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _

from hiroba.core.forms import EmailField, HumanCheckForm
from hiroba.workshops.models import GRADE_CHOICES, Output, Programme, Session
from hiroba.workshops.services import ApplicationInput

_KANA = re.compile(r"^[ぁ-ゖァ-ヺー゛゜\s・]+$")


def ruby(base: str, reading: str) -> SafeString:
    """<ruby>保護者<rp>（</rp><rt>ほごしゃ</rt><rp>）</rp></ruby>"""
    return format_html("<ruby>{}<rp>（</rp><rt>{}</rt><rp>）</rp></ruby>", base, reading)


def _with_furigana(text: str, readings: dict[str, str]) -> SafeString:
    """The label in the reader's language: in Japanese with furigana over the words given (their
    first appearance, in the order given); a translation is shown as it is, with no furigana."""
    translated = gettext(text)
    if translated != text:
        return conditional_escape(translated)
    parts: list[str] = [text]
    for base, reading in readings.items():
        before, _, after = parts.pop().partition(base)
        parts += [before, ruby(base, reading), after]
    return format_html("".join("{}" for _ in parts), *parts)


#: A form label with furigana, translated when the form is shown (not when this module is imported).
furigana_label = lazy(_with_furigana, SafeString)


_GUARDIAN = {"保護者": "ほごしゃ"}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ApplicationForm(HumanCheckForm):
    student_name = forms.CharField(label=gettext_lazy("あなたの名前"), max_length=100,
                                   widget=forms.TextInput(attrs={"autocomplete": "name"}))
    student_kana = forms.CharField(
        label=gettext_lazy("名前のふりがな"), max_length=100, help_text=gettext_lazy("ひらがなで書いてください。（例: ちよだ はなこ）"))
    birth_date = forms.DateField(label=furigana_label(gettext_noop("生年月日"), {"生年月日": "せいねんがっぴ"}), widget=DateInput(),
                                 help_text=gettext_lazy("例: 2012年4月15日生まれなら 2012-04-15"))
    school_name = forms.CharField(label=gettext_lazy("学校の名前"), max_length=100, help_text=gettext_lazy("例: 千代田区立麹町中学校"))
    grade = forms.TypedChoiceField(label=furigana_label(gettext_noop("学年"), {"学年": "がくねん"}), coerce=int,
                                   choices=[("", gettext_lazy("えらんでください")), *GRADE_CHOICES])
    lives_in_ward = forms.BooleanField(label=gettext_lazy("わたしは千代田区に住んでいます"), required=False)
    address = forms.CharField(label=furigana_label(gettext_noop("住所"), {"住所": "じゅうしょ"}), max_length=200,
                              help_text=gettext_lazy("例: 千代田区九段南1-2-1"),
                              widget=forms.TextInput(attrs={"autocomplete": "street-address"}))
    student_email = EmailField(label=gettext_lazy("あなたのメールアドレス（あれば）"), required=False,
                                     help_text=gettext_lazy("なければ書かなくてだいじょうぶです。"))
    student_phone = forms.CharField(label=gettext_lazy("あなたの電話番号（あれば）"), required=False, max_length=20,
                                    widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    guardian_name = forms.CharField(label=furigana_label(gettext_noop("保護者（おうちの人）の名前"), _GUARDIAN), max_length=100)
    guardian_relationship = forms.CharField(label=gettext_lazy("あなたとの関係（例: 母、父）"), required=False, max_length=20)
    guardian_email = EmailField(
        label=furigana_label(gettext_noop("保護者のメールアドレス"), _GUARDIAN),
        help_text=furigana_label(
            gettext_noop("このアドレスに、同意をお願いするメールが届きます。おうちの人が「同意します」を押すと、申込みが完了します。"),
            {"同意": "どうい"}))
    guardian_phone = forms.CharField(label=furigana_label(gettext_noop("保護者の電話番号"), _GUARDIAN), max_length=20,
                                     widget=forms.TextInput(attrs={"type": "tel"}))
    interests = forms.CharField(label=gettext_lazy("やってみたいこと、きょうみのあること（書かなくてもよい）"), required=False,
                                max_length=1000, widget=forms.Textarea(attrs={"rows": 4}))
    accessibility_needs = forms.CharField(
        label=gettext_lazy("参加するときに手伝ってほしいこと（書かなくてもよい）"), required=False, max_length=1000,
        help_text=gettext_lazy("例: 車いすを使っています、字幕があると助かります"), widget=forms.Textarea(attrs={"rows": 4}))
    privacy_ack = forms.BooleanField(label=furigana_label(gettext_noop("個人情報のあつかいを読みました"),
                                                          {"個人情報": "こじんじょうほう"}))

    def clean_student_kana(self) -> str:
        kana = unicodedata.normalize("NFKC", self.cleaned_data["student_kana"]).strip()
        if not _KANA.match(kana):
            raise forms.ValidationError(_("ふりがなは、ひらがなで書いてください。"))
        return kana

    def clean_birth_date(self) -> date:
        birth: date = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if birth >= today or today.year - birth.year > 25 or today.year - birth.year < 5:
            raise forms.ValidationError(_("生年月日をもう一度たしかめてください。"))
        return birth

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        student, guardian = data.get("student_email", ""), data.get("guardian_email", "")
        if student and guardian and student.lower() == guardian.lower():
            self.add_error("student_email", _("保護者と同じアドレスのときは、あなたのメールアドレスは書かないでください。"))
        return data

    def to_input(self) -> ApplicationInput:
        data = {k: v for k, v in self.cleaned_data.items() if k != "privacy_ack"}
        for key in ("student_email", "guardian_email"):
            data[key] = data[key].lower()
        return ApplicationInput(**data)


class ConsentForm(forms.Form):
    guardian_name = forms.CharField(label=gettext_lazy("保護者の方のお名前"), max_length=100,
                                    widget=forms.TextInput(attrs={"autocomplete": "name"}))
    agree = forms.BooleanField(label=gettext_lazy("上の内容と個人情報の取扱いを確認し、参加に同意します"))


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = ["department", "code", "title", "purpose", "audience", "residency_required", "grade_min",
                  "grade_max", "age_min", "age_max", "age_on", "capacity", "waitlist_size",
                  "applications_open_on", "applications_close_on", "consent_deadline", "selection_method",
                  "lottery_seed_rule", "quota_kind", "privacy_notice", "starts_on", "ends_on", "purge_on",
                  "is_published"]
        widgets = {name: DateInput() for name in ["age_on", "applications_open_on", "applications_close_on",
                                                   "consent_deadline", "starts_on", "ends_on", "purge_on"]}

    def __init__(self, *args: Any, departments: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if departments is not None:
            cast(forms.ModelChoiceField, self.fields["department"]).queryset = departments
        if self.instance.pk:
            self.fields.pop("department")
            self.fields.pop("code")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        has_grades = data.get("grade_min") is not None and data.get("grade_max") is not None
        has_ages = all(data.get(n) is not None for n in ("age_min", "age_max", "age_on"))
        if not (has_grades or has_ages):
            raise forms.ValidationError(_("対象の学年（から・まで）か、対象の年齢と基準日を入力してください。"))
        if has_grades and data["grade_min"] > data["grade_max"]:
            self.add_error("grade_max", _("「まで」は「から」と同じか後の学年にしてください。"))
        return data


class SessionForm(forms.ModelForm):
    online_url = forms.URLField(label=gettext_lazy("オンライン参加のURL"), required=False, assume_scheme="https")

    class Meta:
        model = Session
        fields = ["number", "title", "starts_at", "ends_at", "place", "online_url", "agenda", "materials", "notes"]
        widgets = {"starts_at": DateTimeInput(), "ends_at": DateTimeInput(),
                   "agenda": forms.Textarea(attrs={"rows": 4}), "materials": forms.Textarea(attrs={"rows": 4}),
                   "notes": forms.Textarea(attrs={"rows": 6})}

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("place") and not data.get("online_url"):
            raise forms.ValidationError(_("会場かオンライン参加のURLのどちらかを入力してください。"))
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("終了は開始より後にしてください。"))
        return data


class QuotaForm(forms.Form):
    group = forms.CharField(label=gettext_lazy("区分（学年は「中学1年」のように、学校は学校名）"), max_length=100)
    seats = forms.IntegerField(label=gettext_lazy("枠の人数（0で削除）"), min_value=0)


class LotteryPublishForm(forms.Form):
    public_value = forms.CharField(
        label=gettext_lazy("公開値"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("事前に公表した決め方どおりの値を、そのまま入力します。シードはこの値のSHA-256です。"))


class LotteryDrawForm(forms.Form):
    seed = forms.CharField(widget=forms.HiddenInput, max_length=200)
    entries_digest = forms.CharField(widget=forms.HiddenInput, max_length=200)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("辞退の理由（聞き取った内容）"), max_length=200)


class ExportForm(forms.Form):
    include_contacts = forms.BooleanField(label=gettext_lazy("連絡先（住所・メールアドレス・電話番号・保護者）を含める"), required=False)
    reason = forms.CharField(label=gettext_lazy("連絡先を含める理由"), required=False, max_length=300,
                             help_text=gettext_lazy("連絡先を含めるときは必須です。監査ログに記録されます。"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("include_contacts") and not data.get("reason", "").strip():
            self.add_error("reason", _("連絡先を含めるときは、理由を書いてください。"))
        return data


class OutputForm(forms.ModelForm):
    class Meta:
        model = Output
        fields = ["title", "team_label", "problem", "idea", "beneficiaries", "slides"]
        widgets = {"problem": forms.Textarea(attrs={"rows": 4}), "idea": forms.Textarea(attrs={"rows": 6}),
                   "beneficiaries": forms.Textarea(attrs={"rows": 3})}


class AttendanceForm(forms.Form):
    present = forms.TypedMultipleChoiceField(label=gettext_lazy("出席した人"), coerce=int, required=False,
                                             widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, participants: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["present"]).choices = [(a.pk, f"{a.student_name}（{a.student_kana}）") for a in participants]
