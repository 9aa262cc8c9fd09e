"""Normalisation: fixed examples and properties."""

from hypothesis import given, settings
from hypothesis import strategies as st

from hiroba.analysis.normalize import fingerprint, normalize, normalize_with_offsets


def test_it_unifies_widths_dashes_and_spaces() -> None:
    assert normalize("ＤＸ戦略　デ－タ ０３ー１２３４") == "DX戦略 データ 03-1234"
    assert normalize("ｶﾞｲﾄﾞ") == "ガイド"
    assert normalize("a\u200bb\x00c\ufeff") == "abc"
    assert normalize("  一行目\r\n\n  二行目  ") == "一行目\n二行目"
    assert normalize("サーバ―とデ‐タ") == "サーバーとデータ"


def test_fingerprint_ignores_spacing_and_case() -> None:
    assert fingerprint("2025 年 3 月 ＤＸ") == fingerprint("2025年3月dx")


def test_offsets_point_into_the_original() -> None:
    original = "電話：０３－１２３４－５６７８（平日）"
    norm, offsets = normalize_with_offsets(original)
    assert norm == "電話:03-1234-5678(平日)"
    a = norm.index("03")
    b = a + len("03-1234-5678")
    assert original[offsets[a] : offsets[b]] == "０３－１２３４－５６７８"


text_st = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("ｱｶﾞﾊﾟー－―‐-–—〜～ 　\n\t\u200bＡ０９あア漢字\u3099\u309a")),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(text_st)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    fp = fingerprint(text)
    assert fingerprint(fp) == fp


@settings(max_examples=300, deadline=None)
@given(text_st)
def test_offsets_stay_in_bounds_and_in_order(text: str) -> None:
    norm, offsets = normalize_with_offsets(text)
    assert len(offsets) == len(norm)
    assert all(0 <= o < len(text) for o in offsets)
    assert offsets == sorted(offsets)
