"""Forms of the notice service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hiroba.notices.models import NoticeType

MAX_UPLOAD = 50 * 1024 * 1024


class LinkForm(forms.Form):
    """A resident confirms their 宛名番号 with the date of birth on record."""

    atena_number = forms.CharField(label=_("宛名番号"), max_length=20,
                                   help_text=_("区からの通知の右上に記載されている番号です。"))
    birth_date = forms.DateField(label=_("生年月日"), widget=forms.DateInput(attrs={"type": "date"}))


class ConsentForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("give", "give"), ("withdraw", "withdraw")], widget=forms.HiddenInput)


class BatchUploadForm(forms.Form):
    notice_type = forms.ModelChoiceField(label=_("書面の種類"), queryset=NoticeType.objects.none())
    file = forms.FileField(label=_("バッチのファイル（Excel または CSV）"),
                           help_text=_("1行目は見出し（宛名番号とテンプレートの差し込み項目）にしてください。"))

    def __init__(self, *args: Any, types: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["notice_type"].queryset = types

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("ファイルが大きすぎます（50MBまで）。"))
        return upload
