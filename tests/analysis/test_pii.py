"""Personal-information spans."""

import pytest

from hiroba.analysis.pii import find_pii, valid_individual_number


def found(text: str) -> list[tuple[str, str]]:
    return [(text[s["start"] : s["end"]], s["kind"]) for s in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("電話03-1234-5678まで", "03-1234-5678"),
        ("0312345678", "0312345678"),
        ("携帯090-1234-5678です", "090-1234-5678"),
        ("(03)1234-5678", "(03)1234-5678"),
        ("03(1234)5678", "03(1234)5678"),
        ("+81-3-1234-5678", "+81-3-1234-5678"),
        ("＋８１ ９０ １２３４ ５６７８", "＋８１ ９０ １２３４ ５６７８"),
        ("０３－１２３４－５６７８へ", "０３－１２３４－５６７８"),
        ("フリーダイヤル0120-123-456", "0120-123-456"),
        ("TEL：０１２０（１２３）４５６", "０１２０（１２３）４５６"),
        ("050-1234-5678", "050-1234-5678"),
        ("03.1234.5678", "03.1234.5678"),
        ("（０３）１２３４‐５６７８", "（０３）１２３４‐５６７８"),
    ],
)
def test_it_finds_phone_numbers(text: str, expected: str) -> None:
    assert found(text) == [(expected, "phone")]


def test_it_separates_two_numbers() -> None:
    assert found("03-1234-5678 090-1111-2222") == [("03-1234-5678", "phone"), ("090-1111-2222", "phone")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("メール taro.yamada@example.co.jp まで", ("taro.yamada@example.co.jp", "email")),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "email")),
        ("〒1028688", ("〒1028688", "postal_code")),
        ("郵便番号 102-8688", ("102-8688", "postal_code")),
        ("〒１０２－８６８８", ("〒１０２－８６８８", "postal_code")),
        ("東京都千代田区九段南一丁目2番1号にある", ("東京都千代田区九段南一丁目2番1号", "address")),
        ("千代田区九段南1-2-1", ("千代田区九段南1-2-1", "address")),
        ("横浜市中区山下町10番地", ("横浜市中区山下町10番地", "address")),
        ("記事 https://www.tokyo-np.co.jp/article/370183", ("https://www.tokyo-np.co.jp/article/370183", "url")),
    ],
)
def test_it_finds_structured_kinds(text: str, expected: tuple[str, str]) -> None:
    assert found(text) == [expected]


def test_postal_code_and_address_together() -> None:
    text = "〒102-8688 東京都千代田区九段南1-2-1"
    assert found(text) == [("〒102-8688", "postal_code"), ("東京都千代田区九段南1-2-1", "address")]


def test_individual_number_check_digit() -> None:
    assert valid_individual_number("123456789018")
    assert not valid_individual_number("123456789012")
    assert found("番号は1234 5678 9018です") == [("1234 5678 9018", "individual_number")]
    assert found("番号は1234-5678-9018") == [("1234-5678-9018", "individual_number")]
    assert found("番号は１２３４５６７８９０１８") == [("１２３４５６７８９０１８", "individual_number")]
    assert found("番号は1234 5678 9012です") == []


def test_it_finds_person_names_with_context() -> None:
    assert found("山田さんと佐藤様") == [("山田", "person_name"), ("佐藤", "person_name")]
    assert found("氏名：鈴木一郎") == [("鈴木一郎", "person_name")]
    assert found("班長さんが回収") == []


@pytest.mark.parametrize(
    "text",
    [
        "2025年3月で終了",
        "東京共同電子申請・届出サービスが 2025 年 3 月で終了",
        "オンライン申請手続き 10,119 件は",
        "P39 「行政手続のオンライン化」、p.46、素案 25p",
        "2024 年度から 3 年間",
        "8050 問題",
        "令和7年1月5日から1月20日まで",
        "PDF：7,246KB",
        "38000 時間削減",
        "区のこれまでの取り組み(3)成果①～④",
        "重点方針1に盛り込んで",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert found(text) == []


def test_offsets_are_in_original_characters() -> None:
    text = "🙂ＤＸについて、連絡先は（０３）１２３４－５６７８、\u200bメールはａ＠ｂ．ｊｐです"
    spans = find_pii(text)
    kinds = {text[s["start"] : s["end"]]: s["kind"] for s in spans}
    assert kinds == {"（０３）１２３４－５６７８": "phone", "ａ＠ｂ．ｊｐ": "email"}


def test_it_finds_full_width_phone_numbers_with_a_two_digit_area_code() -> None:
    # 06 (Osaka) is a two-digit area code: 06-0530-2573 is ten digits, not an 060 number
    for text in ("連絡先：０６－０５３０－２５７３（平日）", "電話 06(0530)2573 まで", "ＴＥＬ０６（０５３０）２５７３",
                 "TEL06-0530-2573", "Tel.06-6530-2573", "FAX：06-6530-2574"):
        spans = find_pii(text, names=False)
        assert [s["kind"] for s in spans] == ["phone"], text
        found = text[spans[0]["start"] : spans[0]["end"]]
        assert found.translate(str.maketrans("０１２３４５６７８９", "0123456789")).startswith("06"), (text, found)


def test_a_ten_digit_run_with_a_mobile_prefix_is_still_not_a_phone() -> None:
    # no grouping shows a two-digit area code: 0605302573 is not a valid number
    assert find_pii("番号0605302573", names=False) == []
    assert find_pii("受付番号 060-530-2573", names=False) == []
