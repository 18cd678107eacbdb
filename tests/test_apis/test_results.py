# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.apis.results: the best classes of a prediction."""
import pytest

from glore_mm.apis import top_k


def test_top_k():
    best = top_k('x', [0.1, 0.5, 0.2, 0.2], 3, ['a', 'b', 'c', 'd'])
    assert best.labels == [1, 2, 3] and best.names == ['b', 'c', 'd']
    assert best.scores == [0.5, 0.2, 0.2]
    assert top_k('x', [0.3, 0.7], 5).labels == [1, 0]
    with pytest.raises(ValueError, match='2 class names for a model with 3'):
        top_k('x', [0.1, 0.2, 0.7], 1, ['a', 'b'])
