"""Audit action names of the school calendars, and how the audit log names them in Japanese."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SCHOOL_CREATE = "calendars.school_create"
CALENDAR_CREATE = "calendars.calendar_create"
TERM_SAVE = "calendars.term_save"
TERM_DELETE = "calendars.term_delete"
EVENT_CREATE = "calendars.event_create"
EVENT_UPDATE = "calendars.event_update"
EVENT_CANCEL = "calendars.event_cancel"
EVENT_RESTORE = "calendars.event_restore"
COMBINATION_CREATE = "calendars.combination_create"
IMPORT_UPLOAD = "calendars.import_upload"
IMPORT_APPLY = "calendars.import_apply"
IMPORT_DISCARD = "calendars.import_discard"

#: The action of an event's revision (EventRevision.Action) → its audit action.
EVENT_ACTIONS = {
    "create": EVENT_CREATE,
    "update": EVENT_UPDATE,
    "cancel": EVENT_CANCEL,
    "restore": EVENT_RESTORE,
}

LABELS = {
    SCHOOL_CREATE: _("学校カレンダー：学校の登録"),
    CALENDAR_CREATE: _("学校カレンダー：カレンダーの作成"),
    TERM_SAVE: _("学校カレンダー：学期の保存"),
    TERM_DELETE: _("学校カレンダー：学期の削除"),
    EVENT_CREATE: _("学校カレンダー：予定の作成"),
    EVENT_UPDATE: _("学校カレンダー：予定の変更"),
    EVENT_CANCEL: _("学校カレンダー：予定の中止"),
    EVENT_RESTORE: _("学校カレンダー：中止の取消し"),
    COMBINATION_CREATE: _("学校カレンダー：組合せの作成"),
    IMPORT_UPLOAD: _("学校カレンダー：取込みファイルの読込み"),
    IMPORT_APPLY: _("学校カレンダー：取込みの反映"),
    IMPORT_DISCARD: _("学校カレンダー：取込みの破棄"),
}
