"""Forms of the intake screens (staff only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from hiroba.consultations.forms import OpinionForm, StaffIntakeForm
from hiroba.consultations.intake.formservice import FIELD_LABELS
from hiroba.consultations.intake.models import Entry, Source
from hiroba.consultations.models import Case, Channel
from hiroba.core.forms import set_choices

CHANNELS_BY_SOURCE = {
    Source.SCAN: [Channel.POST, Channel.HAND, Channel.FAX],
    Source.MAIL: [Channel.EMAIL],
    Source.FAX: [Channel.FAX],
    Source.FORM: [Channel.WEB],
}


class ConfirmForm(StaffIntakeForm):
    """The letter as staff confirm it: the text (the OCR's, corrected) and the submitter's details
    typed beside the scan. The original is already stored: nothing to attach."""

    accept_late = forms.BooleanField(label=gettext_lazy("期間外ですが受け付ける"), required=False,
                                     help_text=gettext_lazy("募集期間の外に届いたものを、担当の判断で受け付けるときだけ選びます。"))
    note = forms.CharField(label=gettext_lazy("確認のメモ（任意）"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, case: Case, entry: Entry, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        for name in ("attachment", "attachment_token", "idempotency_key"):
            del self.fields[name]
        by_source = CHANNELS_BY_SOURCE[Source(entry.source)]
        allowed = [c for c in by_source if c in case.channels] or by_source
        set_choices(self, "channel", [(c.value, c.label) for c in allowed])
        self.fields["text"].help_text = gettext_lazy("OCRの結果を原本と見比べて直してください。確定すると、この本文が提出の原本になります"
                                                     "（OCRの結果も残ります）。")
        if not entry.is_held or entry.hold_code != "period":
            del self.fields["accept_late"]

    def clean(self) -> dict[str, Any]:
        cleaned = OpinionForm.clean(self)
        if cleaned.get("channel") == Channel.POST and not cleaned.get("postmark_date"):
            self.add_error("postmark_date", gettext("郵送の場合は消印日を入力してください。"))
        received = cleaned.get("received_at")
        if received and received > timezone.now():
            self.add_error("received_at", gettext("受付日時に未来の日時は入力できません。"))
        return cleaned


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("受け付けない理由"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": gettext_lazy("受け付けない理由を入力してください。")})


class ScanUploadForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("届いた方法"), choices=[(Channel.POST.value, Channel.POST.label),
                                                           (Channel.HAND.value, Channel.HAND.label),
                                                           (Channel.FAX.value, Channel.FAX.label)])


class MappingForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("列の対応の名前"), max_length=100, initial="既定")
    row_key = forms.CharField(label=gettext_lazy("行を識別する列の見出し"), max_length=200,
                              help_text=gettext_lazy("フォームサービスの受付番号・回答IDなど、行ごとに必ず違う値の列。同じ行を二度取り込みません。"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field, label in FIELD_LABELS.items():
            self.fields[f"col_{field}"] = forms.CharField(
                label=gettext_lazy("「%(label)s」の列の見出し") % {"label": label}, max_length=200, required=field == "text",
                error_messages={"required": gettext_lazy("意見の列の見出しを入力してください。")})

    def columns(self) -> dict[str, str]:
        return {f: self.cleaned_data.get(f"col_{f}", "") for f in FIELD_LABELS}
