"""Forms: a new survey (questions one per line) and the answer form built from a survey."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hiroba.core.forms import limit_choices
from hiroba.core.models import Department
from hiroba.surveys.models import Question, Survey
from hiroba.surveys.services import QuestionSpec


class SurveyForm(forms.Form):
    title = forms.CharField(label=_("アンケート名"), max_length=200)
    description = forms.CharField(label=_("説明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    department = forms.ModelChoiceField(label=_("担当所属"), queryset=Department.objects.none())
    anonymous = forms.BooleanField(label=_("無記名で回答を集める"), required=False, initial=True)
    likert = forms.CharField(
        label=_("5段階評価の設問（1行に1問）"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("選択肢は「非常に良い・良い・普通・あまり良くない・良くない」です。"),
    )
    free_text = forms.CharField(label=_("自由記述の設問（1行に1問）"), required=False,
                                widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "department", departments)

    def questions(self) -> list[QuestionSpec]:
        likert = [line.strip() for line in self.cleaned_data["likert"].splitlines() if line.strip()]
        texts = [line.strip() for line in self.cleaned_data["free_text"].splitlines() if line.strip()]
        return ([QuestionSpec(text) for text in likert]
                + [QuestionSpec(text, kind=Question.Kind.TEXT, required=False) for text in texts])


class AnswerForm(forms.Form):
    """One field per question: radio buttons in a fieldset for Likert, a textarea for free text."""

    def __init__(self, *args: Any, survey: Survey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.survey = survey
        for q in survey.questions.order_by("number"):
            name = f"q{q.pk}"
            label = f"問{q.number} {q.text}"
            if q.kind == Question.Kind.LIKERT:
                self.fields[name] = forms.TypedChoiceField(
                    label=label, required=q.required, coerce=int, widget=forms.RadioSelect,
                    choices=[(i, text) for i, text in enumerate(q.scale)],
                )
            else:
                self.fields[name] = forms.CharField(label=label, required=q.required, max_length=4000,
                                                    widget=forms.Textarea(attrs={"rows": 4}))

    def answers(self) -> dict[int, Any]:
        return {int(name[1:]): value for name, value in self.cleaned_data.items()}
