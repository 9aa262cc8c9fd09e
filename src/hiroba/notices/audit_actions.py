"""Audit action names of the digital notice service (デジタル書面送付), and how the audit log names them."""

from django.utils.translation import gettext_lazy as _

TYPE_CREATE = "notices.type_create"
TEMPLATE_PUBLISH = "notices.template_publish"
RECIPIENTS_IMPORT = "notices.recipients_import"
RECIPIENTS_STAGE = "notices.recipients_stage"
RECIPIENTS_DISCARD = "notices.recipients_discard"
CONSENT_GIVE = "notices.consent_give"
CONSENT_WITHDRAW = "notices.consent_withdraw"
ACCOUNT_LINK = "notices.account_link"
REPRESENTATIVE_GRANT = "notices.representative_grant"
REPRESENTATIVE_REVOKE = "notices.representative_revoke"
BATCH_CREATE = "notices.batch_create"
BATCH_APPROVE = "notices.batch_approve"
BATCH_DISPATCH = "notices.batch_dispatch"
BATCH_CANCEL = "notices.batch_cancel"
BOUNCES_READ = "notices.bounces_read"
FALLBACK_RUN = "notices.fallback_run"
PRINT_RUN_TRANSITION = "notices.print_run_transition"
RETURNED_MAIL = "notices.returned_mail"
FOREIGN_ACCESS = "notices.foreign_access"
CONTENT_PURGE = "notices.content_purge"

LABELS = {
    TYPE_CREATE: _("書面送付：書面の種類の登録"),
    TEMPLATE_PUBLISH: _("書面送付：様式の版の公開"),
    RECIPIENTS_IMPORT: _("書面送付：宛先の取込み"),
    RECIPIENTS_STAGE: _("書面送付：宛先ファイルの確認"),
    RECIPIENTS_DISCARD: _("書面送付：宛先ファイルの破棄"),
    CONSENT_GIVE: _("書面送付：デジタル受取りの同意"),
    CONSENT_WITHDRAW: _("書面送付：同意の撤回"),
    ACCOUNT_LINK: _("書面送付：アカウントと宛名番号の連携"),
    REPRESENTATIVE_GRANT: _("書面送付：代理人の登録"),
    REPRESENTATIVE_REVOKE: _("書面送付：代理人の取消し"),
    BATCH_CREATE: _("書面送付：送付の作成"),
    BATCH_APPROVE: _("書面送付：送付の承認"),
    BATCH_DISPATCH: _("書面送付：送付"),
    BATCH_CANCEL: _("書面送付：送付の中止"),
    BOUNCES_READ: _("書面送付：不達メールの読込み"),
    FALLBACK_RUN: _("書面送付：紙送付への切替え"),
    PRINT_RUN_TRANSITION: _("書面送付：印刷・郵送の記録"),
    RETURNED_MAIL: _("書面送付：返戻郵便の記録"),
    FOREIGN_ACCESS: _("書面送付：他人の書面へのアクセス"),
    CONTENT_PURGE: _("書面送付：保存期間を過ぎた内容の削除"),
}
