"""`core.text.fold`: the one comparison key for names, kana and addresses typed two ways, used by
the proposals' identity key and the workshops' duplicate check."""

from __future__ import annotations

import importlib
from datetime import date

import pytest

from hiroba.core.text import fold
from hiroba.proposals.services import identity_key
from hiroba.workshops.normalize import kana_key, school_key

fold_keys = importlib.import_module("hiroba.workshops.migrations.0002_fold_keys")


def test_widths_case_kana_and_spaces_fold_to_one_key():
    assert fold("ヤマダ　タロウ") == fold("やまだ たろう") == fold("ﾔﾏﾀﾞﾀﾛｳ") == "やまだたろう"
    assert fold("ＡＢＣ１２３") == fold("abc123") == "abc123"
    assert fold("山田・太郎", drop="・") == "山田太郎" and fold("山田・太郎") == "山田・太郎"


def test_the_proposals_identity_key_ignores_how_a_person_typed_it():
    born = date(1980, 4, 1)
    one = identity_key(name_kana="ヤマダ タロウ", birth_date=born, address="千代田区九段南１－２－１")
    assert one == identity_key(name_kana="やまだたろう", birth_date=born, address="千代田区九段南1-2-1")
    assert one != identity_key(name_kana="やまだじろう", birth_date=born, address="千代田区九段南1-2-1")


def test_the_workshops_keys_and_their_migration_agree():
    assert kana_key("ｶﾝﾀﾞ・イチロウ") == kana_key("かんだ いちろう") == "かんだいちろう"
    assert school_key("千代田区立 神田一橋中学校") == school_key("神田一橋中") == "神田一橋中"
    assert school_key("セント・メリーズ学園") == school_key("せんとめりーず学園")
    for kana, school in [("ｶﾝﾀﾞ イチロウ", "千代田区立　麹町中学校"), ("Ｍａｒｉａ", "セント・メリーズ・インターナショナル・スクール")]:
        assert fold_keys._new(kana, school) == (kana_key(kana), school_key(school))
    assert fold_keys._old("Ｍａｒｉａ", "セント・メリーズ学園") == ("maria", "セントメリーズ学園")  # how rows were keyed


def test_decode_japanese_reads_what_a_wards_pc_writes():
    from hiroba.core.text import decode_japanese

    text = "宛名番号,氏名\r\n0000000001,山田　花子\r\n"
    assert decode_japanese(text.encode("utf-8")) == text
    assert decode_japanese(b"\xef\xbb\xbf" + text.encode("utf-8")) == text  # Excel's BOM is dropped
    assert decode_japanese(text.encode("cp932")) == text  # Shift_JIS as Windows writes it
    assert decode_japanese("髙橋①".encode("cp932")) == "髙橋①"  # the NEC and IBM extensions
    assert decode_japanese(b"\x81\x00\x80") is None  # neither: the caller refuses in its own words


def test_every_reader_of_ward_files_refuses_an_unknown_encoding_in_japanese():
    from hiroba.calendars import importing
    from hiroba.core.errors import ServiceError
    from hiroba.notices import reading
    from hiroba.security import parsers, training

    garbage = b"\x81\x00\xff\xfe\x80"
    for decode in (importing._decode, reading._decode, parsers._rows_from_csv, training.parse_attendance_csv):
        with pytest.raises(ServiceError) as refused:
            decode(garbage)
        assert refused.value.code == "encoding" and "UTF-8" in refused.value.message
