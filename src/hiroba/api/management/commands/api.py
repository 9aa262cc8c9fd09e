"""hiroba api … — staff API tokens from the command line (audited like the staff screen).

    hiroba api token create --user EMAIL --name NAME --department CODE [--department CODE …]
                            --module consultations [--module …] [--access read|write] --expires YYYY-MM-DD
    hiroba api token list [--user EMAIL]
    hiroba api token revoke PREFIX
    hiroba api webhook add --department CODE --url URL --event consultation.published [--event …]
    hiroba api webhook list
    hiroba api webhook log HOOK_ID
    hiroba api webhook disable HOOK_ID

The token is printed once, on the last line of `create`. Tokens are personal: the staff member
named by --user must hold the roles in the departments and have a second factor (TOTP or a
security key) enrolled, as on the staff screen.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hiroba.accounts.models import User
from hiroba.api import tokens, webhooks
from hiroba.api.models import Access, ApiToken, Module, Webhook, WebhookEvent
from hiroba.core.errors import ServiceError
from hiroba.core.models import Department

CLI_ACTOR = "cli:api"


class Command(BaseCommand):
    help = "職員用APIトークンの作成・一覧・失効"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="noun", required=True)
        token = sub.add_parser("token", help="APIトークン")
        actions = token.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="作成する（トークンは最後の行に一度だけ表示）")
        create.add_argument("--user", required=True, help="職員のメールアドレス")
        create.add_argument("--name", required=True, help="用途")
        create.add_argument("--department", action="append", required=True, help="所属コード（複数可）")
        create.add_argument("--module", action="append", required=True, choices=Module.values, help="機能（複数可）")
        create.add_argument("--access", choices=Access.values, default=Access.READ)
        create.add_argument("--expires", required=True, type=date.fromisoformat, help="有効期限（YYYY-MM-DD、1年以内）")
        listing = actions.add_parser("list", help="一覧")
        listing.add_argument("--user", help="職員のメールアドレス")
        revoke = actions.add_parser("revoke", help="失効させる")
        revoke.add_argument("prefix", help="トークンの識別子（hiroba_ の次の12文字）")
        hook = sub.add_parser("webhook", help="Webhook")
        hook_actions = hook.add_subparsers(dest="action", required=True)
        add = hook_actions.add_parser("add", help="登録する（署名の秘密鍵は最後の行に一度だけ表示）")
        add.add_argument("--department", required=True, help="所属コード")
        add.add_argument("--url", required=True, help="送信先URL")
        add.add_argument("--event", action="append", required=True, choices=WebhookEvent.values)
        hook_actions.add_parser("list", help="一覧")
        log = hook_actions.add_parser("log", help="送信の記録")
        log.add_argument("hook", type=int)
        disable = hook_actions.add_parser("disable", help="止める")
        disable.add_argument("hook", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['noun']}_{options['action']}")(options)
        except ServiceError as exc:
            raise CommandError(exc.message) from None

    def _token_create(self, o: dict[str, Any]) -> None:
        user = User.objects.filter(email=o["user"].strip().lower()).first()
        if user is None:
            raise CommandError(f"職員が見つかりません: {o['user']}")
        departments = list(Department.objects.filter(code__in=o["department"]))
        missing = sorted(set(o["department"]) - {d.code for d in departments})
        if missing:
            raise CommandError(f"所属コードが見つかりません: {', '.join(missing)}")
        token, plain = tokens.token_create(actor=CLI_ACTOR, user=user, name=o["name"], departments=departments,
                                           modules=o["module"], access=o["access"], expires_on=o["expires"])
        self.stdout.write(f"作成しました: {token.name}（識別子 {token.prefix}、有効期限 {token.expires_at:%Y-%m-%d %H:%M}）")
        self.stdout.write("このトークンは今だけ表示します:")
        self.stdout.write(plain)

    def _token_list(self, o: dict[str, Any]) -> None:
        qs = ApiToken.objects.select_related("user").prefetch_related("departments")
        if o.get("user"):
            qs = qs.filter(user__email=o["user"].strip().lower())
        for t in qs:
            self.stdout.write("\t".join([t.prefix, str(t.status_label), t.user.email, t.name, t.access, ",".join(t.modules),
                                         ",".join(d.code for d in t.departments.all()), f"{t.expires_at:%Y-%m-%d}",
                                         f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-"]))

    def _token_revoke(self, o: dict[str, Any]) -> None:
        token = ApiToken.objects.filter(prefix=o["prefix"]).first()
        if token is None:
            raise CommandError(f"トークンが見つかりません: {o['prefix']}")
        tokens.token_revoke(actor=CLI_ACTOR, token=token)
        self.stdout.write(f"失効させました: {token.prefix}")

    def _webhook_add(self, o: dict[str, Any]) -> None:
        department = Department.objects.filter(code=o["department"]).first()
        if department is None:
            raise CommandError(f"所属コードが見つかりません: {o['department']}")
        hook, secret = webhooks.hook_create(actor=CLI_ACTOR, department=department, url=o["url"], events=o["event"])
        self.stdout.write(f"登録しました: Webhook {hook.pk}（{department.name} → {hook.url}）")
        self.stdout.write("署名の秘密鍵（今だけ表示します）:")
        self.stdout.write(secret)

    def _webhook_list(self, o: dict[str, Any]) -> None:
        for h in Webhook.objects.select_related("department"):
            self.stdout.write("\t".join([str(h.pk), "有効" if h.is_active else "停止", h.department.code, h.url,
                                         ",".join(h.events)]))

    def _webhook_log(self, o: dict[str, Any]) -> None:
        hook = Webhook.objects.filter(pk=o["hook"]).first()
        if hook is None:
            raise CommandError(f"Webhook が見つかりません: {o['hook']}")
        for d in hook.deliveries.all():
            self.stdout.write("\t".join([str(d.pk), f"{d.created_at:%Y-%m-%d %H:%M}", d.event, d.state,
                                         str(d.attempts), str(d.last_status or "-"), d.last_error or "-"]))

    def _webhook_disable(self, o: dict[str, Any]) -> None:
        hook = Webhook.objects.filter(pk=o["hook"]).first()
        if hook is None:
            raise CommandError(f"Webhook が見つかりません: {o['hook']}")
        webhooks.hook_disable(actor=CLI_ACTOR, hook=hook)
        self.stdout.write(f"止めました: Webhook {hook.pk}")
