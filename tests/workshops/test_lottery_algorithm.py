"""The lottery algorithm (hiroba-lottery-v1), checked against an independent re-implementation."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiroba.workshops import lottery

NUMBERS = [f"R7-JHS-{n:04d}" for n in (1, 2, 3, 5, 8, 13, 21)]


def independent_order(public_value: str, numbers: list[str]) -> list[str]:
    """Written from docs/workshops.md alone, without reading lottery.py."""
    seed = hashlib.sha256(public_value.encode("utf-8")).digest()
    keyed = [(hmac.new(seed, n.encode("utf-8"), hashlib.sha256).hexdigest(), n) for n in numbers]
    return [n for _, n in sorted(keyed)]


def test_the_seed_is_the_sha256_of_the_public_value():
    assert lottery.seed_from_public_value("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_the_order_matches_an_independent_computation():
    seed = lottery.seed_from_public_value("2025-07-28 4821")
    assert lottery.draw_order(seed, NUMBERS) == independent_order("2025-07-28 4821", NUMBERS)


def test_a_known_order_stays_the_same_across_releases():
    # A frozen vector: if this ever changes, published lotteries could no longer be verified.
    seed = lottery.seed_from_public_value("hiroba")
    assert lottery.draw_order(seed, ["A-0001", "A-0002", "A-0003"]) == independent_order(
        "hiroba", ["A-0001", "A-0002", "A-0003"])
    assert lottery.draw_key(seed, "A-0001") == hmac.new(
        hashlib.sha256(b"hiroba").digest(), b"A-0001", hashlib.sha256).hexdigest()


@given(st.lists(st.from_regex(r"[A-Z0-9]{1,4}-[0-9]{4}", fullmatch=True), unique=True, max_size=40),
       st.text(min_size=1, max_size=30))
def test_the_order_is_a_permutation_independent_of_input_order(numbers, public_value):
    seed = lottery.seed_from_public_value(public_value)
    order = lottery.draw_order(seed, numbers)
    assert sorted(order) == sorted(numbers)
    assert lottery.draw_order(seed, list(reversed(numbers))) == order


def test_the_entry_list_round_trips_and_its_digest_is_of_the_bytes():
    text = lottery.entries_text({"B-0002": "中学2年", "A-0001": "中学1年"})
    assert text == "A-0001\t中学1年\nB-0002\t中学2年\n"
    assert lottery.parse_entries(text) == {"A-0001": "中学1年", "B-0002": "中学2年"}
    assert lottery.digest(text) == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("text", ["B-0002\nA-0001\n", "A-0001\nA-0001\n", "A-0001\n\n", " A-0001\n"])
def test_a_malformed_entry_list_is_refused(text):
    with pytest.raises(ValueError):
        lottery.parse_entries(text)


def test_seats_go_down_the_order_then_the_waiting_list_then_the_rest():
    order = ["c", "a", "e", "b", "d"]
    result = lottery.allocate(order, {}, capacity=2, waitlist_size=2)
    assert (result.selected, result.waitlist, result.not_selected) == (["c", "a"], ["e", "b"], ["d"])


def test_quota_seats_are_filled_first_in_draw_order_and_transparently():
    order = ["c", "a", "e", "b", "d"]
    groups = {"a": "中1", "b": "中2", "c": "中1", "d": "中3", "e": "中1"}
    result = lottery.allocate(order, groups, capacity=3, waitlist_size=1, quotas={"中3": 1, "中2": 1})
    assert result.quota_picks == {"中2": ["b"], "中3": ["d"]}
    assert result.selected == ["c", "b", "d"]  # listed in draw order
    assert result.waitlist == ["a"] and result.not_selected == ["e"]


def test_quotas_beyond_the_capacity_are_refused():
    with pytest.raises(ValueError):
        lottery.allocate(["a"], {"a": "x"}, capacity=1, waitlist_size=0, quotas={"x": 2})


def test_the_standalone_script_reproduces_the_draw(tmp_path: Path):
    entries = tmp_path / "entries.txt"
    entries.write_text("".join(f"{n}\n" for n in sorted(NUMBERS)), encoding="utf-8")
    script = Path(lottery.__file__)
    out = subprocess.run(
        [sys.executable, "-I", str(script), "--public-value", "2025-07-28 4821", "--entries", str(entries),
         "--capacity", "2", "--waitlist", "3"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout.splitlines()
    order = independent_order("2025-07-28 4821", NUMBERS)
    assert out[1] == "seed " + hashlib.sha256(b"2025-07-28 4821").hexdigest()
    rows = [line.split("\t") for line in out[3:]]
    assert [r[1] for r in rows] == order
    assert [r[2] for r in rows] == ["selected", "selected", "waitlist 1", "waitlist 2", "waitlist 3",
                                    "not-selected", "not-selected"]
