"""The shared shapes: `ActionCommand` (sub-actions, service errors as exit codes), `iso_date`, `flashed`."""

from __future__ import annotations

import io

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.management.base import CommandError
from django.test import RequestFactory

from hiroba.core.commands import ActionCommand, iso_date
from hiroba.core.errors import ServiceError, flashed
from hiroba.core.forms import cleaned_or_refuse


class _Command(ActionCommand):
    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("ok")
        sub.add_parser("refuse")

    def do_ok(self, options):
        self.stdout.write("done")

    def do_refuse(self, options):
        raise ServiceError("受け付けられません。", code="refused")


def _run(command, *argv):
    out, err = io.StringIO(), io.StringIO()
    command.stdout._out, command.stderr._out = out, err
    parser = command.create_parser("hiroba", "x")
    options = vars(parser.parse_args(argv))
    command.execute(**options)
    return out.getvalue(), err.getvalue()


def test_an_action_runs_its_do_method():
    out, _ = _run(_Command(), "ok")
    assert out.strip() == "done"


def test_a_service_error_is_its_message_and_the_commands_exit_code():
    command = _Command()
    with pytest.raises(SystemExit) as exc:
        _run(command, "refuse")
    assert exc.value.code == 1
    assert "受け付けられません。" in command.stderr._out.getvalue()
    command = _Command()
    command.exit_code = 2
    with pytest.raises(SystemExit) as exc:
        _run(command, "refuse")
    assert exc.value.code == 2


def test_iso_date_reads_yyyy_mm_dd_and_refuses_anything_else_in_japanese():
    assert iso_date("2026-04-01").isoformat() == "2026-04-01"
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        iso_date("令和8年4月1日")


def _request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_flashed_says_the_success_when_the_block_completes():
    request = _request()
    with flashed(request, "更新しました。"):
        pass
    assert [(m.level_tag, str(m)) for m in get_messages(request)] == [("success", "更新しました。")]


def test_flashed_says_the_refusal_instead_and_swallows_only_service_errors():
    request = _request()
    with flashed(request, "更新しました。"):
        raise ServiceError("この状態からは進められません。")
    assert [(m.level_tag, str(m)) for m in get_messages(request)] == [("error", "この状態からは進められません。")]
    with pytest.raises(LookupError), flashed(_request(), "更新しました。"):
        raise LookupError("not a refusal: a bug, which must not be hidden")


class _ReasonForm(forms.Form):
    reason = forms.CharField()


def test_cleaned_or_refuse_gives_the_data_or_the_refusal_that_flashed_shows():
    assert cleaned_or_refuse(_ReasonForm({"reason": "誤登録"}), "理由を入力してください。") == {"reason": "誤登録"}
    request = _request()
    with flashed(request, "更新しました。"):
        cleaned_or_refuse(_ReasonForm({}), "理由を入力してください。", code="reason_required")
        raise AssertionError("the block goes no further than the refusal")
    assert [(m.level_tag, str(m)) for m in get_messages(request)] == [("error", "理由を入力してください。")]
    with pytest.raises(ServiceError) as refused:
        cleaned_or_refuse(_ReasonForm({"reason": ""}), "理由を入力してください。", code="reason_required")
    assert refused.value.code == "reason_required"
