"""The fast paths compute exactly what the straightforward versions compute.

Each speed-up of the million-opinion report (PII hints, sentence pieces, lean Sudachi
reading, dash check, MinHash reductions, neighbour sort, worker processes) is checked here
against a plain reference implementation on generated inputs.
"""

import importlib
import random
import re
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiroba.analysis import minhash, parallel, pii, tokenize
from hiroba.analysis.model import Opinion, PastItem, Section, id_key, id_rank
from hiroba.analysis.report import analyze, dumps
from hiroba.analysis.vectors import SimilarityIndex, neighbours, tfidf

normalize = importlib.import_module("hiroba.analysis.normalize")  # the package exports a function of that name

PII_ALPHABET = list(
    "0123456789０１２３４５６７８９-‐－ー()（）.．+＋ 　\n@＠〒丁目番地号区市町村千代田九段南東京都県"
    "abcxyz:/htps郵便番号一二三"
)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(PII_ALPHABET), max_size=60))
def test_pii_hints_never_skip_a_match(text: str) -> None:
    assert pii.find_structured(text) == pii._find_structured_unfiltered(text)


def test_pii_hints_on_formatted_numbers() -> None:
    rng = random.Random(11)
    pieces = ["03-1234-5678", "(03)1234-5678", "03(1234)5678", "+81 (0)3 1234 5678", "＋８１－９０－１２３４－５６７８",
              "0120-123-456", "1234 5678 9018", "〒102-8688", "郵便番号：１０２８６８８", "千代田区九段南1-2-1",
              "九段南一丁目2番1号", "横浜市中区山下町10 番地", "a.b@example.jp", "https://x.jp/a", "2025年3月10日",
              "10,119件", "03 - ( 1234 ) - 5678", "0 3 1 2 3 4 5 6 7 8"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces + ["。", "です", " ", "電話", "住所は"]) for _ in range(rng.randrange(1, 6)))
        assert pii.find_structured(text) == pii._find_structured_unfiltered(text), text


def _reference_slices(text: str) -> list[tuple[int, str]]:
    out = []
    for a, b in tokenize.sentence_spans(text):
        for s in range(a, b, tokenize._MAX_CHARS):
            out.append((s, text[s : min(b, s + tokenize._MAX_CHARS)]))
    return out


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("あア漢a 　\n\t。．！？!?」』）)\u3000x")), max_size=80))
def test_pieces_are_the_sentence_slices(text: str) -> None:
    assert tokenize.pieces(text) == _reference_slices(text)


def test_pieces_slice_long_sentences(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokenize, "_MAX_CHARS", 7)
    text = "あ" * 30 + "。" + " " * 20 + "\nいい。"
    assert tokenize.pieces(text) == _reference_slices(text)


SENTENCES = [
    "山田さんと佐藤様", "氏名：鈴木一郎", "平将明デジタル相も偽造が容易であると認めています。", "班長さんが回収",
    "マイナンバーカードを用いた本人認証を行って初めて各種手続きができるように前提を変えていただきたいと思います。",
    "生成AIの活用は止めるべきです。", "ｶﾞｲﾄﾞ　ＤＸ　１２３件", "担当：田中花子（総務課）", "10,119件の申請は2025年3月で終了",
    "   ", "🙂😀", "区のこれまでの取り組み(3)成果①～④",
    "生成AIは嘘をつくので止めてください。", "<script>alert(1)</script>の入力欄に&lt;b&gt;太字&amp;色", "ごみがたまる。気がつく。",
]


def test_lean_piece_reading_matches_the_token_path() -> None:
    from hiroba.analysis.pii import find_names

    for piece in SENTENCES:
        toks = tokenize.tokenize(piece)
        markup = tokenize.markup_spans(piece)
        expected = (tuple(find_names(piece, toks)),
                    tuple(t.normalized for t in toks if tokenize._is_content(t, markup)))
        assert tokenize.analyse_piece(piece) == expected, piece


def _old_fix_dashes(s: str) -> str:
    if any(d in s for d in normalize._OTHER_DASHES):
        return normalize._DASH_FIX.sub(normalize._dash_repl, s)
    i = s.find("ー")
    while i >= 0:
        if i == 0 or not normalize._is_kana(s[i - 1]):
            return normalize._DASH_FIX.sub(normalize._dash_repl, s)
        i = s.find("ー", i + 1)
    return s


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(normalize.DASHES + "アカあa1漢 ゝヾ")), max_size=20))
def test_dash_check_matches_the_loop(text: str) -> None:
    assert normalize._fix_dashes(text) == _old_fix_dashes(text)


def _reference_normalize_once(text: str) -> str:
    s = text if text.isprintable() else normalize._control_re().sub("", text)
    s = unicodedata.normalize("NFKC", s)
    if not s.isprintable() or "  " in s or s[:1] == " " or s[-1:] == " ":
        s = normalize._WS_RUN.sub(normalize._ws_repl, s).strip()
    return _old_fix_dashes(s.replace("〜", "~").replace("～", "~"))


