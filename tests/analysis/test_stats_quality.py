"""Cronbach's α against Hoyt's (1941) analysis-of-variance form, and the
straight-lining count on hand-made answer sheets."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.stats import cronbach_alpha, straight_liners, straight_lining


def hoyt_alpha(matrix: np.ndarray) -> float:
    """α = 1 − MS(residual) / MS(respondents) of a respondents × items ANOVA
    without replication (Hoyt 1941), the same coefficient by another route."""
    people, items = matrix.shape
    grand = matrix.mean()
    ss_people = items * ((matrix.mean(axis=1) - grand) ** 2).sum()
    ss_items = people * ((matrix.mean(axis=0) - grand) ** 2).sum()
    ss_residual = ((matrix - grand) ** 2).sum() - ss_people - ss_items
    ms_people = ss_people / (people - 1)
    ms_residual = ss_residual / ((people - 1) * (items - 1))
    return float(1 - ms_residual / ms_people)


def correlated_answers(seed: int, people: int, items: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=(people, 1))
    noise = rng.normal(scale=0.8, size=(people, items))
    return np.clip(np.round(3 + trait + noise), 1, 5)


@pytest.mark.parametrize(("people", "items"), [(40, 3), (300, 6), (1000, 12)])
def test_it_agrees_with_hoyts_anova_form(people: int, items: int) -> None:
    matrix = correlated_answers(seed=people, people=people, items=items)
    assert cronbach_alpha(matrix) == pytest.approx(hoyt_alpha(matrix), rel=1e-12)


def test_it_is_one_for_identical_items() -> None:
    column = np.array([[1.0], [2.0], [4.0], [5.0], [3.0]])
    assert cronbach_alpha(np.hstack([column] * 4)) == pytest.approx(1.0)


def test_it_drops_respondents_with_a_missing_item() -> None:
    matrix = correlated_answers(seed=1, people=50, items=5)
    with_gaps = np.vstack([matrix, [[5, np.nan, 1, 1, 5], [np.nan] * 5]])
    assert cronbach_alpha(with_gaps) == cronbach_alpha(matrix)


def test_it_is_nan_when_alpha_is_undefined() -> None:
    assert np.isnan(cronbach_alpha([[1.0], [2.0], [3.0]]))  # one item
    assert np.isnan(cronbach_alpha([[1.0, 2.0]]))  # one respondent
    assert np.isnan(cronbach_alpha([[3.0, 3.0], [3.0, 3.0]]))  # no variance


def test_it_counts_respondents_who_give_one_answer_throughout() -> None:
    nan = np.nan
    matrix = np.array(
        [
            [5, 5, 5, 5, 5, 5, 5, 5, 5, 5],  # straight line
            [5, 5, 5, 5, 5, 5, 5, 5, 5, 4],  # one answer differs
            [1, 1, 1, 1, 1, 1, 1, 1, nan, nan],  # straight, two left out
            [2, 2, 2, 2, 2, 2, 2, nan, nan, nan],  # seven answered: not judged
            [nan] * 10,
        ]
    )
    assert straight_liners(matrix).tolist() == [True, False, True, False, False]
    assert straight_lining(matrix) == 2
    assert straight_lining(matrix, min_items=7) == 3
