"""Japanese (and, through the catalogue, English) labels for what the audit log shows: actions,
the keys of their changes and the values of those keys (states, channels).

Each app declares its own on its AppConfig, as dotted paths to dicts:

- ``audit_action_labels``: {"consultations.case_publish": _("結果の公表"), …}
- ``audit_field_labels``: {"identity_status": _("本人確認"), …}
- ``audit_value_labels``: {"state": {"published": "公表済", …}, …}, used for the changes of
  that app's actions only (a 「state」 of a case is not a 「state」 of a finding); a key
  ``"<action>:<field>"`` overrides it for one action. Labels are translated when shown.

A path may name a function returning the dict (so that it can read the models' choices).

Core collects them without importing any app by name; what nobody labelled is shown as it is.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hiroba.core.audit import AuditAction

#: Core's own actions: sign-in, MFA, the admin, the rate limits.
ACTION_LABELS = {
    AuditAction.LOGIN: _("ログイン"),
    AuditAction.LOGOUT: _("ログアウト"),
    AuditAction.LOGIN_FAILED: _("ログインの失敗"),
    AuditAction.MFA_FAILED: _("二要素認証の失敗"),
    AuditAction.LOCKED_OUT: _("ログインの一時停止（失敗の繰り返し）"),
    AuditAction.MFA_ADDED: _("二要素認証の登録"),
    AuditAction.MFA_REMOVED: _("二要素認証の削除"),
    AuditAction.MFA_RESET: _("二要素認証のリセット"),
    AuditAction.EMAIL_ADDED: _("メールアドレスの追加"),
    AuditAction.EMAIL_CHANGED: _("メールアドレスの変更"),
    AuditAction.EMAIL_CONFIRMED: _("メールアドレスの確認"),
    AuditAction.EMAIL_REMOVED: _("メールアドレスの削除"),
    AuditAction.PASSWORD_CHANGED: _("パスワードの変更"),
    AuditAction.PASSWORD_RESET: _("パスワードの再設定"),
    AuditAction.PASSWORD_SET: _("パスワードの設定"),
    AuditAction.ADMIN_ADD: _("管理画面：追加"),
    AuditAction.ADMIN_CHANGE: _("管理画面：変更"),
    AuditAction.ADMIN_DELETE: _("管理画面：削除"),
    AuditAction.ADMIN_OTHER: _("管理画面：その他の操作"),
    AuditAction.ACCESS_DENIED: _("アクセスの拒否"),
    AuditAction.HTTP_WRITE: _("書き込み（画面の操作）"),
    AuditAction.THROTTLE_REFUSED: _("送信回数の制限による拒否"),
}
#: Keys of the changes that several apps use.
FIELD_LABELS = {
    "state": _("状態"), "status": _("状態"), "reason": _("理由"), "comment": _("コメント"), "note": _("メモ"),
    "case": _("案件"), "number": _("番号"), "title": _("件名"), "text": _("本文"), "summary": _("要旨"),
    "department": _("所属"), "due_date": _("期限"), "email": _("メールアドレス"), "role": _("役割"),
    "purpose": _("目的"), "count": _("件数"), "version": _("版"), "digest": _("ダイジェスト（SHA-256）"),
    "method": _("方法"), "ip": _("IPアドレス"), "path": _("パス"), "user": _("利用者"), "type": _("種類"),
    "scope": _("対象"), "final": _("最終段階"),
}
BOOLEANS = {True: _("はい"), False: _("いいえ")}
#: Keys whose two-element list is a pair of values, not a change from one to the other.
PAIRS = {"span", "sections", "route", "spans", "items", "numbers"}


def _load(config: Any, attribute: str) -> dict[Any, Any]:
    path = getattr(config, attribute, None)
    if not path:
        return {}
    found = import_string(path) if isinstance(path, str) else path
    return dict(found() if callable(found) else found)


@cache
def _registry() -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, dict[str, dict[str, Any]]]]:
    """(action → label, prefix → field labels, prefix → value labels) of every installed app."""
    actions: dict[str, Any] = dict(ACTION_LABELS)
    fields: dict[str, dict[str, Any]] = {}
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for config in apps.get_app_configs():
        declared = _load(config, "audit_action_labels")
        actions.update(declared)
        for prefix in {action.split(".", 1)[0] for action in declared} | {config.label}:
            fields.setdefault(prefix, {}).update(_load(config, "audit_field_labels"))
            values.setdefault(prefix, {}).update(_load(config, "audit_value_labels"))
    return actions, fields, values


def action_label(action: str) -> str:
    label = _registry()[0].get(action)
    return gettext(str(label)) if label is not None else action


def action_choices() -> list[tuple[str, str]]:
    """(action, label) of every labelled action, by label: the audit log's filter."""
    return sorted(((a, gettext(str(label))) for a, label in _registry()[0].items()), key=lambda pair: pair[1])


def _value(action: str, key: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return str(BOOLEANS[value])
    if isinstance(value, list):
        return "、".join(_value(action, key, v) for v in value) if value else "—"
    if isinstance(value, dict):
        return "、".join(f"{_field(action, k)}: {_value(action, k, v)}" for k, v in value.items())
    known = _registry()[2].get(action.split(".", 1)[0], {})
    label = known.get(f"{action}:{key}", known.get(key, {})).get(str(value))
    return gettext(str(label)) if label is not None else str(value)


def _field(action: str, key: str) -> str:
    label = _registry()[1].get(action.split(".", 1)[0], {}).get(key) or FIELD_LABELS.get(key)
    return gettext(str(label)) if label is not None else key


def change_lines(action: str, changes: Any) -> list[str]:
    """{"state": ["approving", "published"]} of a case → ["状態: 決裁中 → 公表済"]."""
    if not isinstance(changes, dict):
        return [str(changes)] if changes else []
    lines = []
    for key, value in changes.items():
        if isinstance(value, list) and len(value) == 2 and key not in PAIRS:
            before, after = (_value(action, key, v) for v in value)
            lines.append(f"{_field(action, key)}: {before} → {after}")
        else:
            lines.append(f"{_field(action, key)}: {_value(action, key, value)}")
    return lines


def verdict(result: Any) -> str:
    """The verify result in the reader's language (the command line keeps its English)."""
    if result.ok:
        return gettext("検証しました。改ざんはありません（%(n)s 件を確認）。") % {"n": result.count}
    if result.seq is None:
        return gettext("改ざんのおそれがあります（%(n)s 件を確認）。") % {"n": result.count}
    return gettext("改ざんのおそれがあります：通番 %(seq)s（%(n)s 件を確認）。") % {"seq": result.seq, "n": result.count}
