"""Input validation for residents' and staff's forms; every message in plain Japanese (the public
forms' texts are translatable: the Japanese is the msgid)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import IdentityLevel, Role, User
from hiroba.consultations import conf
from hiroba.consultations.models import (
    STAFF_CHANNELS,
    Case,
    Category,
    Channel,
    ExcludeCategory,
    Item,
    Reflection,
    Section,
    StandardAnswer,
)
from hiroba.consultations.services import DETAIL_FIELDS, Original, RouteStep
from hiroba.core import dates
from hiroba.core.forms import EmailField, HumanCheckForm, limit_choices, set_choices
from hiroba.core.models import Department

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# What an attachment may be, recognised by its first bytes (never by its name).
MAGIC = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
]
TOO_LARGE = "too_large"
_KEY = re.compile(r"^[0-9a-f]{32}$")
_SIGNING_SALT = "hiroba.consultations.attachment"

# The models' choice labels stay plain Japanese (translatable labels would mean a migration). The
# public pages translate them where they show them ({% translate label %}, gettext(label)); these
# markers put them in the catalogue. tests/core/test_i18n.py checks that none is missing. (The
# relationships 在住・在勤・在学 and the identity levels come from hiroba.accounts, translated there.)
CHOICE_LABELS = (
    # Channel
    gettext_noop("持参"), gettext_noop("郵送"), gettext_noop("ファクス"), gettext_noop("電子メール"),
    gettext_noop("ウェブフォーム"), gettext_noop("不明（移行データ）"),
    # Category
    gettext_noop("在住"), gettext_noop("在勤"), gettext_noop("在学"), gettext_noop("事業者"),
    gettext_noop("利害関係者"), gettext_noop("その他"),
    # IdentityLevel (accounts)
    gettext_noop("本人確認なし"), gettext_noop("メールアドレスの確認"), gettext_noop("本人確認済み"),
    # ExcludeCategory (the results page counts unpublished opinions by these)
    gettext_noop("案件に関係のない意見"), gettext_noop("個人や団体を誹謗中傷する内容を含む意見"),
    gettext_noop("個人情報や権利利益を害するおそれのある内容を含む意見"), gettext_noop("公序良俗に反する内容を含む意見"),
    # Case.State, ApprovalRound.State, ApprovalDecision.Decision (the staff approval and publish pages)
    gettext_noop("準備中"), gettext_noop("募集中"), gettext_noop("集計中"), gettext_noop("回答作成中"),
    gettext_noop("決裁中"), gettext_noop("公表済"), gettext_noop("決裁待ち"),
)


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, ext in MAGIC:
        if head.startswith(magic):
            return content_type, ext
    return None


def _label(label: StrOrPromise) -> str:
    """A choice's label in the active language: TextChoices labels here are plain Japanese msgids,
    or already lazy (those taken from accounts.Relationship)."""
    return gettext(label) if isinstance(label, str) else str(label)


def _lazy_label(label: StrOrPromise) -> StrOrPromise:
    """`_label` for a choice list built at import time (translated when rendered)."""
    return _(label) if isinstance(label, str) else label


def clean_text_input(value: str, *, label: StrOrPromise, limit: int | None = None, required: bool = True) -> str:
    """Reject what cannot be a resident's text: NUL bytes, undecodable bytes, empty, too long."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in value:
        raise forms.ValidationError(
            gettext("%(label)sに使用できない文字（NUL文字）が含まれています。") % {"label": label})
    if "\ufffd" in value:
        raise forms.ValidationError(
            gettext("%(label)sの文字コードを読み取れませんでした。UTF-8の文字で入力し直してください。")
            % {"label": label}
        )
    if required and not value.strip():
        raise forms.ValidationError(
            gettext("%(label)sを入力してください。空白だけでは送信できません。") % {"label": label})
    if limit is not None and len(value) > limit:
        raise forms.ValidationError(
            gettext("%(label)sは%(limit)s文字以内で入力してください（現在%(count)s文字）。"
                    "長くなる場合は、複数回に分けて提出するか、PDFを添付してください。")
            % {"label": label, "limit": f"{limit:,}", "count": f"{len(value):,}"}
        )
    return value.strip("\n") if value.strip() else ""


