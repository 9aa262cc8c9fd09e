"""Benchmark of hiroba.analysis: campaign detection against datasketch, full report, PII recall.

    python bench/analysis.py --n 200000 --originals 8000 --copy-share 0.96
    python bench/analysis.py --full-report --n 1000000 --avg-chars 300
    python bench/analysis.py --n 5000 --originals 200            # quick smoke run
    python bench/analysis.py --calibrate-suggestions              # the suggestion threshold's table

A labelled Japanese corpus is generated deterministically (fixed seed): ``originals`` form
letters, copies of them (exact, or edited: synonym swaps, inserted/deleted sentences,
typos, width/spacing variants) making ``copy-share`` of the corpus, and organic opinions
composed from a varied vocabulary. Each engine runs in its own subprocess so that its peak
memory (``ru_maxrss``) is its own. The datasketch baseline gets the same exact-duplicate
collapse, the same shingles (our 32-bit shingle hashes, identity ``hashfunc``), the same
``num_perm`` (128) and the same threshold (0.5).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# ---------------------------------------------------------------- corpus

PLACES = "千代田区 九段 神田 麹町 番町 秋葉原 大手町 丸の内 飯田橋 神保町 富士見 和泉橋 万世橋 錦町 岩本町 小川町 淡路町 須田町 司町 東松下町".split()
THINGS = ("図書館 公園 保育園 学童保育 区役所の窓口 出張所 スポーツセンター 区民会館 防災倉庫 自転車駐輪場 "
          "コミュニティバス 高齢者センター 児童館 ごみ集積所 公衆トイレ 案内板 歩道橋 横断歩道 街路樹 "
          "オンライン申請 電子申請システム 区のホームページ マイナンバーカード窓口 キャッシュレス決済 "
          "スクールカレンダー 生成AI 区のアプリ 防災無線 子育て支援サービス 介護予防事業 地域通貨 町会の回覧板").split()
ISSUES = ("が古くなっています 利用時間が短すぎます 予約が取りにくいです 場所が分かりにくいです 手続きが複雑です "
          "説明が不十分です 混雑がひどいです 夜間に暗くて危険です 費用がかかりすぎます 使い方が難しいです "
          "高齢者には使いにくいです 情報が届いていません 案内が外国語に対応していません 待ち時間が長いです").split()
ASKS = ("改善してください 見直してほしいです 早急に対応を求めます 検討していただきたいです 予算を増やしてください "
        "説明会を開いてください 専門の職員を配置してください 利用者の声を聞いてください 計画を公表してください "
        "民間との連携を進めてください 段階的に実施してください 中止を求めます").split()
OPENERS = ("いつも区政にご尽力いただきありがとうございます 素案を拝見しました 区民として意見を申し上げます "
           "子育て世代の立場から意見します 高齢の母と暮らしている者です 区内で商店を営んでいます "
           "昨年転入してきた者です 町会の役員をしています").split()
CLOSERS = ("以上よろしくお願いいたします ご検討のほどお願い申し上げます 区の英断を期待しています "
           "前向きなご回答をお待ちしています 丁寧な説明をお願いします").split()
SYNONYMS = [("改善", "是正"), ("検討", "考慮"), ("早急", "速やか"), ("高齢者", "お年寄り"), ("区民", "住民"),
            ("お願い", "依頼"), ("意見", "考え"), ("難しい", "困難"), ("情報", "お知らせ"), ("利用", "使用"),
            ("費用", "コスト"), ("予算", "経費"), ("説明", "解説"), ("計画", "プラン"), ("期待", "希望")]
PERSONAL = ("私は{p}に{y}年住んでいます。 {p}の子どもを育てています。 毎朝{p}を通勤で通ります。 "
            "家族も同じ考えです。 近所の方とも話し合いました。 {p}の商店会でも話題になっています。").split()
KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわ"


def _sentence(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.55:
        return f"{rng.choice(PLACES)}の{rng.choice(THINGS)}{rng.choice(ISSUES)}。"
    if r < 0.85:
        return f"{rng.choice(THINGS)}について{rng.choice(ASKS)}。"
    n = rng.randrange(2, 40)
    return f"{rng.choice(THINGS)}は{rng.choice(PLACES)}に{n}か所ほど必要だと思います。"


def _letter(rng: random.Random, avg_chars: int) -> str:
    target = max(40, int(rng.gauss(avg_chars, avg_chars * 0.25)))
    parts = [rng.choice(OPENERS) + "。"]
    while sum(map(len, parts)) < target - 20:
        parts.append(_sentence(rng))
    parts.append(rng.choice(CLOSERS) + "。")
    return "".join(parts)


def _edit(text: str, rng: random.Random) -> str:
    sents = [s + "。" for s in text.split("。") if s]
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        if op < 0.3:
            a, b = rng.choice(SYNONYMS)
            sents = [s.replace(a, b) for s in sents]
        elif op < 0.5:
            sents.insert(rng.randrange(len(sents) + 1),
                         rng.choice(PERSONAL).format(p=rng.choice(PLACES), y=rng.randrange(2, 40)))
        elif op < 0.65 and len(sents) > 3:
            del sents[rng.randrange(1, len(sents) - 1)]
        elif op < 0.9:
            i = rng.randrange(len(sents))
            s = list(sents[i])
            s[rng.randrange(len(s))] = rng.choice(KANA)
            sents[i] = "".join(s)
        else:
            i = rng.randrange(len(sents))
            sents[i] = sents[i].replace("。", "！") if rng.random() < 0.5 else sents[i][:-1] + "です。"
    return "".join(sents)


def _variant_spacing(text: str, rng: random.Random) -> str:
    """An exact copy as typed differently: full-width digits, spaces, line breaks."""
    if rng.random() < 0.3:
        text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if rng.random() < 0.3:
        text = text.replace("。", "。\n")
    return text


def generate(n: int, originals: int, copy_share: float, avg_chars: int, seed: int = 20250313,
             exact_share: float = 0.5) -> tuple[list[str], list[int]]:
    """Texts and labels: label ``k < originals`` is campaign ``k``; organic opinions get
    unique labels ``>= originals``."""
    rng = random.Random(seed)
    n_camp = int(round(n * copy_share))
    originals = max(1, min(originals, n_camp))
    letters = [_letter(rng, avg_chars) for _ in range(originals)]
    texts: list[str] = []
    labels: list[int] = []
    for k in range(n_camp):
        c = k if k < originals else rng.randrange(originals)
        if k < originals or rng.random() < exact_share:
            texts.append(_variant_spacing(letters[c], rng) if k >= originals else letters[c])
        else:
            texts.append(_edit(letters[c], rng))
        labels.append(c)
    for k in range(n - n_camp):
        texts.append(_letter(rng, avg_chars))
        labels.append(originals + k)
    order = list(range(n))
    rng.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


# ---------------------------------------------------------------- metrics

def bcubed(pred: list[int], gold: list[int]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of cluster assignment ``pred`` against ``gold``."""
    pair = Counter(zip(pred, gold, strict=True))
    psize = Counter(pred)
    gsize = Counter(gold)
    n = len(pred)
    p = sum(c * c / psize[a] for (a, _), c in pair.items()) / n
    r = sum(c * c / gsize[b] for (_, b), c in pair.items()) / n
    return p, r, 2 * p * r / (p + r)


