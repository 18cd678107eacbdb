# Copyright (c) glore_mm contributors. All rights reserved.
"""Summaries of repeated runs: spreads over seeds and logged curves.

A metric measured once per seed is summarised as its mean and sample
standard deviation (n - 1); two variants are called separated when their
means differ by more than twice the larger of their two standard
deviations, the one rule every report applies. A logged loss curve is
summarised by the mean over a window of iterations, or smoothed by a
trailing mean of its logged values.
"""
from typing import NamedTuple, Optional, Sequence

import numpy as np


def mean_std(values: Sequence[float], digits: int = 2) -> str:
    """``'mean ± std'`` of ``values`` (sample std, n - 1).

    Args:
        values (Sequence[float]): One value per run.
        digits (int): Digits after the point. Defaults to 2.

    Returns:
        str: ``'12.35 ± 0.71'``; only the mean for a single value.
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return f'{values.mean():.{digits}f}'
    return (f'{values.mean():.{digits}f} ± '
            f'{values.std(ddof=1):.{digits}f}')


class Separation(NamedTuple):
    """How far apart the means of two sets of runs are.

    Attributes:
        difference (float): ``mean(values) - mean(base)``.
        bound (float | None): Twice the larger of the two sample standard
            deviations; None when either set has fewer than two values
            (no spread to compare with).
    """
    difference: float
    bound: Optional[float]

    @property
    def apart(self) -> bool:
        """The means differ by more than :attr:`bound`, either way."""
        return self.bound is not None and abs(self.difference) > self.bound

    @property
    def above(self) -> bool:
        """``values`` exceed ``base`` by more than :attr:`bound`."""
        return self.bound is not None and self.difference > self.bound


def separation(values: Sequence[float], base: Sequence[float]) -> Separation:
    """Difference of the means of ``values`` and ``base``, and its bound.

    Args:
        values (Sequence[float]): One value per run of a variant.
        base (Sequence[float]): One value per run of the baseline.

    Returns:
        Separation: The difference and twice the larger sample std.
    """
    values = np.asarray(values, dtype=float)
    base = np.asarray(base, dtype=float)
    if len(values) == 0 or len(base) == 0:
        raise ValueError(f'separation needs values on both sides, but got '
                         f'{len(values)} and {len(base)} values')
    difference = float(values.mean() - base.mean())
    if len(values) < 2 or len(base) < 2:
        return Separation(difference, None)
    spread = max(values.std(ddof=1), base.std(ddof=1))
    return Separation(difference, float(2 * spread))


def window_mean(values: Sequence[float],
                steps: Sequence[int],
                window: int,
                first: bool = True) -> float:
    """Mean of the values logged in the first (or last) ``window`` steps.

    Args:
        values (Sequence[float]): Logged values, e.g. the training loss.
        steps (Sequence[int]): The iteration of each value.
        window (int): Iterations at the start (steps ``<= window``) or at
            the end (steps ``> max(steps) - window``).
        first (bool): The window at the start; else at the end. Defaults
            to True.

    Returns:
        float: The mean; the first (or last) value when no step falls in
        the window.
    """
    steps = np.asarray(steps)
    values = np.asarray(values)
    keep = steps <= window if first else steps > steps.max() - window
    if keep.any():
        return float(values[keep].mean())
    return float(values[0 if first else -1])


def trailing_mean(values: Sequence[float], window: int) -> np.ndarray:
    """Means of ``window`` consecutive values.

    Element ``i`` is the mean of ``values[i:i + window]``: the smoothed
    value at the position ``i + window - 1`` of its last value.

    Args:
        values (Sequence[float]): A logged curve.
        window (int): Values per mean, at least 1.

    Returns:
        np.ndarray: ``len(values) - window + 1`` means (none when there are
        fewer values than ``window``).
    """
    if window < 1:
        raise ValueError(f'window must be at least 1, but got {window}')
    if len(values) < window:
        # np.convolve would swap its arguments
        return np.zeros(0)
    return np.convolve(values, np.ones(window) / window, 'valid')


def first_step_below(values: Sequence[float], steps: Sequence[int],
                     threshold: float, window: int) -> Optional[int]:
    """The first step at which the trailing mean of ``values`` is below
    ``threshold``: when a loss left a plateau (e.g. chance level).

    Args:
        values (Sequence[float]): Logged values, e.g. the training loss.
        steps (Sequence[int]): The iteration of each value.
        threshold (float): The level to fall below.
        window (int): Values per trailing mean (:func:`trailing_mean`).

    Returns:
        int | None: The step of the last value of the first mean below
        ``threshold``; None if no mean is (or there are fewer than
        ``window`` values).
    """
    if len(values) != len(steps):
        raise ValueError(f'values and steps must have the same length, but '
                         f'got {len(values)} and {len(steps)}')
    if len(values) < window:
        return None
    below = np.flatnonzero(trailing_mean(values, window) < threshold)
    if not len(below):
        return None
    return int(steps[below[0] + window - 1])