class CleanTextMixin:
    text_fields: dict[str, StrOrPromise] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        for name, label in self.text_fields.items():
            if name in cleaned and isinstance(cleaned[name], str) and name not in ("text",):
                try:
                    cleaned[name] = clean_text_input(cleaned[name], label=label, required=False)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)  # type: ignore[attr-defined]
        return cleaned


class SectionChoiceField(forms.ModelChoiceField):
    default_error_messages = {
        "invalid_choice": _("選択した該当箇所は、この案件にありません。一覧から選び直してください。"),
    }

    def label_from_instance(self, obj: Section) -> str:
        return ("　" * obj.depth) + str(obj)


class AttachmentField(forms.FileField):
    """PDF, PNG or JPEG, recognised by content, up to the configured size."""

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if not upload:
            return upload
        limit = conf.get("CONSULTATIONS_MAX_ATTACHMENT_BYTES")
        if upload.size > limit:
            raise forms.ValidationError(
                gettext("添付ファイルは%(limit)sMB以下にしてください（%(size)sMB）。")
                % {"limit": limit // (1024 * 1024), "size": f"{upload.size / (1024 * 1024):.1f}"},
                code=TOO_LARGE,
            )
        upload.seek(0)
        kind = sniff(upload.read(16))
        upload.seek(0)
        if kind is None:
            raise forms.ValidationError(
                gettext("添付できるのはPDF・PNG・JPEGのファイルだけです。ファイルの中身がこれらの形式ではありません。")
            )
        upload.hiroba_type, upload.hiroba_ext = kind
        return upload


class OpinionForm(CleanTextMixin, HumanCheckForm):
    """The public form (意見提出フォーム)."""

    name = forms.CharField(label=_("氏名"), max_length=100)
    address = forms.CharField(label=_("住所"), max_length=200,
                              help_text=_("区外にお住まいの方は、在勤・在学先の所在地でも構いません。"))
    category = forms.ChoiceField(label=_("区分"), choices=[("", _("選んでください"))]
                                 + [(value, _lazy_label(label)) for value, label in Category.choices])
    email = EmailField(label=_("メールアドレス"), required=False,
                             help_text=_("入力すると、受付番号をメールでお知らせします。"))
    phone = forms.CharField(label=_("電話番号"), max_length=30, required=False)
    section = SectionChoiceField(label=_("該当箇所"), queryset=Section.objects.none(), required=False,
                                 empty_label=_("特定の箇所はない（全体への意見）"))
    text = forms.CharField(label=_("意見"), widget=forms.Textarea(attrs={"rows": 12}), strip=False,
                           error_messages={"required": _("意見を入力してください。")})
    attachment = AttachmentField(label=_("添付ファイル（任意）"), required=False,
                                 help_text=_("PDF・PNG・JPEGのみ。"))
    attachment_token = forms.CharField(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(label=_("再送識別子"), widget=forms.HiddenInput, error_messages={
        "required": _("送信内容が正しくありません。最初から入力し直してください。")})

    text_fields = {"name": _("氏名"), "address": _("住所"), "phone": _("電話番号")}

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        for field in self.fields.values():
            field.error_messages["null_characters_not_allowed"] = (
                gettext("%(label)sに使用できない文字（NUL文字）が含まれています。") % {"label": field.label})
        limit_choices(self, "section", case.sections.all())
        limit = conf.get("CONSULTATIONS_MAX_OPINION_CHARS")
        self.fields["text"].help_text = (
            gettext("%(limit)s文字以内。HTMLやスクリプトは文字としてそのまま扱われます。") % {"limit": f"{limit:,}"})
        self.fields["attachment"].help_text = gettext("PDF・PNG・JPEGのみ、%(size)sMBまで。") % {
            "size": conf.get("CONSULTATIONS_MAX_ATTACHMENT_BYTES") // (1024 * 1024)}
        if case.eligibility:
            allowed = [(v, _label(label)) for v, label in Category.choices if v in case.eligibility]
            set_choices(self, "category", [("", gettext("選んでください")), *allowed])
        if case.identity_level == IdentityLevel.EMAIL:
            self.fields["email"].required = True
            self.fields["email"].help_text = gettext(
                "この案件では、メールでお送りする確認用リンクを開いたご意見だけを集計します。"
            )
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4().hex

    def clean_text(self) -> str:
        return clean_text_input(self.cleaned_data.get("text", ""), label=gettext("意見"),
                                limit=conf.get("CONSULTATIONS_MAX_OPINION_CHARS"))

    def clean_idempotency_key(self) -> str:
        key = self.cleaned_data["idempotency_key"]
        if not _KEY.match(key):
            raise forms.ValidationError(gettext("送信内容が正しくありません。最初から入力し直してください。"))
        return key

    def clean_attachment_token(self) -> dict[str, Any] | None:
        token = self.cleaned_data.get("attachment_token")
        if not token:
            return None
        try:
            return signing.loads(token, salt=_SIGNING_SALT, max_age=24 * 3600)
        except signing.BadSignature:
            raise forms.ValidationError(
                gettext("添付ファイルの情報が正しくありません。もう一度添付してください。")) from None

    @property
    def too_large(self) -> bool:
        return any(e.code == TOO_LARGE for e in self.errors.as_data().get("attachment", []))

    def hold_attachment(self) -> str:
        """Keep an uploaded attachment between the form and the confirmation; a signed token."""
        upload = self.cleaned_data.get("attachment")
        if upload:
            path = default_storage.save(f"consultations/holding/{uuid.uuid4().hex}{upload.hiroba_ext}", upload)
            token = signing.dumps({"path": path, "name": upload.name[:150], "type": upload.hiroba_type,
                                   "size": upload.size}, salt=_SIGNING_SALT)
            data = self.data.copy() if isinstance(self.data, QueryDict | dict) else dict(self.data)
            data["attachment_token"] = token
            self.data = data
            self.cleaned_data["attachment_token"] = signing.loads(token, salt=_SIGNING_SALT)
            return token
        return self.data.get("attachment_token", "") if self.cleaned_data.get("attachment_token") else ""

    def original(self) -> Original | None:
        held = self.cleaned_data.get("attachment_token")
        if not held or not default_storage.exists(held["path"]):
            return None
        with default_storage.open(held["path"], "rb") as fh:
            content = ContentFile(fh.read(), name=held["name"])
        return Original(file=content, name=held["name"], content_type=held["type"])

    def summary_rows(self) -> list[tuple[str, str]]:
        data = self.cleaned_data
        held = data.get("attachment_token")
        none = gettext("（なし）")
        return [
            (gettext("氏名"), data["name"]), (gettext("住所"), data["address"]),
            (gettext("区分"), str(Category(data["category"]).label)),
            (gettext("メールアドレス"), data.get("email") or none),
            (gettext("電話番号"), data.get("phone") or none),
            (gettext("該当箇所"),
             str(data["section"]) if data.get("section") else gettext("特定の箇所はない（全体への意見）")),
            (gettext("添付ファイル"), held["name"] if held else none),
        ]


class StaffIntakeForm(OpinionForm):
    """Staff enter an opinion received on paper, by fax or by e-mail (same checks as the web)."""

    human_check = False

    channel = forms.ChoiceField(label=_("提出方法"))
    received_at = forms.DateTimeField(label=_("受付日時"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    postmark_date = forms.DateField(label=_("消印日（郵送のみ）"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    attachment = AttachmentField(label=_("原本のスキャン（PDF・画像）"), required=False)

    field_order = ["channel", "received_at", "postmark_date", "name", "address", "category", "email", "phone",
                   "section", "text", "attachment"]

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        set_choices(self, "channel", [(c.value, _label(c.label)) for c in STAFF_CHANNELS if c.value in case.channels])
        for name in ("name", "address", "category"):
            self.fields[name].required = False
        self.fields["email"].required = False
        set_choices(self, "category", [("", gettext("不明")), *[(v, _label(label)) for v, label in Category.choices]])
        # The clerk copies a letter, a fax or an e-mail: help for the clerk, not the resident's form.
        in_words = dates.wareki_en if translation.get_language() == "en" else dates.wareki  # 和暦, or English
        period = f"{in_words(case.period_start)}～{in_words(case.last_day)}"
        self.fields["received_at"].help_text = gettext(
            "持参・ファクス・電子メールは、この日が募集期間（%(period)s）の中にあるものを受け付けます。") % {"period": period}
        self.fields["postmark_date"].help_text = gettext(
            "郵送は、消印日が募集期間（%(period)s）の中にあるものを受け付けます。") % {"period": period}
        self.fields["name"].help_text = gettext("意見書に書かれた氏名。書かれていなければ空欄にします。")
        self.fields["address"].help_text = gettext("意見書に書かれた住所（在勤・在学先を含む）。書かれていなければ空欄にします。")
        self.fields["category"].help_text = gettext("意見書に書かれた区分。わからなければ「不明」を選びます。")
        self.fields["email"].help_text = gettext("意見書に書かれたメールアドレス（電子メールで届いた場合は送信元）。"
                                                 "入力すると、受付番号を提出者にメールで送ります。")
        self.fields["phone"].help_text = gettext("意見書に書かれた電話番号。公表されることはありません。")
        self.fields["section"].label = gettext("該当箇所（意見書に書かれている場合）")
        self.fields["text"].help_text = gettext(
            "意見書の本文を、書かれたとおりに入力します（%(n)s文字以内）。意見（項目）には、入力した後で分けます。") % {
            "n": f"{conf.get('CONSULTATIONS_MAX_OPINION_CHARS'):,}"}
        self.fields["attachment"].help_text = gettext(
            "持参・郵送・ファクスは原本をスキャンして添付します（PDF・PNG・JPEG、%(mb)sMBまで）。") % {
            "mb": conf.get("CONSULTATIONS_MAX_ATTACHMENT_BYTES") // (1024 * 1024)}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        channel = cleaned.get("channel")
        if channel == Channel.POST and not cleaned.get("postmark_date"):
            self.add_error("postmark_date", gettext("郵送の場合は消印日を入力してください。"))
        if channel in (Channel.HAND, Channel.POST, Channel.FAX) and not cleaned.get("attachment"):
            self.add_error("attachment", gettext("持参・郵送・ファクスの場合は、原本のスキャンを添付してください。"))
        received = cleaned.get("received_at")
        if received and received > timezone.now():
            self.add_error("received_at", gettext("受付日時に未来の日時は入力できません。"))
        return cleaned

    def original(self) -> Original | None:
        upload = self.cleaned_data.get("attachment")
        if upload:
            return Original(file=upload, name=upload.name, content_type=upload.hiroba_type)
        return None


class CaseForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(label=_("提出方法"), choices=Channel.choices[:-1],
                                         widget=forms.CheckboxSelectMultiple)
    eligibility = forms.MultipleChoiceField(label=_("提出できる方"), choices=Category.choices[:-1],
                                            widget=forms.CheckboxSelectMultiple, required=False)
    announced_in = forms.CharField(label=_("周知方法（1行に1つ）"), widget=forms.Textarea(attrs={"rows": 3}),
                                   required=False)

    class Meta:
        model = Case
        fields = ["slug", "title", "department", "legal_basis", "summary", "draft_pdf", "period_start", "period_end",
                  "short_period_reason", "identity_level", "receipt_code", *DETAIL_FIELDS]
        widgets = {"period_start": forms.DateInput(attrs={"type": "date"}),
                   "period_end": forms.DateInput(attrs={"type": "date"}),
                   "results_due_on": forms.DateInput(attrs={"type": "date"}),
                   "submit_address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "department", departments)

    def clean_draft_pdf(self) -> Any:
        upload = self.cleaned_data.get("draft_pdf")
        if isinstance(upload, UploadedFile):
            upload.seek(0)
            if not upload.read(5).startswith(b"%PDF-"):
                raise forms.ValidationError(gettext("案はPDFファイルを添付してください。"))
            upload.seek(0)
        return upload

    def clean_announced_in(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("announced_in", "").splitlines() if line.strip()]


class SectionForm(forms.Form):
    number = forms.CharField(label=_("番号"), max_length=20, required=False)
    heading = forms.CharField(label=_("見出し"), max_length=200)
    body = forms.CharField(label=_("本文"), widget=forms.Textarea(attrs={"rows": 6}), required=False)
    parent = SectionChoiceField(label=_("上位の箇所"), queryset=Section.objects.none(), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "parent", case.sections.all())


class ItemForm(forms.Form):
    """Cut an item from the original: character positions of a span, or a re-typed excerpt."""

    span_start = forms.IntegerField(label=_("原文の開始位置（文字）"), required=False, min_value=0)
    span_end = forms.IntegerField(label=_("原文の終了位置（文字）"), required=False, min_value=1)
    text = forms.CharField(label=_("意見内容（抜き書き・書き起こし）"), widget=forms.Textarea(attrs={"rows": 6}),
                           required=False, help_text=_("範囲を指定しない場合に入力します。"))
    sections = forms.ModelMultipleChoiceField(label=_("該当箇所"), queryset=Section.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple)
    summary = forms.CharField(label=_("意見の要旨（任意）"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, case: Case, submission_length: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "sections", case.sections.all())
        self.submission_length = submission_length

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what Form.clean returns; never None here
        start, end = cleaned.get("span_start"), cleaned.get("span_end")
        text = cleaned.get("text", "")
        if (start is None) != (end is None):
            raise forms.ValidationError(_("範囲は開始位置と終了位置の両方を入力してください。"))
        if start is not None and end is not None:
            if not (start < end <= self.submission_length):
                raise forms.ValidationError(_("範囲は0〜%(n)s文字の間で指定してください。") % {"n": self.submission_length})
            cleaned["span"] = (start, end)
        elif not text.strip():
            raise forms.ValidationError(_("範囲を指定するか、意見内容を入力してください。"))
        else:
            cleaned["text"] = clean_text_input(text, label=_("意見内容"))
            cleaned["span"] = None
        return cleaned


class ItemEditForm(forms.Form):
    sections = forms.ModelMultipleChoiceField(label=_("該当箇所"), queryset=Section.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple)
    summary = forms.CharField(label=_("意見の要旨"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    reflection = forms.ChoiceField(label=_("反映区分"), choices=[("", _("未選択")), *Reflection.choices], required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "sections", case.sections.all())


class AnswerForm(forms.Form):
    text = forms.CharField(label=_("区の考え方"), widget=forms.Textarea(attrs={"rows": 8}), required=False)
    standard = forms.ModelChoiceField(label=_("定型回答"), queryset=StandardAnswer.objects.filter(is_active=True),
                                      required=False, empty_label=_("選んでください"))
    also_items = forms.ModelMultipleChoiceField(
        label=_("同趣旨の意見（まとめて回答する）"), queryset=Item.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, item: Item, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "also_items", item.case.items.exclude(pk=item.pk).filter(
            excluded=False, withdrawn=False))


class ReasonForm(forms.Form):
    category = forms.ChoiceField(label=_("公表しない理由の区分（対象外にする場合）"), required=False,
                                 choices=[("", _("選んでください")), *ExcludeCategory.choices],
                                 help_text=_("結果のページに「うち公表しない意見」の件数を、この区分ごとに載せます。"))
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}))


class CaseDetailsForm(forms.ModelForm):
    """Where opinions go and when the results are expected (may change in any state)."""

    class Meta:
        model = Case
        fields = DETAIL_FIELDS
        widgets = {"results_due_on": forms.DateInput(attrs={"type": "date"}),
                   "submit_address": forms.Textarea(attrs={"rows": 3})}


class CloseForm(forms.Form):
    """募集を締め切る: a reason when it closes before the planned last day."""

    reason = forms.CharField(label=_("受付を早く終了する理由（募集期間の最終日より前に締め切る場合）"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("結果とともに公表されます。"))
    results_due_on = forms.DateField(label=_("結果の公表予定日"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, early: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if early:  # before the planned last day the reason is required (and published)
            reason = self.fields["reason"]
            reason.required = True
            reason.label = _("受付を早く終了する理由")
            reason.error_messages["required"] = _("募集期間の最終日より前に締め切るには、理由を入力してください。")


class RouteStepForm(forms.Form):
    """One step of a 決裁 route: its name and who decides at it."""

    label = forms.CharField(label=_("段階の名称"), max_length=50, required=False,
                            help_text=_("係長・課長・部長など。空の行は使いません。"))
    department = forms.ModelChoiceField(label=_("決裁する所属"), queryset=Department.objects.filter(is_active=True),
                                        required=False, empty_label=_("案件の担当所属"))
    role = forms.TypedChoiceField(label=_("必要な役割"), coerce=int, initial=Role.APPROVE,
                                  choices=[(Role.APPROVE.value, _("承認")), (Role.HANDLE.value, _("担当"))])
    users = forms.CharField(label=_("決裁する職員を指名する場合のメールアドレス（1行に1人）"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}),
                            help_text=_("指名すると、その職員だけがこの段階を決裁できます。"))

    def clean_users(self) -> list[User]:
        emails = [line.strip() for line in self.cleaned_data.get("users", "").splitlines() if line.strip()]
        found = {u.email.lower(): u for u in User.objects.filter(email__in=emails, kind=User.Kind.STAFF)}
        unknown = [e for e in emails if e.lower() not in found]
        if unknown:
            raise forms.ValidationError(gettext("職員のアカウントが見つかりません：%(emails)s") % {"emails": "、".join(unknown)})
        return [found[e.lower()] for e in emails]

    def step(self) -> RouteStep | None:
        data = self.cleaned_data
        if not data.get("label", "").strip():
            return None
        return RouteStep(label=data["label"], department=data.get("department"), role=data["role"],
                         users=data.get("users", []))


RouteFormSet = forms.formset_factory(RouteStepForm, extra=0, max_num=6, absolute_max=6)


class SubmittersExportForm(forms.Form):
    purpose = forms.CharField(label=_("利用目的"), max_length=200,
                              help_text=_("監査ログに記録されます（例：提出者への個別の連絡のため）。"))


class RoutingForm(forms.Form):
    department = forms.ModelChoiceField(label=_("共有先の所属"), queryset=Department.objects.filter(is_active=True))
    due_date = forms.DateField(label=_("期限"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("依頼内容"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def clean_due_date(self) -> date:
        due = self.cleaned_data["due_date"]
        if due < timezone.localdate():
            raise forms.ValidationError(gettext("期限に過去の日付は指定できません。"))
        return due


class RoutingResponseForm(forms.Form):
    response = forms.CharField(label=_("回答"), widget=forms.Textarea(attrs={"rows": 4}))


class ApprovalDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("判断"), choices=[("approve", _("承認")), ("return", _("差戻し"))],
                                 widget=forms.RadioSelect)
    comment = forms.CharField(label=_("コメント（差戻しの場合は理由）"), widget=forms.Textarea(attrs={"rows": 3}),
                              required=False)


class MaskAddForm(forms.Form):
    item = forms.ModelChoiceField(label=_("意見"), queryset=Item.objects.none())
    phrase = forms.CharField(label=_("非公開にする文字列"), max_length=200)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "item", case.items.all())

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what Form.clean returns; never None here
        item, phrase = cleaned.get("item"), cleaned.get("phrase")
        if item and phrase:
            spans = [(m.start(), m.end()) for m in re.finditer(re.escape(phrase), item.text)]
            if not spans:
                raise forms.ValidationError(gettext("その文字列は意見内容にありません。"))
            cleaned["spans"] = spans
        return cleaned


class ImpersonationForm(HumanCheckForm):
    receipt_number = forms.CharField(label=_("受付番号（わかる場合）"), max_length=40, required=False)
    reporter_name = forms.CharField(label=_("お名前"), max_length=100)
    reporter_contact = forms.CharField(label=_("連絡先（電話番号またはメールアドレス）"), max_length=200)
    statement = forms.CharField(label=_("申告内容"), widget=forms.Textarea(attrs={"rows": 6}),
                                help_text=_("どの意見が、あなたの名前で提出されたと考えるかを書いてください。"))

    def clean_statement(self) -> str:
        return clean_text_input(self.cleaned_data.get("statement", ""), label=gettext("申告内容"), limit=5000)


class ImpersonationReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("判断"), choices=[("uphold", _("申告を認め、意見を取り下げる")),
                                                       ("reject", _("申告を認めない"))], widget=forms.RadioSelect)
    receipt_number = forms.CharField(label=_("対象の受付番号"), max_length=40, required=False)
    note = forms.CharField(label=_("確認結果"), widget=forms.Textarea(attrs={"rows": 3}))


def aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value)