def campaign_pr(pred: list[int], gold: list[int], originals: int) -> tuple[float, float]:
    """Pairwise precision/recall of "these two submissions are in the same campaign"."""
    pair = Counter(zip(pred, gold, strict=True))
    psize = Counter(pred)
    gsize = Counter(g for g in gold if g < originals)
    tp = sum(c * (c - 1) / 2 for (_, g), c in pair.items() if g < originals)
    pp = sum(c * (c - 1) / 2 for c in psize.values())
    gp = sum(c * (c - 1) / 2 for c in gsize.values())
    return (tp / pp if pp else 1.0), (tp / gp if gp else 1.0)


# ---------------------------------------------------------------- engines (run in a child process)

def engine_hiroba(texts: list[str]) -> list[int]:
    from hiroba.analysis.campaigns import find_campaigns

    ids = [str(i) for i in range(len(texts))]
    campaigns, _, _ = find_campaigns(ids, texts)
    pred = list(range(len(texts)))
    for c in campaigns:
        lab = len(texts) + int(c["id"][1:])
        for i in c["member_ids"]:
            pred[int(i)] = lab
    return pred


def engine_datasketch(texts: list[str]) -> list[int]:
    import numpy as np
    from datasketch import MinHash, MinHashLSH

    from hiroba.analysis import minhash
    from hiroba.analysis.campaigns import CampaignParams, collapse_exact

    p = CampaignParams()
    dedup = collapse_exact(texts)
    table = minhash.build_sentence_table(dedup.texts)
    hashes, sptr = minhash.shingle_hashes(table.sentences, p.shingle_size)
    lsh = MinHashLSH(threshold=p.jaccard_threshold, num_perm=p.num_perm)
    sigs = []
    for t in range(len(dedup.texts)):
        sids = table.text_sids[table.text_ptr[t] : table.text_ptr[t + 1]]
        # the same sorted unique array as np.unique, which is slow in numpy 2.4 (it would
        # handicap the baseline by about a third of its time)
        sh = minhash.sorted_unique(np.concatenate([hashes[sptr[s] : sptr[s + 1]] for s in sids]))
        m = MinHash(num_perm=p.num_perm, hashfunc=int)
        m.update_batch(sh)
        lsh.insert(t, m)
        sigs.append(m)
    parent = list(range(len(dedup.texts)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t, m in enumerate(sigs):
        for u in lsh.query(m):
            if u != t and m.jaccard(sigs[u]) >= p.jaccard_threshold:
                a, b = find(t), find(u)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    pred = [0] * len(texts)
    for d, members in enumerate(dedup.members):
        for i in members:
            pred[i] = find(d)
    return pred


def engine_report(texts: list[str]) -> dict[str, object]:
    from hiroba.analysis import Opinion, analyze

    t_build = time.perf_counter()
    rng = random.Random(5)
    ops = []
    for i, t in enumerate(texts):
        meta: dict[str, str] = {}
        if i % 10 == 0:
            meta["received_at"] = f"2025-01-{5 + i % 15:02d}T{(i // 60) % 24:02d}:{i % 60:02d}:{rng.randrange(60):02d}+09:00"
            meta["email"] = f"user{i % 5000}@{'mailinator.com' if i % 97 == 0 else 'example.jp'}"
        if i % 50 == 0:
            t = t + f"連絡先は0{rng.randrange(3, 9)}-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}です。"
        ops.append(Opinion(str(i), t, **meta))
    starts: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        starts.setdefault(stage, time.perf_counter())

    t0 = time.perf_counter()
    build_s = t0 - t_build
    report = analyze(ops, progress=progress)
    end = time.perf_counter()
    names = list(starts)
    stages = {s: round((starts[names[k + 1]] if k + 1 < len(names) else end) - starts[s], 1)
              for k, s in enumerate(names)}
    del ops
    t1 = time.perf_counter()
    from hiroba.analysis import dumps

    size = len(dumps(report).encode("utf-8"))
    dump_s = time.perf_counter() - t1
    return {"counts": {"campaigns": len(report["campaigns"]), "groups": len(report["groups"]),
                       "distinct": report["n_distinct"], "pii_texts": len(report["pii"]),
                       "bursts": len(report["signals"]["bursts"])},
            "stages": stages, "setup_s": round(build_s, 1),
            "dumps_s": round(dump_s, 1), "report_mb": round(size / 1e6)}


class TreeMemory:
    """Peak memory of this process and its children, sampled twice a second from
    ``/proc/PID/smaps_rollup`` as PSS (proportional set size: a page shared by the parent and
    its forked workers counts once in the sum, unlike RSS). Linux only; 0 elsewhere."""

    def __init__(self) -> None:
        import threading

        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _pss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _children(self, pid: int) -> list[int]:
        try:
            with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            return []
        return kids + [g for k in kids for g in self._children(k)]

    def _run(self) -> None:
        import os

        me = os.getpid()
        while not self._stop.wait(0.5):
            total = sum(self._pss_kb(p) for p in [me, *self._children(me)])
            self.peak_mb = max(self.peak_mb, total / 1024)


def child(engine: str, corpus: str, out: str) -> None:
    with open(corpus, encoding="utf-8") as f:
        texts = json.load(f)
    mem = TreeMemory().__enter__()
    t0 = time.perf_counter()
    if engine == "hiroba":
        result: object = engine_hiroba(texts)
    elif engine == "datasketch":
        result = engine_datasketch(texts)
    else:
        result = engine_report(texts)
    seconds = time.perf_counter() - t0
    mem.__exit__()
    if engine == "report":  # the report's timing excludes serialisation (measured separately)
        seconds -= result["dumps_s"]  # type: ignore[index]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # worker processes forked by the analysis (their RSS includes pages shared with the parent)
    workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"seconds": seconds, "peak_mb": peak_mb, "workers_peak_mb": workers_mb, "tree_pss_mb": mem.peak_mb,
                   "result": result}, f)


