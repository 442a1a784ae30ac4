"""Reciprocal-rank fusion and pinning."""

from __future__ import annotations

import pytest

from paperwire.search.hybrid import pin_first, reciprocal_rank_fusion


def test_a_paper_both_methods_rank_well_wins() -> None:
    fused = reciprocal_rank_fusion(
        {"keyword": ["a", "b", "c"], "semantic": ["c", "b", "d"]},
        {"keyword": 1.0, "semantic": 1.0},
        k=60,
    )
    assert {doc for doc, _ in fused[:2]} == {"b", "c"}  # in both lists
    assert {doc for doc, _ in fused} == {"a", "b", "c", "d"}


def test_scores_follow_the_formula() -> None:
    fused = dict(reciprocal_rank_fusion({"x": ["a"], "y": ["b", "a"]}, {"x": 2.0, "y": 1.0}, k=10))
    assert fused["a"] == pytest.approx(2.0 / 11 + 1.0 / 12)
    assert fused["b"] == pytest.approx(1.0 / 11)


def test_weights_shift_the_order() -> None:
    rankings = {"keyword": ["a", "b"], "semantic": ["b", "a"]}
    first = reciprocal_rank_fusion(rankings, {"keyword": 1.0, "semantic": 3.0}, k=1)
    assert first[0][0] == "b"
    second = reciprocal_rank_fusion(rankings, {"keyword": 3.0, "semantic": 1.0}, k=1)
    assert second[0][0] == "a"


def test_pinned_come_first_once() -> None:
    assert pin_first(["a", "b", "c"], ["c", "x", "c"]) == ["c", "x", "a", "b"]
    assert pin_first(["a"], []) == ["a"]
