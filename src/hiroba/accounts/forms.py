"""allauth's forms with hiroba's checks (settings.ACCOUNT_FORMS): the person check on sign-up and
the e-mail length the database stores on every form that saves an address."""

from __future__ import annotations

from typing import Any

from allauth.account import forms as allauth_forms

from hiroba.core.forms import HumanCheckForm, limit_email_length


class SignupForm(HumanCheckForm, allauth_forms.SignupForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_email_length(self.fields["email"])


class AddEmailForm(allauth_forms.AddEmailForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_email_length(self.fields["email"])


class ChangeEmailForm(allauth_forms.ChangeEmailForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_email_length(self.fields["email"])


class LoginForm(allauth_forms.LoginForm):
    """The login page links to the password reset once, below the form (not also in the
    password field's help text, as allauth puts it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = ""


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_email_length(self.fields["email"])