def run_child(engine: str, texts: list[str], tmp: Path) -> dict:
    corpus = tmp / f"corpus-{engine}.json"
    corpus.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    out = tmp / f"out-{engine}.json"
    subprocess.run([sys.executable, __file__, "--child", engine, str(corpus), str(out)], check=True)
    corpus.unlink()
    return json.loads(out.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- PII recall

def pii_cases(n_per_kind: int = 100, seed: int = 7) -> list[tuple[str, int, int, str]]:
    from hiroba.analysis.pii import valid_individual_number

    rng = random.Random(seed)
    fw = str.maketrans("0123456789-()+@.", "０１２３４５６７８９－（）＋＠．")
    def maybe_fw(s: str) -> str:
        return s.translate(fw) if rng.random() < 0.3 else s
    cases: list[tuple[str, str, str]] = []
    for _ in range(n_per_kind):
        a, b = rng.randrange(1000, 9999), rng.randrange(1000, 9999)
        fmt = rng.choice(["03-{a}-{b}", "03{a}{b}", "(03){a}-{b}", "03({a}){b}", "+81-3-{a}-{b}", "+81 3 {a} {b}",
                          "090-{a}-{b}", "080{a}{b}", "+81-90-{a}-{b}", "0120-{c}-{d}", "0570-{c}-{d}",
                          "045-{e}-{b}", "0466-{f}-{b}", "050-{a}-{b}", "+81 (0)3 {a} {b}"])
        cases.append(("phone", maybe_fw(fmt.format(a=a, b=b, c=rng.randrange(100, 999), d=rng.randrange(100, 999),
                                                   e=rng.randrange(100, 999), f=rng.randrange(10, 99))), "電話"))
        user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(3, 10)))
        dom = rng.choice(["example.jp", "city.chiyoda.lg.jp", "mail.example.com", "gmail.com"])
        email = rng.choice([f"{user}@{dom}", f"{user}.{user[:2]}@{dom}", f"{user}+pc@{dom}"])
        cases.append(("email", maybe_fw(email) if rng.random() < 0.5 else email, "メール"))
        z = f"{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"
        cases.append(("postal_code", rng.choice([f"〒{z}", f"〒{z.replace('-', '')}", f"〒{maybe_fw(z)}"]), "住所"))
        while True:
            body = "".join(str(rng.randrange(10)) for _ in range(11))
            num = next(body + str(c) for c in range(10) if valid_individual_number(body + str(c)))
            break
        sep = rng.choice(["", " ", "-", "　"])
        cases.append(("individual_number", maybe_fw(sep.join([num[:4], num[4:8], num[8:]])), "個人番号は"))
        town = rng.choice(["千代田区九段南", "千代田区神田須田町", "新宿区西新宿", "横浜市中区山下町", "東京都千代田区丸の内"])
        addr = rng.choice([f"{town}{rng.randrange(1, 5)}-{rng.randrange(1, 30)}-{rng.randrange(1, 20)}",
                           f"{town}{'一二三四'[rng.randrange(4)]}丁目{rng.randrange(1, 30)}番{rng.randrange(1, 20)}号",
                           f"{town}{rng.randrange(1, 99)}番地"])
        cases.append(("address", maybe_fw(addr), "住所は"))
    out = []
    for kind, value, label in cases:
        pre = f"{label}{rng.choice(['', '：', ' '])}"
        text = f"区の施策について意見します。{pre}{value}{rng.choice(['です。', 'まで。', ' よろしく。'])}2025年3月10日、10,119件。"
        out.append((text, len(pre) + len("区の施策について意見します。"), len(value), kind))
    return [(t, s, s + ln, k) for t, s, ln, k in out]


