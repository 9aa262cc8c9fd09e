"""The staff screens are translated (issue 12.13): every Japanese text of their templates is marked
for translation, and every message they mark has an English translation in the catalogue.

The messages are extracted the way makemessages does (Django's templatize, then xgettext), into a
temporary file: the catalogue itself is never rewritten.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation.template import templatize

SRC = Path(__file__).resolve().parents[2] / "src" / "hiroba"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

#: The templates of the staff screens (and the mails and pages around them) that must be translated.
TEMPLATES = sorted([
    *(SRC / "consultations/templates/consultations/staff").glob("*.html"),
    *(SRC / "consultations/templates/consultations/mail").glob("*.txt"),
    *(SRC / "core/templates/core").glob("*.html"),
    *(SRC / "backoffice/templates/backoffice").glob("*.html"),
    *(SRC / "templates/account/email").glob("*.txt"),
    SRC / "templates/base.html", SRC / "templates/staff_base.html", SRC / "templates/account/login.html",
    SRC / "templates/includes/confirm.html",
])
#: Python modules whose marked strings staff see.
MODULES = [SRC / "consultations/staff_views.py", SRC / "consultations/forms.py", SRC / "consultations/apps.py",
           SRC / "consultations/todo.py", SRC / "core/views.py", SRC / "backoffice/views.py",
           SRC / "core/audit_labels.py", SRC / "workshops/views.py",
           SRC / "calendars/models.py", *sorted(SRC.glob("*/audit_actions.py"))]

_TAG = re.compile(r"{%\s*(blocktranslate|blocktrans)\b.*?{%\s*end(blocktranslate|blocktrans)\s*%}", re.S)
_INLINE = re.compile(r"{%\s*(translate|trans)\s+(\"[^\"]*\"|'[^']*'|\S+)[^%]*%}")
_OTHER = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)


def unmarked_japanese(source: str) -> list[str]:
    """Japanese text of a template outside {% translate %} and {% blocktranslate %}."""
    stripped = _OTHER.sub(" ", _INLINE.sub(" ", _TAG.sub(" ", source)))
    return [line.strip() for line in stripped.splitlines() if JAPANESE.search(line)]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_japanese_is_left_unmarked_in_a_staff_template(path):
    assert path.exists(), path
    assert not unmarked_japanese(path.read_text()), path


def _msgids(tmp_path: Path) -> list[tuple[str, str, str, str]]:
    """(context, msgid, plural, where) of every message the files above mark."""
    sources = []
    for path in (p for p in TEMPLATES if p.exists()):
        converted = tmp_path / (path.relative_to(SRC).as_posix().replace("/", "__") + ".py")
        converted.write_text(templatize(path.read_text(), origin=str(path)))
        sources.append(converted)
    sources += [p for p in MODULES if p.exists()]
    pot = tmp_path / "staff.pot"
    subprocess.run(
        ["xgettext", "--language=Python", "--from-code=UTF-8", "--no-wrap", "-o", str(pot),
         "--keyword=gettext_noop", "--keyword=gettext_lazy", "--keyword=ngettext_lazy:1,2",
         "--keyword=pgettext:1c,2", "--keyword=pgettext_lazy:1c,2", "--keyword=npgettext:1c,2,3",
         "--keyword=npgettext_lazy:1c,2,3", "--keyword=_", "--keyword=gettext", "--keyword=ngettext:1,2",
         *map(str, sources)], check=True, capture_output=True)
    return _parse_pot(pot.read_text()) if pot.exists() else []


def _unquote(lines: list[str]) -> str:
    joined = "".join(re.match(r'^(?:msgid|msgctxt|msgid_plural)?\s*"(.*)"$', line).group(1) for line in lines)
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), joined)


def _parse_pot(text: str) -> list[tuple[str, str, str, str]]:
    found = []
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        where = " ".join(line[3:] for line in lines if line.startswith("#: "))
        ctx, mid, plural, part = [], [], [], None
        for line in lines:
            if line.startswith("msgctxt "):
                part = ctx
            elif line.startswith("msgid "):
                part = mid
            elif line.startswith("msgid_plural "):
                part = plural
            elif line.startswith("msgstr"):
                part = None
            if part is not None and line.startswith(("msgctxt", "msgid", '"')):
                part.append(line)
        msgid = _unquote(mid) if mid else ""
        if msgid:
            found.append((_unquote(ctx) if ctx else "", msgid, _unquote(plural) if plural else "", where))
    return found


def _translate(ctx: str, msgid: str, plural: str) -> str:
    if plural:
        return translation.npgettext(ctx, msgid, plural, 1) if ctx else translation.ngettext(msgid, plural, 1)
    return translation.pgettext(ctx, msgid) if ctx else translation.gettext(msgid)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs gettext's xgettext")
def test_every_message_of_the_staff_screens_has_an_english_translation(tmp_path):
    messages = _msgids(tmp_path)
    assert len(messages) > 300  # the extraction found the screens' texts
    with translation.override("en"):
        missing = [f"{where}: {msgid!r}" for ctx, msgid, plural, where in messages
                   if JAPANESE.search(msgid) and _translate(ctx, msgid, plural) == msgid]
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_every_label_of_the_audit_log_has_an_english_translation():
    """Actions, keys and values (the models' choices) as core.audit_labels shows them."""
    from hiroba.core import audit_labels

    actions, fields, values = audit_labels._registry()
    labels = {str(label) for label in actions.values()}
    with translation.override("ja"):
        labels = {str(label) for label in actions.values()}
        labels |= {str(label) for per_app in fields.values() for label in per_app.values()}
        labels |= {str(label) for per_app in values.values() for per_key in per_app.values()
                   for label in per_key.values()}
        labels |= {str(label) for label in audit_labels.FIELD_LABELS.values()}
    with translation.override("en"):
        missing = sorted(label for label in labels if JAPANESE.search(label) and translation.gettext(label) == label)
    assert not missing, "untranslated:\n" + "\n".join(missing)
