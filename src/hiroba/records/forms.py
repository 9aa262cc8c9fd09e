"""Forms of the records pages (staff) and the public register's search."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hiroba.core.forms import set_choices
from hiroba.records.models import Action, Disposition, LegalHold, Medium, Retention, ShortReason, TransferRequest


class RegisterSearchForm(forms.Form):
    q = forms.CharField(label=_("キーワード"), required=False, max_length=100)
    department = forms.TypedChoiceField(label=_("所属"), required=False, coerce=int, empty_value=None)
    year = forms.TypedChoiceField(label=_("作成・取得年度"), required=False, coerce=int, empty_value=None)
    large = forms.CharField(label=_("大分類"), required=False, max_length=100)

    def __init__(self, *args, departments=(), years=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "department", [("", _("すべて"))] + [(d.pk, d.name) for d in departments])
        set_choices(self, "year", [("", _("すべて"))] + [(y, label) for y, label in years])


class ImportForm(forms.Form):
    file = forms.FileField(label=_("管理簿のファイル（Excel または CSV）"))


class FileForm(forms.Form):
    department = forms.TypedChoiceField(label=_("所属"), coerce=int)
    fiscal_year = forms.IntegerField(label=_("作成・取得年度（西暦）"), min_value=1900, max_value=2200)
    large = forms.CharField(label=_("大分類"), max_length=100)
    medium = forms.CharField(label=_("中分類"), max_length=100)
    small = forms.CharField(label=_("小分類"), max_length=100, required=False)
    name = forms.CharField(label=_("名称"), max_length=300)
    author = forms.CharField(label=_("作成・取得者"), max_length=100)
    retention = forms.TypedChoiceField(label=_("保存期間"), coerce=int, choices=Retention.choices)
    short_reason = forms.ChoiceField(label=_("1年未満とする理由"), choices=ShortReason.choices, required=False)
    medium_type = forms.ChoiceField(label=_("媒体"), choices=Medium.choices)
    location = forms.CharField(label=_("保存場所"), max_length=300)
    share_path = forms.CharField(label=_("共有フォルダ上の場所"), max_length=500, required=False)
    manager = forms.CharField(label=_("管理者"), max_length=100)
    action = forms.ChoiceField(label=_("保存期間満了時の措置"), choices=Action.choices)
    note = forms.CharField(label=_("備考"), max_length=500, required=False)
    is_public = forms.BooleanField(label=_("公開の管理簿に載せる"), required=False, initial=True)

    def __init__(self, *args, departments=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "department", [(d.pk, d.name) for d in departments])


class HoldForm(forms.Form):
    kind = forms.ChoiceField(label=_("種別"), choices=LegalHold.Kind.choices)
    reason = forms.CharField(label=_("理由（事件番号・請求番号など）"), max_length=500)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=500, required=False)


class DispositionForm(forms.Form):
    kind = forms.ChoiceField(label=_("措置"), choices=Disposition.Kind.choices)
    reason = forms.CharField(label=_("理由（延長のときは必須）"), max_length=500, required=False)
    extend_years = forms.IntegerField(label=_("延長する年数"), min_value=1, max_value=30, required=False)


class _MultipleFiles(forms.ClearableFileInput):
    allow_multiple_selected = True


class _FilesField(forms.FileField):
    widget = _MultipleFiles

    def clean(self, data, initial=None):
        items = data if isinstance(data, list | tuple) else [data]
        return [super(_FilesField, self).clean(item, initial) for item in items if item]


class TransferForm(forms.Form):
    department = forms.TypedChoiceField(label=_("所属"), coerce=int)
    direction = forms.ChoiceField(label=_("方向"), choices=TransferRequest.Direction.choices)
    reason = forms.CharField(label=_("理由（何のために持ち込む・持ち出すか）"), max_length=500)
    uploads = _FilesField(label=_("ファイル（複数可）"))

    def __init__(self, *args, departments=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "department", [(d.pk, d.name) for d in departments])