def pii_recall() -> None:
    from hiroba.analysis.pii import find_pii

    cases = pii_cases()
    hit: Counter[str] = Counter()
    total: Counter[str] = Counter()
    false_pos = 0
    for text, a, b, kind in cases:
        total[kind] += 1
        spans = find_pii(text, names=False)
        if any(s["start"] == a and s["end"] == b and s["kind"] == kind for s in spans):
            hit[kind] += 1
        false_pos += sum(1 for s in spans if not (s["start"] == a and s["end"] == b))
    print(f"PII recall over {len(cases)} generated cases (exact span and kind):")
    for kind in sorted(total):
        print(f"  {kind:18s} {hit[kind]}/{total[kind]} = {hit[kind] / total[kind]:.3f}")
    print(f"  other spans reported (false positives on dates/counts/context): {false_pos}")


# ---------------------------------------------------------------- main

SEED = ROOT / "src" / "hiroba" / "consultations" / "fixtures" / "chiyoda-dx-strategy-2025" / "consultation.json"
UNRELATED = ROOT / "tests" / "analysis" / "data" / "unrelated_opinions.json"


def calibrate_suggestions() -> None:
    """Print the calibration table of ``SuggestParams.min_score`` (docs/analysis.md, *Suggestions*)."""
    from hiroba.analysis import Opinion, PastItem
    from hiroba.analysis.calibrate import calibrated_threshold, suggestion_calibration
    from hiroba.analysis.suggest import MIN_SCORE

    items = json.loads(SEED.read_text(encoding="utf-8"))["items"]
    past = [PastItem(str(it["no"]), it["opinion"], it["response"]) for it in items]
    unrelated = [Opinion(u["id"], u["text"]) for u in json.loads(UNRELATED.read_text(encoding="utf-8"))["items"]]
    rows = suggestion_calibration(past, unrelated)
    print("threshold  exact  related  unrelated opinions with a suggestion (suggestions)   J")
    for r in rows:
        print(f"{r.threshold:.3f}      {r.exact}/{r.exact_ceiling}    {r.related}/{r.related_ceiling}      "
              f"{r.unrelated_with_suggestion:2d}/{r.unrelated} ({r.unrelated_shown:2d})   {r.j:.3f}")
    print(f"calibrated threshold: {calibrated_threshold(rows)} (SuggestParams.min_score = {MIN_SCORE})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--originals", type=int, default=8000)
    ap.add_argument("--copy-share", type=float, default=0.96)
    ap.add_argument("--exact-share", type=float, default=0.5, help="share of copies that are exact (else edited)")
    ap.add_argument("--avg-chars", type=int, default=250)
    ap.add_argument("--baseline-max", type=int, default=40_000,
                    help="run datasketch on a sample of this many texts (whole campaigns) and scale its time")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--full-report", action="store_true", help="run the whole report instead of the comparison")
    ap.add_argument("--calibrate-suggestions", action="store_true",
                    help="print the calibration table of the answer-suggestion threshold and stop")
    ap.add_argument("--child", nargs=3, metavar=("ENGINE", "CORPUS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.calibrate_suggestions:
        calibrate_suggestions()
        return

    t0 = time.perf_counter()
    texts, labels = generate(args.n, args.originals, args.copy_share, args.avg_chars, exact_share=args.exact_share)
    chars = sum(map(len, texts))
    print(f"corpus: {len(texts)} texts, {args.originals} originals, copy share {args.copy_share}, "
          f"exact share {args.exact_share}, avg {chars / len(texts):.0f} chars, generated in {time.perf_counter() - t0:.1f}s")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.full_report:
            r = run_child("report", texts, tmp)
            res = r["result"]
            print(f"full report: {r['seconds']:.1f}s, peak RSS {r['peak_mb']:.0f} MB, {res['counts']}")
            print(f"memory: largest worker RSS {r['workers_peak_mb']:.0f} MB (pages shared with the parent included); "
                  f"peak PSS of parent + workers together {r['tree_pss_mb']:.0f} MB")
            print("stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in res["stages"].items())
                  + f" (building the Opinion objects {res['setup_s']:.1f}s; dumps() of the {res['report_mb']} MB report "
                  f"{res['dumps_s']:.1f}s, not included)")
            pii_recall()
            return
        h = run_child("hiroba", texts, tmp)
        p, r, f = bcubed(h["result"], labels)
        cp, cr = campaign_pr(h["result"], labels, args.originals)
        print(f"hiroba:     {h['seconds']:.2f}s, peak RSS {h['peak_mb']:.0f} MB, campaign pair P={cp:.4f} R={cr:.4f}, "
              f"B-cubed P={p:.4f} R={r:.4f} F1={f:.4f}")
        if not args.no_baseline:
            if len(texts) > args.baseline_max:
                rng = random.Random(1)
                keep_labels = set(rng.sample(sorted(set(labels)), k=max(1, int(len(set(labels)) * args.baseline_max / len(texts)))))
                idx = [i for i, lab in enumerate(labels) if lab in keep_labels]
                s_texts, s_labels = [texts[i] for i in idx], [labels[i] for i in idx]
                hs = run_child("hiroba", s_texts, tmp)
                scale = True
            else:
                s_texts, s_labels, hs, scale = texts, labels, h, False
            b = run_child("datasketch", s_texts, tmp)
            bp, br, bf = bcubed(b["result"], s_labels)
            bcp, bcr = campaign_pr(b["result"], s_labels, args.originals)
            note = ""
            if scale:
                note = (f" [SAMPLED: {len(s_texts)} of {len(texts)} texts (whole campaigns); hiroba on the same sample "
                        f"{hs['seconds']:.2f}s]")
            print(f"datasketch: {b['seconds']:.2f}s, peak RSS {b['peak_mb']:.0f} MB, campaign pair P={bcp:.4f} R={bcr:.4f}, "
                  f"B-cubed P={bp:.4f} R={br:.4f} F1={bf:.4f}{note}")
            est = b["seconds"] * len(texts) / len(s_texts) if scale else b["seconds"]
            ratio_same = b["seconds"] / hs["seconds"]
            print(f"speed: hiroba is {ratio_same:.1f}x faster than datasketch on the same input"
                  + (f"; datasketch scaled linearly to {len(texts)} texts ≈ {est:.0f}s → {est / h['seconds']:.1f}x" if scale else ""))
        pii_recall()


if __name__ == "__main__":
    main()
