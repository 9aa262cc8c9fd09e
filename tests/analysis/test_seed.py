"""The seed consultation: 12 real opinions with the ward's answers."""

import json
from pathlib import Path

from hiroba.analysis import Opinion, Params, PastItem, analyze
from hiroba.analysis.calibrate import calibrated_threshold, suggestion_calibration
from hiroba.analysis.normalize import fingerprint
from hiroba.analysis.suggest import SuggestParams

# ../shared beside the clone, both in development (/work/main + /work/shared) and in CI
_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "chiyoda-dx-strategy-2025" / "consultation.json"
# the copy hiroba ships (src/hiroba/consultations/fixtures, identical) when shared/ is not beside the clone
_SHIPPED = Path(__file__).resolve().parents[2] / "src" / "hiroba" / "consultations" / "fixtures" / "chiyoda-dx-strategy-2025" / "consultation.json"
SEED = _SHARED if _SHARED.exists() else _SHIPPED



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


UNRELATED = Path(__file__).resolve().parent / "data" / "unrelated_opinions.json"


def test_leave_one_out_answer_suggestions() -> None:
    # the ranking, without the threshold: every item gets its 3 best answers
    its = items()
    exact = soft = 0
    ranking = Params(suggest=SuggestParams(min_score=0.0))
    for it in its:
        past = [PastItem(str(o["no"]), o["opinion"], o["response"]) for o in its if o["no"] != it["no"]]
        report = analyze([Opinion(str(it["no"]), it["opinion"])], past=past, params=ranking)
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


def _calibration() -> list:
    past = [PastItem(str(it["no"]), it["opinion"], it["response"]) for it in items()]
    unrelated = [Opinion(u["id"], u["text"]) for u in json.loads(UNRELATED.read_text(encoding="utf-8"))["items"]]
    return suggestion_calibration(past, unrelated)


def test_the_default_suggestion_threshold_is_the_calibrated_one() -> None:
    rows = _calibration()
    for r in rows:
        print(f"{r.threshold:.3f} exact {r.exact}/{r.exact_ceiling} related {r.related}/{r.related_ceiling} "
              f"unrelated {r.unrelated_with_suggestion}/{r.unrelated} J {r.j:.3f}")
    assert SuggestParams().min_score == calibrated_threshold(rows) == 0.07
    at = {r.threshold: r for r in rows}
    # the figures docs/analysis.md gives: without a threshold every unrelated opinion gets three
    # suggestions; at 0.07, 3/4 exact and 6/7 related hits stay, 7 of 30 unrelated opinions keep one
    assert (at[0.0].exact, at[0.0].related, at[0.0].unrelated_with_suggestion, at[0.0].unrelated_shown) == (4, 7, 30, 90)
    assert (at[0.07].exact, at[0.07].related, at[0.07].unrelated_with_suggestion, at[0.07].unrelated_shown) == (3, 6, 7, 7)
    # the scores the issue saw for unrelated opinions (0.04-0.06) are all below it
    assert at[0.04].unrelated_with_suggestion > at[0.07].unrelated_with_suggestion


def test_an_unrelated_opinion_gets_no_suggestion_and_the_report_says_why() -> None:
    past = [PastItem(str(it["no"]), it["opinion"], it["response"]) for it in items()]
    # a bench in a children's park: scored 0.0326 against item 11 (「児童」) before the threshold
    report = analyze([Opinion("u1", "神田の児童遊園のベンチが古くなっています。座ると板がきしむので、早めに交換してください。")],
                     past=past)
    assert report["suggestions"]["u1"] == []
    why = report["suggestions_withheld"]["u1"]
    assert why["threshold"] == 0.07 and 0 < why["best_score"] < 0.07
    assert why["past_id"] and why["shared_terms"]
    # a related opinion still gets its suggestions, with nothing withheld
    report = analyze([Opinion("8b", items()[7]["opinion"])], past=past)
    assert report["suggestions"]["8b"] and "8b" not in report["suggestions_withheld"]


def test_group_terms_are_content_words_not_light_verbs_or_markup() -> None:
    # item 8 says 「嘘をつくのである」; a restatement pasted with a script tag joins it
    ops = [Opinion(str(it["no"]), it["opinion"]) for it in items()]
    ops.append(Opinion("13", "生成AIの活用は止めるべきです。生成AIには再現性がなく、業務の道具として不完全でリスクが大きい。"
                       "同じプロンプトを入力しても回答が再現できず、問題の原因究明もできません。"))
    ops.append(Opinion("14", "生成AIは嘘をつくので止めてください。<script>alert(1)</script>"))
    report = analyze(ops)
    group = next(g for g in report["groups"] if "13" in g["member_ids"])
    assert {"8", "14"} <= set(group["member_ids"])
    words = set(group["terms"]) | set(group["evidence"]["common_terms"])
    words |= {t for u in group["units"] for t in u["shared_terms"]}
    assert "生成AI" in words
    assert not words & {"つく", "付く", "スクリプト", "アラート"}, words
