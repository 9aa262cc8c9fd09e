"""Labels of the school calendars' audit actions (core.audit_labels)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LABELS = {
    "calendars.school_create": _("学校カレンダー：学校の登録"),
    "calendars.calendar_create": _("学校カレンダー：カレンダーの作成"),
    "calendars.combination_create": _("学校カレンダー：組合せの作成"),
    "calendars.term_save": _("学校カレンダー：学期の保存"),
    "calendars.term_delete": _("学校カレンダー：学期の削除"),
    "calendars.event_create": _("学校カレンダー：予定の作成"),
    "calendars.event_update": _("学校カレンダー：予定の変更"),
    "calendars.event_cancel": _("学校カレンダー：予定の中止"),
    "calendars.event_restore": _("学校カレンダー：中止の取消し"),
    "calendars.import_upload": _("学校カレンダー：取込みファイルの読込み"),
    "calendars.import_apply": _("学校カレンダー：取込みの反映"),
    "calendars.import_discard": _("学校カレンダー：取込みの破棄"),
}
