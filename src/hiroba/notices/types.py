"""Notice types and their versioned templates; rendering one notice as accessible HTML."""

from __future__ import annotations

import hashlib
import html
from typing import Any, Protocol

from django.db import transaction
from django.db.models import Max
from django.utils.html import escape
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.notices import audit_actions
from hiroba.notices.models import PLACEHOLDER, NoticeTemplate, NoticeType

DEFAULT_CONSENT = ("この種類の通知を、紙の郵送に代えて hiroba で受け取ることに同意します。"
                   "通知が届くとメールでお知らせします。期限までに開封されない場合は紙でお送りします。"
                   "同意はいつでも撤回でき、撤回は次の送付から反映されます。")


def type_create(*, actor: ActorLike, slug: str, name: str, department: Department, needs_acknowledgement: bool = False,
                reminder_days: int | None = None, fallback_days: int | None = None, retention_days: int = 365,
                mail_retention_days: int = 7, deadline_wording: str = "",
                consent_text: str = DEFAULT_CONSENT) -> NoticeType:
    """A notice type. Reminder after 7 days (3 when acknowledgement is needed); paper after 14
    (7 when acknowledgement is needed) unless said otherwise. Staff need 承認 on the department."""
    a = Actor.of(actor)
    if a.user is not None and not a.user.has_perm("notices.manage_types", department):
        raise NotAllowed(_("この所属の書面の種類を作る権限がありません（所属の承認の役割が必要です）。"))
    if reminder_days is None:
        reminder_days = 3 if needs_acknowledgement else 7
    if fallback_days is None:
        fallback_days = 7 if needs_acknowledgement else 14
    if fallback_days < reminder_days:
        raise ServiceError(_("紙への切替日数は督促までの日数以上にしてください。"), code="days_order",
                           field="fallback_days")
    if NoticeType.objects.filter(slug=slug).exists():
        raise ServiceError(format_lazy(_("識別子「{slug}」は使われています。"), slug=slug), code="slug_taken", field="slug")
    with transaction.atomic():
        notice_type = NoticeType.objects.create(
            slug=slug, name=name, department=department, needs_acknowledgement=needs_acknowledgement,
            reminder_days=reminder_days, fallback_days=fallback_days, retention_days=retention_days,
            mail_retention_days=mail_retention_days, deadline_wording=deadline_wording,
            consent_text=consent_text or DEFAULT_CONSENT)
        audit.record(actor=a, action=audit_actions.TYPE_CREATE, obj=notice_type,
                     changes=audit.snapshot(notice_type))
    return notice_type


def template_publish(*, actor: ActorLike, notice_type: NoticeType, title: str, body: str) -> NoticeTemplate:
    """A new version of the type's template (versions are never edited). Batches made from an
    older version must be approved again before they are sent. Staff need 担当 on the type."""
    a = Actor.of(actor)
    if a.user is not None and not a.user.has_perm("notices.handle_batch", notice_type):
        raise NotAllowed(_("この種類の書面を扱う権限がありません。"))
    if not title.strip() or not body.strip():
        raise ServiceError(_("表題と本文を入力してください。"), code="required", field="body")
    broken = [line for line in body.splitlines() if line.count("{{") != line.count("}}")]
    if broken:
        raise ServiceError(format_lazy(_("差し込み項目の括弧が閉じていません: {line}"), line=broken[0][:60]),
                           code="placeholder_syntax", field="body")
    with transaction.atomic():
        NoticeType.objects.select_for_update().get(pk=notice_type.pk)
        version = (notice_type.templates.aggregate(v=Max("version"))["v"] or 0) + 1
        template = NoticeTemplate.objects.create(notice_type=notice_type, version=version, title=title.strip(),
                                                 body=body.strip(), created_by=a.account())
        audit.record(actor=a, action=audit_actions.TEMPLATE_PUBLISH, obj=template,
                     changes={"version": version, "fields": template.fields()})
    return template


def substitute(text: str, values: dict[str, str], *, html: bool) -> str:
    def one(match: Any) -> str:
        value = values.get(match.group(1), "")
        return escape(value) if html else value

    return PLACEHOLDER.sub(one, escape(text) if html else text)


def _compiled(template: NoticeTemplate) -> tuple[list[list[str]], str]:
    """The body as paragraphs of lines and the deadline wording, HTML-escaped once per template
    (a batch renders thousands of notices from one template; a published version never changes)."""
    cached: tuple[list[list[str]], str] | None = getattr(template, "_hiroba_compiled", None)
    if cached is None:
        paragraphs = [p.strip() for p in template.body.replace("\r\n", "\n").split("\n\n") if p.strip()]
        cached = ([[escape(line) for line in paragraph.split("\n")] for paragraph in paragraphs],
                  escape(template.notice_type.deadline_wording or ""))
        template._hiroba_compiled = cached  # type: ignore[attr-defined]  # a per-instance memo
    return cached


def _fill(escaped: str, escaped_values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda match: escaped_values.get(match.group(1), ""), escaped)


class Addressee(Protocol):
    """What rendering reads of a recipient: a `Recipient`, or a batch row's `batches.Person`."""

    @property
    def atena_number(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def postal_code(self) -> str: ...
    @property
    def address(self) -> str: ...


def render(template: NoticeTemplate, recipient: Addressee, values: dict[str, str]) -> tuple[str, str, str]:
    """(title, the notice as HTML, SHA-256 of both): what the resident reads and the letter prints."""
    full = {"宛名番号": recipient.atena_number, "氏名": recipient.name, "郵便番号": recipient.postal_code,
            "住所": recipient.address, **values}
    title = substitute(template.title, full, html=False)
    paragraphs, wording = _compiled(template)
    escaped = {name: html.escape(str(value)) for name, value in full.items()}  # what django's escape() does, minus SafeString
    parts = ["<p>" + "<br>".join(_fill(line, escaped) for line in lines) + "</p>" for lines in paragraphs]
    if wording:
        parts.append(f'<p class="notice-deadline">{_fill(wording, escaped)}</p>')
    content = "\n".join(parts)
    digest = hashlib.sha256((title + "\n" + content).encode("utf-8")).hexdigest()
    return title, content, digest


def types_json() -> list[dict[str, Any]]:
    """`hiroba notices types --format json`: [{"slug", "name", "fields"}]."""
    out = []
    for notice_type in NoticeType.objects.filter(is_active=True).order_by("slug"):
        template = notice_type.current_template()
        out.append({"slug": notice_type.slug, "name": notice_type.name,
                    "fields": template.fields() if template else []})
    return out
