"""Input validation for the proposals pages (services check the contest's rules again)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hiroba.accounts import identity
from hiroba.accounts.models import IdentityLevel, Relationship, ResidentVerification, User
from hiroba.core.forms import EmailField, HumanCheckForm
from hiroba.proposals import files
from hiroba.proposals.models import (
    BENEFICIARIES_MAX,
    IDEA_MAX,
    LABEL_MAX,
    PROBLEM_MAX,
    REASON_MAX,
    TITLE_MAX,
    Call,
    FollowUp,
    Proposal,
    ProposerCategory,
    ScreeningDecision,
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, (list, tuple)) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class ProposalForm(HumanCheckForm):
    proposer_category = forms.ChoiceField(
        label="提案者の区分", choices=ProposerCategory.choices, widget=forms.RadioSelect,
        initial=ProposerCategory.INDIVIDUAL,
        help_text="事業者の方は「事業者」を選んでください。事業者からの提案であることと事業者名は公開されます。",
    )
    proposer_label = forms.CharField(label="団体名・事業者名", max_length=LABEL_MAX, required=False,
                                     help_text="団体・事業者として提案する場合に入力してください（公開されます）。")
    title = forms.CharField(label="提案名", max_length=TITLE_MAX, help_text=f"{TITLE_MAX}文字以内")
    problem = forms.CharField(label="地域の課題", max_length=PROBLEM_MAX, widget=forms.Textarea,
                              help_text=f"どのような課題があるか（{PROBLEM_MAX}文字以内）")
    idea = forms.CharField(label="解決のアイデア（デジタルの活用方法）", max_length=IDEA_MAX, widget=forms.Textarea,
                           help_text=f"デジタルをどう活用して解決するか（{IDEA_MAX}文字以内）")
    beneficiaries = forms.CharField(label="誰のためになるか", max_length=BENEFICIARIES_MAX, widget=forms.Textarea,
                                    help_text=f"{BENEFICIARIES_MAX}文字以内")
    attachments = MultipleFileField(
        label="添付ファイル", required=False,
        help_text=f"PDF・PNG・JPEG、1ファイル{files.MAX_BYTES // (1024 * 1024)}MBまで、{files.MAX_FILES}件まで。"
                  "氏名など個人が分かる情報は書かないでください（審査は提案者を伏せて行います）。",
    )

    def __init__(self, *args: Any, proposal: Proposal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.proposal = proposal
        existing = list(proposal.attachments.all()) if proposal and proposal.pk else []
        if existing:
            self.fields["remove_attachments"] = forms.MultipleChoiceField(
                label="削除する添付ファイル", required=False, widget=forms.CheckboxSelectMultiple,
                choices=[(str(a.pk), a.original_name) for a in existing])
        self._existing = len(existing)

    def clean_attachments(self) -> list[Any]:
        uploads = self.cleaned_data.get("attachments") or []
        for upload in uploads:
            data = upload.read()
            upload.seek(0)
            try:
                files.check(data, upload.name)
            except files.AttachmentRefused as exc:
                raise ValidationError(str(exc)) from exc
        return uploads

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        category = data.get("proposer_category")
        if category and category != ProposerCategory.INDIVIDUAL and not (data.get("proposer_label") or "").strip():
            self.add_error("proposer_label", _("団体・事業者として提案する場合は、名称を入力してください。"))
        removing = len(data.get("remove_attachments") or [])
        if self._existing - removing + len(data.get("attachments") or []) > files.MAX_FILES:
            self.add_error("attachments", _("添付ファイルは%(n)s件までです。") % {"n": files.MAX_FILES})
        return data


class CallForm(forms.ModelForm):
    eligible_residencies = forms.MultipleChoiceField(label="投票できる方", choices=Relationship.choices,
                                                     widget=forms.CheckboxSelectMultiple,
                                                     initial=list(Relationship.values))

    class Meta:
        model = Call
        fields = ["title", "slug", "theme", "rules", "eligible_residencies", "min_age", "max_age",
                  "submission_start", "submission_end", "voting_start", "voting_end", "results_on",
                  "implementation_on", "votes_per_voter", "voting_identity_level", "reviewers_per_proposal",
                  "disagreement_threshold"]
        widgets = {name: forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d") for name in [
            "submission_start", "submission_end", "voting_start", "voting_end", "results_on", "implementation_on"]}
        help_texts = {"slug": "URL に使う英数字（例: dx-2025）", "votes_per_voter": "1つの提案には1票まで。"}

    def __init__(self, *args: Any, departments: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["voting_identity_level"].initial = IdentityLevel.VERIFIED
        if departments is not None:
            self.fields["department"] = forms.ModelChoiceField(label="担当所属", queryset=departments)
        if self.instance.pk:
            self.fields["slug"].disabled = True


class CriterionForm(forms.Form):
    name = forms.CharField(label="審査項目", max_length=60)
    description = forms.CharField(label="説明", max_length=300, required=False)
    weight = forms.IntegerField(label="重み", min_value=1, max_value=10, initial=1)
    scale_max = forms.IntegerField(label="満点", min_value=2, max_value=10, initial=5)


CriterionFormSet = forms.formset_factory(CriterionForm, extra=0, min_num=1, validate_min=True, max_num=12)


class ReviewForm(forms.Form):
    comment = forms.CharField(label="講評", widget=forms.Textarea, max_length=2000, required=True)

    def __init__(self, *args: Any, criteria: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        fields = {}
        for c in criteria:
            fields[f"c{c.pk}"] = forms.TypedChoiceField(
                label=f"{c.name}（重み{c.weight}）", coerce=int, widget=forms.RadioSelect,
                choices=[(i, str(i)) for i in range(1, c.scale_max + 1)], help_text=c.description)
        comment = self.fields.pop("comment")
        self.fields.update(fields)
        self.fields["comment"] = comment

    def scores(self) -> dict[int, int]:
        return {c.pk: self.cleaned_data[f"c{c.pk}"] for c in self.criteria}


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class ConflictForm(forms.Form):
    reason = forms.CharField(label="利害関係の内容", max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="例: 提案者と思われる団体に所属している")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label="審査結果", widget=forms.RadioSelect,
                                 choices=[c for c in ScreeningDecision.choices if c[0]])
    reason = forms.CharField(label="理由", max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewerAddForm(forms.Form):
    email = EmailField(label="審査員（職員）のメールアドレス")

    def clean_email(self) -> User:
        user = User.objects.filter(email__iexact=self.cleaned_data["email"], kind=User.Kind.STAFF,
                                   is_active=True).first()
        if user is None:
            raise ValidationError(_("このメールアドレスの職員アカウントはありません。"))
        return user


class VoteForm(forms.Form):
    proposals = forms.MultipleChoiceField(label="投票する提案", required=False, widget=forms.CheckboxSelectMultiple)
    idempotency_key = forms.CharField(label=gettext_lazy("再送識別子"), widget=forms.HiddenInput, max_length=64,
                                      error_messages={"required": gettext_lazy(
                                          "送信内容が正しくありません。最初から入力し直してください。")})

    def __init__(self, *args: Any, call: Call, shortlist: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call = call
        cast(forms.ChoiceField, self.fields["proposals"]).choices = [(str(p.pk), f"{p.receipt_number} {p.title}")
                                                                     for p in shortlist]
        self.fields["proposals"].help_text = f"{call.votes_per_voter}件まで選べます（1つの提案に1票）。"
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean_proposals(self) -> list[int]:
        chosen = [int(p) for p in self.cleaned_data["proposals"]]
        if len(chosen) > self.call.votes_per_voter:
            raise ValidationError(_("投票できるのは%(max)s件までです（%(chosen)s件選ばれています）。")
                                  % {"max": self.call.votes_per_voter, "chosen": len(chosen)})
        return chosen


class PersonForm(forms.Form):
    """Find or identify a person at the counter (本人確認書類で確認した内容)."""

    email = EmailField(label="アカウントのメールアドレス（お持ちの場合）", required=False)
    display_name = forms.CharField(label="氏名", max_length=100)
    name_kana = forms.CharField(label="氏名（かな）", max_length=100)
    birth_date = forms.DateField(label="生年月日", widget=forms.DateInput(attrs={"type": "date"}))
    address = forms.CharField(label="住所（本人確認書類のとおり）", max_length=200)
    residency = forms.ChoiceField(label="区分", choices=Relationship.choices, widget=forms.RadioSelect)

    def clean_email(self) -> User | None:
        email = self.cleaned_data.get("email")
        if not email:
            return None
        user = User.objects.filter(email__iexact=email, kind=User.Kind.RESIDENT).first()
        if user is None:
            raise ValidationError(_("このメールアドレスの区民等アカウントはありません。"))
        return user


class PaperBallotForm(forms.Form):
    name_kana = forms.CharField(label="投票者の氏名（かな）", max_length=100)
    birth_date = forms.DateField(label="生年月日", widget=forms.DateInput(attrs={"type": "date"}))
    address = forms.CharField(label="住所", max_length=200)
    received_on = forms.DateField(label="投票用紙の受付日", widget=forms.DateInput(attrs={"type": "date"}))
    proposals = forms.MultipleChoiceField(label="投票先", widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, call: Call, shortlist: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call = call
        cast(forms.ChoiceField, self.fields["proposals"]).choices = [(str(p.pk), f"{p.receipt_number} {p.title}")
                                                                     for p in shortlist]

    def verification(self) -> ResidentVerification | None:
        return identity.person_verification(name_kana=self.cleaned_data["name_kana"],
                                            birth_date=self.cleaned_data["birth_date"],
                                            address=self.cleaned_data["address"])


class AdoptForm(forms.Form):
    reason = forms.CharField(label="採用の理由", max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    budget_step = forms.CharField(label="予算の段階", max_length=200, required=False,
                                  help_text="例: 令和7年第1回区議会定例会で予算案を審議")
    summary = forms.CharField(label="取組みの内容", widget=forms.Textarea(attrs={"rows": 3}), required=False)


class FollowUpForm(forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = ["status", "budget_step", "summary"]


class MilestoneForm(forms.Form):
    title = forms.CharField(label="節目", max_length=200)
    due_on = forms.DateField(label="予定日", widget=forms.DateInput(attrs={"type": "date"}))
    done_on = forms.DateField(label="完了日", required=False, widget=forms.DateInput(attrs={"type": "date"}))
