"""The matching keys of applications follow hiroba.core.text.fold (one normaliser for every
module): katakana in school names now fold to hiragana and names are case-folded. The keys of
applications not yet anonymised are recomputed from the stored kana and school names; going
back recomputes them the old way. (Both algorithms are frozen here.)"""

import re
import unicodedata

from django.db import migrations

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}
_OLD_SPACE = re.compile(r"[\s\u3000・･]+")
_PREFIXES = ("千代田区立", "区立", "私立", "国立", "都立")


def _strip_school(text):
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    for suffix in ("中学校", "中等教育学校", "学校"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)] + ("中" if suffix == "中学校" else "")
            break
    return text


def _new_fold(text):
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_KATAKANA_TO_HIRAGANA)
    return "".join(ch for ch in folded if not ch.isspace() and ch != "・")


def _new(kana, school):
    return _new_fold(kana), _strip_school(_new_fold(school))


def _old(kana, school):
    kana_key = _OLD_SPACE.sub("", unicodedata.normalize("NFKC", kana).translate(_KATAKANA_TO_HIRAGANA)).lower()
    return kana_key, _strip_school(_OLD_SPACE.sub("", unicodedata.normalize("NFKC", school))).lower()


def _recompute(apps, keys):
    Application = apps.get_model("workshops", "Application")
    rows = Application.objects.filter(anonymised_at__isnull=True).only("pk", "student_kana", "school_name",
                                                                        "kana_key", "school_key")
    for app in rows.iterator():
        kana_key, school_key = keys(app.student_kana, app.school_name)
        if (kana_key, school_key) != (app.kana_key, app.school_key):
            Application.objects.filter(pk=app.pk).update(kana_key=kana_key, school_key=school_key)


def forwards(apps, schema_editor):
    _recompute(apps, _new)


def backwards(apps, schema_editor):
    _recompute(apps, _old)


class Migration(migrations.Migration):

    dependencies = [
        ("workshops", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
