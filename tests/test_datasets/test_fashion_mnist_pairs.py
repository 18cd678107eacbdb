# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.datasets.fashion_mnist_pairs (the set the generator writes and
what it refuses: tests/test_tools)."""
from glore_mm.datasets import fashion_mnist_pairs
from tests.fashion_mnist_files import fashion_arrays, write_fashion_src


def test_farthest_distance_the_canvas_allows_is_drawn(tmp_path):
    """On the default 28x112 canvas the item centres are at most 84 apart:
    with that minimum every pair is drawn at the two ends."""
    src = write_fashion_src(tmp_path / 'src',
                            fashion_arrays({
                                'train': 40,
                                't10k': 30
                            }, seed=1))
    out = tmp_path / 'out'
    far = fashion_mnist_pairs.make_fashion_mnist_pairs(
        str(src), str(out), num_train=4, num_test=4, min_distance=84)
    assert far['min_distance'] == 84
    assert {
        r['distance']
        for r in fashion_mnist_pairs.read_samples(str(out), 'test')
    } == {84.0}
