"""Forms of the security register (validation only; the services decide)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hiroba.core.forms import EmailField, HumanCheckForm, limit_choices
from hiroba.core.models import Department
from hiroba.security import conf
from hiroba.security.models import Audit, Course, Incident, PolicyDocument, Session, System, TimelineEntry


class ReportForm(HumanCheckForm):
    """The public 「セキュリティに関するご連絡」 form (with the shared honeypot and fill-time check)."""

    description = forms.CharField(
        label=_("ご連絡の内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("見つけた問題（例: 個人情報らしきものが検索結果に表示される、ページが改ざんされている）を、"
                    "いつ・どこで見たかとあわせてお書きください。"),
    )
    related_url = forms.URLField(label=_("関係するページのURL"), required=False, max_length=1000, assume_scheme="https")
    name = forms.CharField(label=_("お名前（任意）"), required=False, max_length=100)
    email = EmailField(label=_("連絡先メールアドレス（任意）"), required=False,
                       help_text=_("入力すると受付番号をお送りします。匿名でもご連絡いただけます。"))


class SystemForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    name = forms.CharField(label=_("システム名"), max_length=200)
    department = forms.ModelChoiceField(label=_("所管所属"), queryset=Department.objects.none())
    hosting = forms.ChoiceField(label=_("設置場所"), choices=System.Hosting.choices)
    holds_personal_data = forms.BooleanField(label=_("個人情報を保有する"), required=False)
    personal_data_note = forms.CharField(label=_("保有する個人情報"), required=False, max_length=300)

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "department", departments)


class ImportForm(forms.Form):
    report = forms.FileField(label=_("診断結果のファイル"), help_text=_(
        "OWASP ZAP の Traditional JSON / XML レポート、wapiti の JSON レポート、または委託事業者用テンプレート"
        "（CSV / Excel）。"))
    format = forms.ChoiceField(label=_("形式"), required=False, choices=[
        ("", _("自動判別")), ("zap-json", "OWASP ZAP JSON"), ("zap-xml", "OWASP ZAP XML"),
        ("wapiti-json", "wapiti JSON"), ("csv", _("委託事業者用テンプレート（CSV / Excel）"))])
    performed_on = forms.DateField(label=_("診断日"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                   help_text=_("空欄ならレポートに書かれた日付を使います。"))

    def clean_report(self) -> Any:
        upload = self.cleaned_data["report"]
        limit = conf.get("SECURITY_MAX_REPORT_BYTES")
        if upload.size > limit:
            raise forms.ValidationError(_("ファイルが大きすぎます。取り込めるのは %(mb)s MB までです。"),
                                        params={"mb": limit // 1024 // 1024})
        return upload


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由・内容"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class RiskRequestForm(forms.Form):
    reason = forms.CharField(label=_("受容の理由（代替策を含む）"), max_length=4000,
                             widget=forms.Textarea(attrs={"rows": 4}))
    expires_on = forms.DateField(label=_("受容の期限"), widget=forms.DateInput(attrs={"type": "date"}))


class RiskDecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("判断"), widget=forms.RadioSelect,
                                 choices=[("approve", _("承認する")), ("reject", _("却下する"))])
    note = forms.CharField(label=_("コメント"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ActionSubmitForm(forms.Form):
    note = forms.CharField(label=_("完了報告（実施した内容）"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(label=_("証跡ファイル（任意）"), required=False)


class IncidentForm(forms.Form):
    title = forms.CharField(label=_("件名"), max_length=300)
    description = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 4}))
    channel = forms.ChoiceField(label=_("検知経路"), choices=Incident.Channel.choices)
    department = forms.ModelChoiceField(label=_("所管所属"), queryset=Department.objects.none())
    level = forms.ChoiceField(label=_("重大度"), choices=Incident.Level.choices)
    personal_data = forms.BooleanField(label=_("個人情報の漏えい等のおそれがある"), required=False)

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "department", departments)


class IncidentFactsForm(forms.Form):
    level = forms.ChoiceField(label=_("重大度"), choices=Incident.Level.choices)
    personal_data = forms.BooleanField(label=_("個人情報の漏えい等のおそれ"), required=False)
    persons_affected = forms.IntegerField(label=_("本人の数（見込み）"), required=False, min_value=0)
    sensitive_data = forms.BooleanField(label=_("要配慮個人情報を含む"), required=False)
    property_damage_risk = forms.BooleanField(label=_("不正利用による財産的被害のおそれ"), required=False)
    wrongful_purpose = forms.BooleanField(label=_("不正の目的によるおそれ（不正アクセス等）"), required=False)
    ppc_quick_reported_on = forms.DateField(label=_("個人情報保護委員会への速報日"), required=False,
                                            widget=forms.DateInput(attrs={"type": "date"}))
    ppc_final_reported_on = forms.DateField(label=_("個人情報保護委員会への確報日"), required=False,
                                            widget=forms.DateInput(attrs={"type": "date"}))
    persons_notified_on = forms.DateField(label=_("本人への通知日"), required=False,
                                          widget=forms.DateInput(attrs={"type": "date"}))
    containment = forms.CharField(label=_("封じ込め・復旧の措置"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    cause = forms.CharField(label=_("原因"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    lessons = forms.CharField(label=_("教訓・再発防止策"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ImprovementForm(forms.Form):
    opinion = forms.CharField(label=_("意見・気づき"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    action = forms.CharField(label=_("改善の内容"), max_length=2000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    department = forms.ModelChoiceField(label=_("担当所属"), queryset=Department.objects.none())
    due_on = forms.DateField(label=_("期限"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "department", departments)


class TimelineForm(forms.Form):
    kind = forms.ChoiceField(label=_("区分"), choices=TimelineEntry.Kind.choices)
    occurred_at = forms.DateTimeField(label=_("日時（空欄なら現在）"), required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    text = forms.CharField(label=_("内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class AttendanceForm(forms.Form):
    file = forms.FileField(label=_("受講記録のCSV（職員番号, 受講日時）"))
    session = forms.ModelChoiceField(label=_("回"), queryset=Session.objects.none(), required=False)

    def __init__(self, *args: Any, course: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "session", course.sessions.all())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class AuditForm(forms.Form):
    kind = forms.ChoiceField(label=_("監査の種類"), choices=Audit.Kind.choices)
    theme = forms.CharField(label=_("監査テーマ"), max_length=300)
    method = forms.CharField(label=_("監査方式"), max_length=200)
    starts_on = forms.DateField(label=_("実施開始日"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("実施終了日"), widget=forms.DateInput(attrs={"type": "date"}))
    auditor = forms.CharField(label=_("監査人"), max_length=200, required=False)
    scope_note = forms.CharField(label=_("監査対象"), max_length=300, required=False)
    departments = forms.ModelMultipleChoiceField(label=_("対象所属"), queryset=Department.objects.none(), required=False,
                                                 widget=forms.CheckboxSelectMultiple)
    good_points = forms.CharField(label=_("良い点（1行に1つ）"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    issues = forms.CharField(label=_("課題（1行に1つ）"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "departments", departments)


class ActionForm(forms.Form):
    description = forms.CharField(label=_("是正措置"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    department = forms.ModelChoiceField(label=_("担当所属"), queryset=Department.objects.none())
    due_on = forms.DateField(label=_("期限"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "department", departments)


class CourseForm(forms.Form):
    fiscal_year = forms.IntegerField(label=_("年度（西暦）"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("研修名"), max_length=200)
    audience = forms.ChoiceField(label=_("対象"), choices=Course.Audience.choices)
    required = forms.BooleanField(label=_("全職員の受講必須"), required=False)
    description = forms.CharField(label=_("内容"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    session_kind = forms.ChoiceField(label=_("方法"), choices=Session.Kind.choices)
    starts_on = forms.DateField(label=_("開始日"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("終了日"), widget=forms.DateInput(attrs={"type": "date"}))


class PolicyForm(forms.Form):
    title = forms.CharField(label=_("文書名"), max_length=200)
    kind = forms.ChoiceField(label=_("種類"), choices=PolicyDocument.Kind.choices)
    version = forms.CharField(label=_("版"), max_length=40)
    effective_on = forms.DateField(label=_("施行日"), widget=forms.DateInput(attrs={"type": "date"}))
    summary = forms.CharField(label=_("改定の概要"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    file = forms.FileField(label=_("ファイル（任意）"), required=False)


class PlaybookForm(forms.Form):
    title = forms.CharField(label=_("手順書名"), max_length=200)
    description = forms.CharField(label=_("概要"), required=False, max_length=2000)
    steps = forms.CharField(label=_("手順（1行に1つ）"), widget=forms.Textarea(attrs={"rows": 6}))
