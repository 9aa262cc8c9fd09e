"""Campaign detection on generated form letters with edits, beside organic opinions."""

import random

from hiroba.analysis.campaigns import find_campaigns

LETTER_A = (
    "千代田区DX戦略（素案）について意見を申し上げます。"
    "区役所の窓口手続きをオンライン化する方針には反対です。"
    "高齢者やスマートフォンを持たない区民が取り残されるおそれがあります。"
    "対面での相談窓口を今後も必ず維持してください。"
    "紙の申請書も引き続き受け付けることを強く求めます。"
    "以上、よろしくお願いいたします。"
)
LETTER_B = (
    "スクールカレンダーの電子化に関する予算は取り下げるべきです。"
    "学校からのお知らせは紙のプリントの方が家族で共有しやすいと考えます。"
    "保護者の負担が増えるだけで教育効果は期待できません。"
    "その予算を教員の増員や校舎の改修に回してください。"
    "区の英断を期待しております。"
)
SYNONYMS = [("反対", "賛成できません"), ("必ず", "確実に"), ("強く求めます", "要望します"), ("予算", "経費"),
            ("考えます", "思います"), ("区民", "住民"), ("維持", "存続")]
ORGANIC = [
    "図書館の開館時間を夜九時まで延長してほしいです。仕事帰りに本を借りられません。",
    "公園の遊具が古くなっているので新しくしてください。",
    "マイナンバーカードの交付窓口が混雑しています。予約制にしてはどうでしょうか。",
    "区のホームページの検索機能が使いにくいです。目的のページにたどり着けません。",
    "防災無線の音が聞き取りにくい地域があります。改善を望みます。",
    "自転車の駐輪場を駅の近くに増やしてください。",
    "子育て支援の申請をスマホで完結できるようにしてほしい。保育園の申込みも同様です。",
    "生成AIを行政文書の作成に使うことには慎重であるべきだと考えます。情報漏えいが心配です。",
]


def edit(letter: str, rng: random.Random) -> str:
    sentences = [s + "。" for s in letter.split("。") if s]
    op = rng.choice(["synonym", "insert", "delete", "typo", "mix"])
    if op in ("synonym", "mix"):
        for a, b in rng.sample(SYNONYMS, 3):
            sentences = [s.replace(a, b) for s in sentences]
    if op in ("insert", "mix"):
        sentences.insert(rng.randrange(len(sentences)), "私は九段南に二十年住んでいる者です。")
    if op == "delete":
        del sentences[rng.randrange(1, len(sentences))]
    text = "".join(sentences)
    if op in ("typo", "mix"):
        chars = list(text)
        for _ in range(3):
            i = rng.randrange(len(chars))
            chars[i] = rng.choice("あいうえおかきくけこ")
        text = "".join(chars)
    return text


def test_form_letters_cluster_and_organic_opinions_do_not() -> None:
    rng = random.Random(7)
    texts, labels = [], []
    for label, letter in (("A", LETTER_A), ("B", LETTER_B)):
        for k in range(30):
            texts.append(letter if k % 3 == 0 else edit(letter, rng))
            labels.append(label)
    for i, t in enumerate(ORGANIC):
        texts.append(t)
        labels.append(f"o{i}")
    order = list(range(len(texts)))
    rng.shuffle(order)
    ids = [f"op{n}" for n in range(len(texts))]
    texts = [texts[i] for i in order]
    labels = [labels[i] for i in order]

    campaigns, _, _ = find_campaigns(ids, texts)

    assert len(campaigns) == 2
    by_label = {labels[ids.index(c["member_ids"][0])]: c for c in campaigns}
    for label in ("A", "B"):
        expected = sorted((i for i, lab in zip(ids, labels, strict=True) if lab == label), key=lambda s: int(s[2:]))
        assert by_label[label]["member_ids"] == expected
        assert by_label[label]["size"] == 30
        assert by_label[label]["evidence"]["exact_copies"] >= 10
        assert by_label[label]["evidence"]["shared_passages"][0]["share"] >= 0.8
    assert campaigns[0]["id"] == "c1" and campaigns[1]["id"] == "c2"


def test_two_identical_opinions_are_a_campaign() -> None:
    campaigns, _, _ = find_campaigns(["1", "2", "3"], ["公園を増やして。", "公園を増やして。 ", "図書館を増やして。"])
    assert [(c["member_ids"], c["representative_id"], c["size"]) for c in campaigns] == [(["1", "2"], "1", 2)]


def test_an_inserted_paragraph_stays_in_the_campaign() -> None:
    long_insert = (
        "私は九段南に三十年住み、町会の防災担当を務めてまいりました。昨年の訓練では停電を想定した連絡網が機能せず、"
        "紙の名簿と電話で安否確認をしました。デジタル化を進めるなら、通信が止まったときの手順も同時に定めるべきです。"
        "また、説明会を平日の夜や土日にも開催し、働く世代が参加できるようにしてください。"
    )
    texts = [LETTER_A, LETTER_A, LETTER_A[:40] + long_insert + LETTER_A[40:]]
    campaigns, _, _ = find_campaigns(["1", "2", "3"], texts)
    assert campaigns[0]["member_ids"] == ["1", "2", "3"]
    assert campaigns[0]["evidence"]["member_scores"]["3"]["jaccard"] >= 0.5


def test_containment_is_exact() -> None:
    from hiroba.analysis import minhash

    extra = "私は九段南に三十年住み、町会の防災担当を務めてまいりました。" * 3
    table = minhash.build_sentence_table([LETTER_A, LETTER_A + extra + "昨年の訓練では停電を想定しました。", LETTER_B])
    minhash.signatures(table, 5, 128)
    assert minhash.containment(table, table.hashes, table.sptr, 0, 1) == 1.0
    assert minhash.containment(table, table.hashes, table.sptr, 0, 2) < 0.2
