from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hiroba.accounts"
    label = "accounts"
    verbose_name = "アカウント"
    audit_action_labels = "hiroba.accounts.audit_actions.LABELS"  # the audit log (core.audit_labels)

    def ready(self) -> None:
        from allauth.mfa import signals as mfa_signals

        from hiroba.accounts import lockout

        # After core's audit hook (core is installed first): the failure is in the audit log
        # before a lock-out it may cause.
        mfa_signals.authentication_failed.connect(lockout.count_mfa_failure, dispatch_uid="hiroba-mfa-lockout")
