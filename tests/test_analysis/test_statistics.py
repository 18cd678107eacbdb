# Copyright (c) glore_mm contributors. All rights reserved.
"""Summaries of runs over seeds: mean ± std, the two-std rule, windows of a
logged curve and when it left a plateau."""
import numpy as np
import pytest

from glore_mm.analysis.statistics import (Separation, first_step_below,
                                          mean_std, separation, trailing_mean,
                                          window_mean)


def test_mean_std():
    # sample std (n - 1): [1, 2, 3] has std 1, not sqrt(2/3)
    assert mean_std([1, 2, 3]) == '2.00 ± 1.00'
    assert mean_std([0.25, 0.75], digits=3) == '0.500 ± 0.354'
    assert mean_std([71.2], digits=1) == '71.2'


@pytest.mark.parametrize(
    'values, base, difference, bound, apart, above',
    [
        # means 4 and 1, both stds 1: 3 > 2 either way
        ([3, 4, 5], [0, 1, 2], 3.0, 2.0, True, True),
        # the same, the other way round: apart, but not above
        ([0, 1, 2], [3, 4, 5], -3.0, 2.0, True, False),
        # the larger std counts: base std 3 -> bound 6 > 3
        ([3, 4, 5], [-2, 1, 4], 3.0, 6.0, False, False),
        # exactly twice the larger std is not more than it
        ([2, 4], [0, 2], 2.0, 2 * np.sqrt(2), False, False),
        # one value on a side: no spread to compare with
        ([9], [0, 1], 8.5, None, False, False),
    ])
def test_separation(values, base, difference, bound, apart, above):
    result = separation(values, base)
    assert isinstance(result, Separation)
    assert result.difference == pytest.approx(difference)
    if bound is None:
        assert result.bound is None
    else:
        assert result.bound == pytest.approx(bound)
    assert result.apart is apart
    assert result.above is above


def test_separation_of_nothing():
    with pytest.raises(ValueError, match='got 0 and 2 values'):
        separation([], [1, 2])


def test_window_mean():
    steps = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    loss = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    # the first 3 iterations: steps 1-3
    assert window_mean(loss, steps, 3) == 9.0
    # the last 3: steps 8-10
    assert window_mean(loss, steps, 3, first=False) == 2.0
    # logged every 10 iterations: no value in the first 5, the first value
    assert window_mean([4.0, 3.0], [10, 20], 5) == 4.0
    assert window_mean([4.0, 3.0], [10, 20], 5, first=False) == 3.0


def test_trailing_mean():
    np.testing.assert_allclose(trailing_mean([1, 2, 3, 4], 2), [1.5, 2.5, 3.5])
    np.testing.assert_allclose(trailing_mean([1, 2, 3], 3), [2.0])
    assert len(trailing_mean([1, 2], 3)) == 0
    with pytest.raises(ValueError, match='window must be at least 1'):
        trailing_mean([1, 2], 0)


def test_first_step_below():
    steps = [10, 20, 30, 40, 50]
    loss = [0.7, 0.7, 0.7, 0.4, 0.4]
    # trailing means of 2: 0.7, 0.7, 0.55, 0.4; the first below 0.6 ends
    # at the fourth value, logged at step 40
    assert first_step_below(loss, steps, 0.6, 2) == 40
    # a window of 1 is the curve itself
    assert first_step_below(loss, steps, 0.6, 1) == 40
    # means of 4: 0.625, 0.55 -> the second, ending at step 50
    assert first_step_below(loss, steps, 0.6, 4) == 50
    assert first_step_below(loss, steps, 0.3, 2) is None
    # fewer values than the window
    assert first_step_below(loss[:1], steps[:1], 0.9, 2) is None
    with pytest.raises(ValueError, match='same length'):
        first_step_below(loss, steps[:3], 0.6, 2)
