"""`core.text.fold`: the one comparison key for names, kana and addresses typed two ways, used by
the proposals' identity key and the workshops' duplicate check."""

from __future__ import annotations

import importlib
from datetime import date

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
