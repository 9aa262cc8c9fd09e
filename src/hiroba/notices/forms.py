"""Forms of the notice service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hiroba.core.models import Department
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
        field = self.fields["notice_type"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = types

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("ファイルが大きすぎます（50MBまで）。"))
        return upload


class TypeForm(forms.Form):
    """A new notice type (its first template is made on the type's page)."""

    slug = forms.SlugField(label=_("識別子（半角英数字とハイフン）"), max_length=40,
                           help_text=_("コマンドやファイル名で使います。例: jido-teate"))
    name = forms.CharField(label=_("名称"), max_length=100)
    department = forms.ModelChoiceField(label=_("所管所属"), queryset=Department.objects.none())
    needs_acknowledgement = forms.BooleanField(label=_("受領確認が必要"), required=False,
                                               help_text=_("必要な場合、督促は3日後、紙への切替は7日後が既定です。"))
    reminder_days = forms.IntegerField(label=_("督促までの日数"), required=False, min_value=1, max_value=60,
                                       help_text=_("空欄なら7日（受領確認が必要なら3日）。"))
    fallback_days = forms.IntegerField(label=_("紙への切替までの日数"), required=False, min_value=1, max_value=90,
                                       help_text=_("空欄なら14日（受領確認が必要なら7日）。"))
    retention_days = forms.IntegerField(label=_("書面の保存日数"), initial=365, min_value=1, max_value=3650,
                                        help_text=_("開封または郵送の後、この日数が過ぎると書面の内容と差し込み項目を消去します。"))
    mail_retention_days = forms.IntegerField(label=_("メール本文の保存日数"), initial=7, min_value=1, max_value=365)
    deadline_wording = forms.CharField(label=_("期限の書き方"), max_length=200, required=False,
                                       help_text=_("書面の末尾に太字で入ります。差し込み項目を使えます。"))
    consent_text = forms.CharField(label=_("同意の文言"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                   help_text=_("空欄なら標準の文言を使います。"))

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = departments


class TemplateForm(forms.Form):
    title = forms.CharField(label=_("表題"), max_length=200)
    body = forms.CharField(label=_("本文"), widget=forms.Textarea(attrs={"rows": 10}),
                           help_text=_("差し込み項目は {{ 項目名 }} と書きます（氏名・住所・郵便番号・宛名番号は宛名から入ります）。"
                                       "空行で段落を分けます。"))


class RecipientUploadForm(forms.Form):
    file = forms.FileField(label=_("宛名一覧（Excel または CSV、UTF-8 または Shift_JIS）"),
                           help_text=_("1行目は見出し: 宛名番号,氏名,郵便番号,住所,生年月日,メールアドレス"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("ファイルが大きすぎます（50MBまで）。"))
        return upload


class RowForm(forms.Form):
    row = forms.IntegerField(label=_("行番号"), min_value=1)
