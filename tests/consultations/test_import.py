"""hiroba consultation import: both fixture formats, optional fields, and all-or-nothing rejection."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from hiroba.consultations import importer
from hiroba.consultations.models import Case, Channel, Item, Submission
from tests.consultations.conftest import FIXTURE_DIR

pytestmark = pytest.mark.django_db

FIXTURE = json.loads((FIXTURE_DIR / "consultation.json").read_text(encoding="utf-8"))


def write(tmp_path: Path, data: object, name: str = "case.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def run_import(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("consultation", "import", str(path), *args, stdout=out)
    return out.getvalue()


def test_it_imports_the_seed_json_and_prints_the_slug_last(departments):
    out = run_import(FIXTURE_DIR / "consultation.json")
    assert out.strip().splitlines()[-1] == "chiyoda-dx-strategy-2025"
    case = Case.objects.get(slug="chiyoda-dx-strategy-2025")
    assert case.state == Case.State.PUBLISHED
    assert case.items.count() == 12 and case.submissions.count() == 12
    assert case.channel_labels == ["持参", "郵送", "ファクス", "電子メール", "区HP送信フォーム"]
    assert [s.heading for s in case.sections.all()] == ["全体", "基本的な考え方", "重点方針と取組み"]
    item5 = case.items.get(number=5)
    assert sorted(s.heading for s in item5.sections.all()) == ["基本的な考え方", "重点方針と取組み"]
    # the same answer text is one answer for several items (同趣旨の意見はまとめて回答)
    shared = case.items.get(number=2).answer
    assert set(shared.items.values_list("number", flat=True)) >= {2, 3, 4, 6}


def test_it_takes_the_slug_option(departments):
    out = run_import(FIXTURE_DIR / "consultation.json", "--slug", "dx-2025")
    assert out.strip().splitlines()[-1] == "dx-2025"


def test_it_imports_the_csv_table_and_splits_joined_sections(departments):
    out = run_import(FIXTURE_DIR / "results.csv")
    case = Case.objects.get(slug=out.strip().splitlines()[-1])
    assert case.items.count() == 12
    item7 = case.items.get(number=7)
    assert item7.section_label == "全体重点方針と取組み"
    assert sorted(s.heading for s in item7.sections.all()) == ["全体", "重点方針と取組み"]
    item10 = case.items.get(number=10)
    assert [s.heading for s in item10.sections.all()] == ["重点方針と取組み"]


def test_it_accepts_the_optional_fields(tmp_path, departments):
    data = {
        "consultation": {**FIXTURE["consultation"], "slug": "with-optional"},
        "items": [
            {**FIXTURE["items"][0], "summary": "本人認証の徹底を求める意見", "channel": "電子メール",
             "received_at": "2025-01-10T09:30:00+09:00", "submission": "s1",
             "submitter": {"name": "区民 花子", "address": "千代田区九段南1-2-1", "email": "h@example.jp",
                           "phone": "03-1234-5678", "category": "在住"}},
            {**FIXTURE["items"][1], "submission": "s1"},
            {**FIXTURE["items"][2], "published": False, "exclude_reason": "案と関係がないため"},
        ],
    }
    run_import(write(tmp_path, data))
    case = Case.objects.get(slug="with-optional")
    assert case.submissions.count() == 2
    grouped = Submission.objects.get(case=case, external_key="import:s1")
    assert grouped.channel == Channel.EMAIL and grouped.name == "区民 花子" and grouped.category == "resident"
    assert grouped.items.count() == 2
    first = case.items.get(number=1)
    assert first.summary == "本人認証の徹底を求める意見"
    assert grouped.text[first.span_start:first.span_end] == first.text
    third = case.items.get(number=3)
    assert third.excluded and third.exclude_reason == "案と関係がないため"


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d["items"][3].pop("opinion"), "items[3].opinion"),
    (lambda d: d["items"][4].update(sections=["存在しない章"]), "items[4].sections[0]"),
    (lambda d: d["items"][5].update(no=1), "items[5].no"),
    (lambda d: d["consultation"]["period"].update(start="2025-13-01"), "consultation.period.start"),
    (lambda d: d["consultation"]["channels"].append("伝書鳩"), "consultation.channels[5]"),
    (lambda d: d["items"][11].update(published=False), "items[11].exclude_reason"),
    (lambda d: d["items"][2].update(submitter={"category": "宇宙人"}), "items[2].submitter.category"),
    (lambda d: d["items"][2].update(received_at="2025-01-10T09:30:00"), "items[2].received_at"),
])
def test_a_malformed_file_is_rejected_whole_with_the_field_at_fault(tmp_path, departments, mutate, where):
    data = json.loads(json.dumps(FIXTURE))
    mutate(data)
    with pytest.raises(CommandError) as excinfo:
        run_import(write(tmp_path, data))
    assert where in str(excinfo.value)
    assert "何も登録していません" in str(excinfo.value)
    assert Case.objects.count() == Item.objects.count() == Submission.objects.count() == 0


def test_a_json_syntax_error_names_the_line(tmp_path, departments):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "consultation": {\n    "title": "x",\n  }\n}', encoding="utf-8")
    with pytest.raises(CommandError, match="line 4"):
        run_import(path)


@pytest.mark.parametrize("body, where", [
    ("no,section,opinion\n1,全体,意見\n", "line 1"),
    ("no,section,opinion,response\n1,全体,意見,回答\nx,全体,意見,回答\n", "line 3 column no"),
    ("no,section,opinion,response\n1,全体,意見,回答\n2,全体,,回答\n", "line 3 column opinion"),
    ("no,section,opinion,response\n1,全体,意見,回答\n2,全体,意見\n", "line 3"),
])
def test_a_malformed_csv_names_the_line_and_column(tmp_path, departments, body, where):
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CommandError, match=where):
        run_import(path)
    assert Case.objects.count() == 0


def test_invalid_utf8_is_rejected(tmp_path, departments):
    path = tmp_path / "bad.csv"
    path.write_bytes("no,section,opinion,response\n1,全体,".encode() + b"\xff\xfe" + "意見,回答\n".encode())
    with pytest.raises(CommandError, match="UTF-8"):
        run_import(path)


def test_an_existing_slug_is_refused_without_touching_the_existing_case(departments):
    run_import(FIXTURE_DIR / "consultation.json")
    with pytest.raises(CommandError, match="既にあります"):
        run_import(FIXTURE_DIR / "consultation.json")
    assert Case.objects.count() == 1 and Item.objects.count() == 12


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_either_import_or_fail_cleanly(departments, raw):
    for parse in (importer.parse_json, importer.parse_csv):
        try:
            parse(raw, source_name="x")
        except importer.ImportFailed as exc:
            assert exc.where and exc.message


@hsettings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["全体", "基本的な考え方", "重点方針と取組み"]), min_size=1, max_size=3, unique=True),
       st.sampled_from(["", " ", "　"]))
def test_joined_section_labels_split_back_into_their_headings(names, sep):
    raw = sep.join(names)
    assert importer.split_sections(raw, ["全体", "基本的な考え方", "重点方針と取組み"]) == names
