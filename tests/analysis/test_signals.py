"""Submission signals."""

from hiroba.analysis.model import Opinion
from hiroba.analysis.signals import find_signals


def test_it_finds_a_window_burst_and_reused_identities() -> None:
    ops = [Opinion(str(i), "x", received_at=f"2025-01-10T10:00:{i * 5:02d}", name="千代田 太郎" if i < 4 else f"n{i}",
                   email="a@Example.jp" if i % 2 else f"b{i}@sharklasers.com")
           for i in range(12)]
    ops.append(Opinion("late", "x", received_at="2025-01-11T10:00:00+09:00"))
    ops.append(Opinion("bad", "x", received_at="yesterday"))
    s = find_signals(ops)
    [burst] = s["bursts"]
    assert burst["kind"] == "window" and burst["count"] == 12 and "late" not in burst["ids"]
    assert burst["start"] == "2025-01-10T10:00:00+09:00" and burst["same_second"] == []
    found = {tuple(x["fields"]): (x["values"], x["count"]) for x in s["shared_identities"]}
    assert found[("name",)] == ({"name": "千代田太郎"}, 4)
    assert found[("email",)] == ({"email": "a@example.jp"}, 6)
    assert [d["submission"] for d in s["disposable_emails"]] == ["0", "2", "4", "6", "8", "10"]
    assert s["invalid_received_at"] == ["bad"]
    assert s["n_submissions"] == 14 and s["without_received_at"] == 0


def test_it_is_quiet_without_metadata() -> None:
    s = find_signals([Opinion("1", "x"), Opinion("2", "x")])
    assert s["bursts"] == [] and s["shared_identities"] == [] and s["disposable_emails"] == []


def test_items_cut_from_one_letter_are_one_submission() -> None:
    # three letters, each cut into four items: one address on three submissions, not twelve
    ops = [Opinion(f"{letter}{k}", "x", name=f"区民{letter}", address="千代田区九段南1-2-1", submission=f"DX-{letter}")
           for letter in "abc" for k in range(4)]
    s = find_signals(ops)
    [shared] = s["shared_identities"]
    assert shared["fields"] == ["address"] and shared["count"] == 3
    assert shared["submissions"] == ["DX-a", "DX-b", "DX-c"] and len(shared["ids"]) == 12
    assert s["n_submissions"] == 3 and s["with_metadata"]["address"] == 3
    # two letters from one address are below the threshold of three, whatever their items
    assert find_signals(ops[:8])["shared_identities"] == []


def test_submissions_without_a_usable_time_make_no_burst() -> None:
    # imported submissions of a past case: their time is unknown (None), not the closing second
    ops = [Opinion(str(i), "x", name=f"n{i}", submission=f"s{i}") for i in range(12)]
    s = find_signals(ops)
    assert s["bursts"] == [] and s["with_metadata"]["received_at"] == 0
    assert s["without_received_at"] == 12 and s["invalid_received_at"] == []


def test_each_finding_is_reported_once() -> None:
    # twelve submissions in one second, from one person: one burst, one shared identity
    ops = [Opinion(str(i), "x", received_at="2025-01-20T23:59:59+09:00", name="山田花子",
                   email="hanako@example.jp", address="千代田区九段南1-2-1") for i in range(1, 13)]
    s = find_signals(ops)
    [burst] = s["bursts"]
    assert burst["kind"] == "same_second" and burst["count"] == 12 and burst["start"] == burst["end"]
    [shared] = s["shared_identities"]
    assert shared["fields"] == ["name", "email", "address"] and shared["count"] == 12
    # five more in the same second a minute later: a burst of its own, also once
    ops += [Opinion(f"b{i}", "x", received_at="2025-01-21T00:01:30+09:00") for i in range(5)]
    bursts = find_signals(ops)["bursts"]
    assert [(b["kind"], b["count"]) for b in bursts] == [("same_second", 12), ("same_second", 5)]
    # a same-second cluster inside a longer run is listed with the run, not as a second burst
    spread = [Opinion(f"w{i}", "x", received_at=f"2025-01-10T10:00:{i * 4:02d}+09:00") for i in range(10)]
    spread += [Opinion(f"z{i}", "x", received_at="2025-01-10T10:00:20+09:00") for i in range(5)]
    [run] = find_signals(spread)["bursts"]
    assert run["kind"] == "window" and run["count"] == 15
    assert run["same_second"] == [{"at": "2025-01-10T10:00:20+09:00", "count": 6}]
