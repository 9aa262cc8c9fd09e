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
    [burst] = [b for b in s["bursts"] if b["kind"] == "window"]
    assert burst["count"] == 12 and "late" not in burst["ids"]
    assert burst["start"] == "2025-01-10T10:00:00+09:00"
    fields = {(x["field"], x["value"]): x["count"] for x in s["shared_identities"]}
    assert fields[("name", "千代田太郎")] == 4
    assert fields[("email", "a@example.jp")] == 6
    assert [d["id"] for d in s["disposable_emails"]] == ["0", "2", "4", "6", "8", "10"]
    assert s["invalid_received_at"] == ["bad"]


def test_it_is_quiet_without_metadata() -> None:
    s = find_signals([Opinion("1", "x"), Opinion("2", "x")])
    assert s["bursts"] == [] and s["shared_identities"] == [] and s["disposable_emails"] == []
