"""A realistic generated shared folder (for the demo, the tests and the benchmark).

Departments' shares with the four zones, fiscal-year folders, well and badly named files
(「最新」「コピー」「新しいフォルダー」, personal names, 丸数字, Office lock files, names too long),
folders nested too deep, exact duplicates (about `dup_share` of the files), work files not
touched for a year. Deterministic for a seed; small file sizes, so a million files fit in a few GB.
Pure Python (no Django).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

ZONES = ["00_全庁共有", "10_所属共有", "20_作業用", "30_保存用"]
TOPICS = ["予算要求", "決算資料", "議会答弁", "区民意見募集", "事業計画", "委託契約", "会議録", "研修資料", "統計調査",
          "例規改正", "広報原稿", "施設点検", "補助金交付", "情報公開請求", "監査対応"]
KINDS = [("議事録", ".docx"), ("集計表", ".xlsx"), ("説明資料", ".pptx"), ("報告書", ".pdf"), ("メモ", ".txt"),
         ("名簿", ".csv"), ("起案文", ".docx"), ("写真", ".jpg")]
BAD = ["{topic}{kind} - コピー{ext}", "{topic}{kind}（最新）{ext}", "{topic}{kind}_最終版{ext}", "~${topic}{kind}{ext}",
       "田中さん用_{topic}{ext}", "{topic} 第①回{kind}{ext}",
       "令和6年度{topic}に係る{kind}の作成及び関係各課への照会と回答のとりまとめ結果{ext}"]


def fiscal_prefix(fy: int) -> str:
    return f"R{fy - 2018:02d}_" if fy >= 2019 else f"H{fy - 1988:02d}_"


def generate(root: str | os.PathLike[str], *, files: int = 2000, seed: int = 17, dup_share: float = 0.05,
             bad_share: float = 0.08, stale_share: float = 0.3, departments: int | None = None,
             now: float | None = None, size_mu: float = 8.5) -> dict[str, int]:
    """Write about `files` files under `root`; return what was made (files, duplicates, bytes)."""
    rng = random.Random(seed)
    now = now or time.time()
    root = Path(root)
    n_depts = departments or max(1, min(12, files // 150))
    # a folder per 2,000 files or so on big trees (a real share spreads them out)
    spread = max(1, files // (n_depts * 4 * 12 * 150))
    depts = [f"{i:02d}_{name}" for i, name in enumerate(
        ["総務課", "企画課", "財政課", "情報システム課", "区民課", "福祉総務課", "高齢介護課", "子育て推進課", "環境政策課",
         "道路公園課", "学務課", "指導課"][:n_depts], start=1)]
    made = {"files": 0, "duplicates": 0, "bytes": 0, "bad": 0, "stale": 0}
    originals: list[Path] = []
    folders: dict[str, list[Path]] = {}
    for dept in depts:
        for zone in ZONES:
            if zone == "30_保存用":
                subs = [f"{fiscal_prefix(fy)}{rng.choice(TOPICS)}" for fy in range(2016, 2026)]
                subs += ["新しいフォルダー", "予算関係"]
            elif zone == "20_作業用":
                subs = ["庶務係", "計画係", "佐藤作業"]
            else:
                subs = [rng.choice(TOPICS) for _ in range(3)]
            if spread > 1:
                subs = [f"{sub}_{k:03d}" if zone != "30_保存用" else f"{sub}{'' if k == 0 else f'_{k:03d}'}"
                        for sub in subs for k in range(spread)]
            paths = []
            for sub in dict.fromkeys(subs):
                p = root / dept / zone / sub
                if rng.random() < 0.05:
                    p = p / "作業" / "旧" / "確認" / "その他" / "さらに" / "深い"
                p.mkdir(parents=True, exist_ok=True)
                paths.append(p)
            folders[f"{dept}/{zone}"] = paths
    keys = list(folders)
    target_dups = int(files * dup_share)
    i = 0
    while made["files"] < files:
        key = keys[i % len(keys)]
        folder = rng.choice(folders[key])
        topic, (kind, ext) = rng.choice(TOPICS), rng.choice(KINDS)
        fy = rng.randint(2016, 2025)
        if rng.random() < bad_share:
            name = rng.choice(BAD).format(topic=topic, kind=kind, ext=ext)
            made["bad"] += 1
        else:
            name = f"{fiscal_prefix(fy)}{topic}{kind}_{i:06d}{ext}"
        path = folder / name
        if path.exists():
            name = f"{fiscal_prefix(fy)}{topic}{kind}_{i:06d}{ext}"
            path = folder / name
        if originals and made["duplicates"] < target_dups and rng.random() < dup_share * 1.5:
            source = rng.choice(originals)
            data = source.read_bytes()
            made["duplicates"] += 1
        else:
            size = int(rng.lognormvariate(size_mu, 1.2)) % 400_000 + 1
            data = rng.randbytes(size)
            originals.append(path)
            if len(originals) > 5000:
                originals.pop(rng.randrange(len(originals)))
        path.write_bytes(data)
        age_days = rng.uniform(0, 3650)
        if "20_作業用" in key:
            age_days = rng.uniform(200, 800) if rng.random() < stale_share else rng.uniform(0, 150)
            if age_days >= 200:
                made["stale"] += 1
        mtime = now - age_days * 86400
        os.utime(path, (mtime, mtime))
        made["files"] += 1
        made["bytes"] += len(data)
        i += 1
    return made