def _reference_fingerprint_once(text: str) -> str:
    s = "".join(_reference_normalize_once(text).split()).lower()
    return _old_fix_dashes(unicodedata.normalize("NFKC", s))


def _fixed_point(once, text: str) -> str:  # type: ignore[no-untyped-def]
    s = once(text)
    for _ in range(5):
        t = once(s)
        if t == s:
            break
        s = t
    return s


NORMALIZE_ALPHABET = (
    [chr(c) for c in range(0xFF01, 0xFF5F, 5)]
    + list("ｶﾞﾊﾟｱ\u3099\u309a\u0308\u0301aA1漢字あアー〜～ \u3000\n\t\r\u200b\x00-‐－―ｰ")
    + ["①", "㍻", "ﬁ", "¨", "İ", "ẞ"]
)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(NORMALIZE_ALPHABET), max_size=16))
def test_fast_normalisation_matches_the_reference(text: str) -> None:
    assert normalize.fingerprint(text) == _fixed_point(_reference_fingerprint_once, text)
    assert normalize._normalize_once(text) == _reference_normalize_once(text)


def test_minhash_reductions_match_reduceat() -> None:
    rng = np.random.default_rng(3)
    lens = rng.integers(1, 60, size=500)
    lens[7] = 3000  # one segment longer than a chunk
    ptr = np.zeros(lens.size + 1, np.int64)
    np.cumsum(lens, out=ptr[1:])
    hashes = rng.integers(0, 2**32, size=int(ptr[-1]), dtype=np.uint64).astype(np.uint32)
    a, b = minhash._perm_params(16)
    vals = ((hashes.astype(np.uint64)[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)).astype(np.uint32)
    expected = np.minimum.reduceat(vals, ptr[:-1], axis=0)
    assert (minhash._segment_min(hashes, ptr, 16, chunk=256) == expected).all()

    rows = rng.integers(0, 2**32, size=(300, 16), dtype=np.uint64).astype(np.uint32)
    tlens = rng.integers(1, 12, size=200)
    tptr = np.zeros(tlens.size + 1, np.int64)
    np.cumsum(tlens, out=tptr[1:])
    index = rng.integers(0, 300, size=int(tptr[-1]))
    expected = np.minimum.reduceat(rows[index], tptr[:-1], axis=0)
    assert (minhash._rows_min(rows, index, tptr) == expected).all()
    assert (minhash._rows_min(rows, index, tptr[50:120]) == expected[50:119]).all()


def _reference_neighbours(x, threshold: float, top: int) -> list[list[tuple[int, float]]]:
    sims = (x @ x.T).toarray()
    out = []
    for r in range(x.shape[0]):
        cand = [(c, float(sims[r, c])) for c in range(x.shape[0]) if c != r and sims[r, c] >= threshold]
        cand.sort(key=lambda cv: (-round(cv[1], 9), cv[0]))
        out.append(cand[:top])
    return out


def test_neighbours_match_a_dense_reference() -> None:
    rng = np.random.default_rng(1)
    vocab = [f"w{i}" for i in range(40)]
    docs = [[vocab[j] for j in rng.integers(0, 40, size=rng.integers(0, 8))] for _ in range(300)]
    x, _ = tfidf(docs)
    for threshold, top, chunk in [(0.15, 200, 64), (0.3, 2, 7)]:
        got = neighbours(x, threshold, top=top, chunk=chunk)
        want = _reference_neighbours(x, threshold, top)
        assert [[c for c, _ in row] for row in got] == [[c for c, _ in row] for row in want]
        assert all(abs(a - b) < 1e-12 for g, w in zip(got, want, strict=True) for (_, a), (_, b) in zip(g, w, strict=True))


@pytest.mark.parametrize("dense", [False, True])
def test_similarity_index_is_exact_on_both_paths(dense: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SimilarityIndex, "_dense_pays", lambda self: dense)
    rng = np.random.default_rng(2)
    vocab = [f"w{i}" for i in range(12)]
    docs = [[vocab[j] for j in rng.integers(0, 12, size=rng.integers(1, 6))] for _ in range(400)]
    x, _ = tfidf(docs)
    exact = (x @ x.T).toarray()
    np.fill_diagonal(exact, -1.0)
    # thresholds exactly at similarities that occur (ties on the threshold), and a plain one
    for threshold in (float(exact[0, 1]), float(exact[3, 7]), 0.2):
        index = SimilarityIndex(x, threshold)
        assert index.dense == dense
        full = (exact >= threshold).sum(axis=1)
        assert (index.counts() == full).all()
        assert (index.counts(cap=9, chunk=33) == np.minimum(full, 9)).all()
        for i in (0, 3, 7, 399):
            cols, vals = index.row(i)
            assert cols.tolist() == np.flatnonzero(exact[i] >= threshold).tolist()
            assert np.array_equal(vals, exact[i, cols])  # bit for bit


def test_fast_natural_key_is_the_same_key() -> None:
    digits = re.compile(r"([0-9]+)")

    def reference(value: str) -> tuple:
        parts = tuple((0, int(p), "") if "0" <= p[0] <= "9" else (1, 0, p) for p in digits.split(value) if p)
        return (parts, value)

    for v in ["0", "007", "7", "123", "", "a1", "1a", "١٢", "²", "99999999999999999999"]:
        assert id_key(v) == reference(v)


@pytest.mark.parametrize(
    "ids",
    [
        [str(i) for i in random.Random(1).sample(range(10**6), 5000)],
        ["007", "07", "7", "0", "00", "12", "3"],
        ["a1", "a10", "a2", "", "x", "1a", "١", "10", "9", "9" * 19, "²"],
        [],
    ],
)
def test_id_rank_sorts_like_the_natural_key(ids: list[str]) -> None:
    rank = id_rank(ids)
    assert sorted(ids, key=rank.__getitem__) == sorted(ids, key=id_key)


def test_sentence_table_interns_in_first_seen_order() -> None:
    texts = ["a。b。", "", "b。c!?d", "。。a。", "a。b。"]
    table = minhash.build_sentence_table(texts, block=2)
    ids: dict[str, int] = {}
    sids, ptr = [], [0]
    for t in texts:
        for p in minhash._SENT.findall(t) or [t]:
            sids.append(ids.setdefault(p, len(ids)))
        ptr.append(len(sids))
    assert table.sentences == list(ids)
    assert table.text_sids.tolist() == sids and table.text_ptr.tolist() == ptr


LETTER = "区役所の窓口を縮小する方針に反対します。高齢者が取り残されます。対面の相談窓口を維持してください。"


def _corpus() -> list[Opinion]:
    rng = random.Random(5)
    extra = ["連絡先は03-1234-5678です。", "山田さんに相談しました。", "〒102-8688 東京都千代田区九段南1-2-1", "",
             "メールは a.b@example.jp まで。", "氏名：鈴木一郎"]
    ops = []
    for i in range(400):
        if i % 3 == 0:
            text = LETTER
        elif i % 3 == 1:
            text = LETTER.replace("反対", "賛成できません") + rng.choice(extra)
        else:
            text = f"図書館{i % 17}の開館時間を延長してほしい。" + rng.choice(extra) + "公園も増やして。" * (i % 4)
        ops.append(Opinion(str(i), text, received_at=f"2025-01-10T10:00:{i % 60:02d}+09:00" if i % 5 == 0 else None))
    return ops


def test_the_report_does_not_depend_on_the_number_of_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    ops = _corpus()
    sections = [Section("s1", "窓口サービス", "対面の窓口 相談"), Section("s2", "図書館", "開館時間")]
    past = [PastItem("p1", "窓口を残してほしい", "窓口は維持します。"), PastItem("p2", "図書館を夜も開けて", "検討します。")]
    one = dumps(analyze(ops, sections=sections, past=past, workers=1))
    monkeypatch.setattr(parallel, "MIN_PARALLEL_ITEMS", 0)
    calls: list[tuple[str, int, int]] = []
    two = dumps(analyze(ops, sections=sections, past=past, workers=2, progress=lambda *a: calls.append(a)))
    assert one == two
    stages = list(dict.fromkeys(c[0] for c in calls))
    assert stages == ["normalize", "campaigns", "groups", "sections", "suggestions", "pii", "signals"]
    assert all(0 <= done <= total for _, done, total in calls)
    assert '"person_name"' in one and '"phone"' in one


def test_parallel_run_keeps_chunk_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL_ITEMS", 0)
    chunks = parallel.ranges(1000, 37)
    seen: list[int] = []
    got = parallel.run(_sum_chunk, list(range(1000)), chunks, workers=2, items=1000, done=seen.append)
    assert got == [sum(range(a, b)) for a, b in chunks]
    assert seen == list(range(1, len(chunks) + 1))


def _sum_chunk(state: list[int], chunk: tuple[int, int]) -> int:
    return sum(state[chunk[0] : chunk[1]])


def test_parallel_run_stays_in_process_beside_other_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a threaded app server (a staff page printing a run) a fork could copy a lock another
    thread holds; the chunks then run in the calling process, with the same results."""
    import threading

    monkeypatch.setattr(parallel, "MIN_PARALLEL_ITEMS", 0)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not parallel._can_fork()
        forked: list[int] = []
        monkeypatch.setattr(parallel.mp, "get_context", lambda *a: forked.append(1))
        chunks = parallel.ranges(100, 7)
        assert parallel.run(_sum_chunk, list(range(100)), chunks, workers=2, items=100) == [
            sum(range(a, b)) for a, b in chunks]
        assert forked == []
    finally:
        release.set()
        other.join()
