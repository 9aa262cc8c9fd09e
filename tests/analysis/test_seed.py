"""The seed consultation: 12 real opinions with the ward's answers."""

import json
from pathlib import Path

from hiroba.analysis import Opinion, PastItem, analyze
from hiroba.analysis.normalize import fingerprint

# ../shared beside the clone, both in development (/work/main + /work/shared) and in CI
SEED = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "chiyoda-dx-strategy-2025" / "consultation.json"



def items() -> list[dict]:
    return json.loads(SEED.read_text(encoding="utf-8"))["items"]


def test_the_twelve_distinct_opinions_are_not_merged() -> None:
    report = analyze([Opinion(str(it["no"]), it["opinion"]) for it in items()])
    assert report["n_opinions"] == 12
    assert report["n_distinct"] == 12
    assert report["campaigns"] == []
    # twelve submitters on twelve different subjects: no same-intent group at the default threshold
    assert report["groups"] == []
    assert report["ungrouped_ids"] == [str(n) for n in range(1, 13)]
    # the only personal data: a minister's name quoted in item 1, and a URL
    assert [s["kind"] for s in report["pii"]["1"]] == ["person_name", "url"]


def test_a_restated_opinion_joins_its_original_in_a_group() -> None:
    its = items()
    ops = [Opinion(str(it["no"]), it["opinion"]) for it in its]
    ops.append(Opinion("13", "生成AIの活用は止めるべきです。生成AIには再現性がなく、業務の道具として不完全でリスクが大きい。"
                       "同じプロンプトを入力しても回答が再現できず、問題の原因究明もできません。"))
    report = analyze(ops)
    group = next(g for g in report["groups"] if "13" in g["member_ids"])
    assert "8" in group["member_ids"]
    assert "生成AI" in group["terms"] or "生成" in group["terms"]


def test_leave_one_out_answer_suggestions() -> None:
    its = items()
    exact = soft = 0
    for it in its:
        past = [PastItem(str(o["no"]), o["opinion"], o["response"]) for o in its if o["no"] != it["no"]]
        report = analyze([Opinion(str(it["no"]), it["opinion"])], past=past)
        suggested = [fingerprint(s["answer"]) for s in report["suggestions"][str(it["no"])]]
        assert len(suggested) == 3
        actual = fingerprint(it["response"])
        exact += actual in suggested
        soft += any(a in actual or actual in a for a in suggested)
    print(f"leave-one-out: exact answer in top 3: {exact}/12 = {exact / 12:.3f}; "
          f"standard answer contained: {soft}/12 = {soft / 12:.3f}")
    # only items 2, 3, 4 and 6 share an identical answer, so 4/12 is the ceiling for exact hits;
    # only items 2-6, 9 and 11 have a past answer containing or contained in theirs: 7/12 is
    # the ceiling for the soft measure. Measured: 4/12 and 7/12 (3/12 and 7/12 before the
    # answers' words were added to the past items' vectors).
    assert exact >= 4
    assert soft >= 7
