"""Audit action names of the records module (電子文書管理), and how the audit log names them."""

from django.utils.translation import gettext_lazy as _

GUIDELINE_CREATE = "records.guideline_create"
GUIDELINE_PUBLISH = "records.guideline_publish"
CLASSIFICATION_CREATE = "records.classification_create"
FILE_CREATE = "records.file_create"
FILE_UPDATE = "records.file_update"
REGISTER_IMPORT = "records.register_import"
OWN_RECORDS_SYNC = "records.own_records_sync"
HOLD_PLACE = "records.hold_place"
HOLD_RELEASE = "records.hold_release"
DISPOSITION_REQUEST = "records.disposition_request"
DISPOSITION_APPROVE = "records.disposition_approve"
DISPOSITION_REJECT = "records.disposition_reject"
FILE_DISPOSE = "records.file_dispose"
FILE_TRANSFER = "records.file_transfer"
FILE_EXTEND = "records.file_extend"
EXPIRY_NOTICE = "records.expiry_notice"
SCAN_RUN = "records.scan_run"
DOCUMENTS_INDEX = "records.documents_index"
TRANSFER_REQUEST = "records.transfer_request"
TRANSFER_APPROVE = "records.transfer_approve"
TRANSFER_REJECT = "records.transfer_reject"
TRANSFER_WITHDRAW = "records.transfer_withdraw"
TRANSFER_DOWNLOAD = "records.transfer_download"
TRANSFER_RENDER = "records.transfer_render"

LABELS = {
    GUIDELINE_CREATE: _("電子文書管理：ガイドラインの作成"),
    GUIDELINE_PUBLISH: _("電子文書管理：ガイドラインの施行"),
    CLASSIFICATION_CREATE: _("電子文書管理：分類の登録"),
    FILE_CREATE: _("電子文書管理：行政文書ファイルの登録"),
    FILE_UPDATE: _("電子文書管理：行政文書ファイルの変更"),
    REGISTER_IMPORT: _("電子文書管理：管理簿の取込み"),
    OWN_RECORDS_SYNC: _("電子文書管理：hiroba の記録の登録"),
    HOLD_PLACE: _("電子文書管理：廃棄の保留"),
    HOLD_RELEASE: _("電子文書管理：保留の解除"),
    DISPOSITION_REQUEST: _("電子文書管理：廃棄・移管・延長の申請"),
    DISPOSITION_APPROVE: _("電子文書管理：申請の承認"),
    DISPOSITION_REJECT: _("電子文書管理：申請の却下"),
    FILE_DISPOSE: _("電子文書管理：廃棄"),
    FILE_TRANSFER: _("電子文書管理：移管"),
    FILE_EXTEND: _("電子文書管理：保存期間の延長"),
    EXPIRY_NOTICE: _("電子文書管理：満了の通知"),
    SCAN_RUN: _("電子文書管理：共有フォルダの点検"),
    DOCUMENTS_INDEX: _("電子文書管理：文書の本文の索引"),
    TRANSFER_REQUEST: _("電子文書管理：セグメント間転送の申請"),
    TRANSFER_APPROVE: _("電子文書管理：セグメント間転送の承認"),
    TRANSFER_REJECT: _("電子文書管理：セグメント間転送の却下"),
    TRANSFER_WITHDRAW: _("電子文書管理：セグメント間転送の取下げ"),
    TRANSFER_DOWNLOAD: _("電子文書管理：セグメント間転送の受け渡し"),
    TRANSFER_RENDER: _("電子文書管理：セグメント間転送のPDF版作成"),
}
