from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.api.models import Access, Module, WebhookEvent
from hiroba.core.forms import limit_choices
from hiroba.core.models import Department


class TokenForm(forms.Form):
    name = forms.CharField(label=_("用途"), max_length=100, help_text=_("例：受付システムとの連携（○○課）"))
    modules = forms.MultipleChoiceField(label=_("対象の機能"), choices=Module.choices,
                                        widget=forms.CheckboxSelectMultiple)
    departments = forms.ModelMultipleChoiceField(label=_("対象の所属"), queryset=Department.objects.none(),
                                                 widget=forms.CheckboxSelectMultiple)
    access = forms.ChoiceField(label=_("権限"), choices=Access.choices, initial=Access.READ, widget=forms.RadioSelect)
    expires_on = forms.DateField(label=_("有効期限"), widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("作成日から1年以内。この日の終わりまで使えます。"))

    def __init__(self, *args: Any, departments: list[Department], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"expires_on": timezone.localdate() + timedelta(days=90)})
        super().__init__(*args, **kwargs)
        limit_choices(self, "departments", Department.objects.filter(pk__in=[d.pk for d in departments]))


class WebhookForm(forms.Form):
    department = forms.ModelChoiceField(label=_("所属"), queryset=Department.objects.none(),
                                        help_text=_("この所属の案件の出来事を通知します。"))
    url = forms.URLField(label=_("送信先URL"), max_length=500, assume_scheme="https",
                         help_text=_("例：https://renkei.example.lg.jp/hiroba（庁内の受信システム）"))
    events = forms.MultipleChoiceField(label=_("通知する出来事"), choices=WebhookEvent.choices,
                                       widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = departments
