# Copyright (c) glore_mm contributors. All rights reserved.
"""What the tools add to a config that lacks the hooks our configs declare,
and the line each addition logs."""
from pathlib import Path

import pytest
from mmengine.config import Config

from glore_mm.engine import missing_hooks

REPO = Path(__file__).parents[2]
FRAGMENT = REPO / missing_hooks.RUNTIME_FRAGMENT
# A config of another project: no glore_mm hooks, MMEngine's checkpoints.
BARE = '''
default_scope = 'mmseg'
custom_imports = dict(imports=['my_project'], allow_failed_imports=False)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
'''


def _config(tmp_path: Path, text: str = BARE) -> Config:
    path = tmp_path / 'my_config.py'
    path.write_text(text)
    return Config.fromfile(str(path), import_custom_modules=False)


def test_bare_config_gets_every_hook_and_one_line_each(tmp_path):
    cfg = _config(tmp_path)
    notes = missing_hooks.add_missing_hooks(cfg, training=True)
    assert [h.type for h in cfg.custom_hooks
            ] == ['TestProgressBarHook', 'RandomStateHook']
    assert cfg.default_hooks.checkpoint == dict(
        type='AtomicCheckpointHook', interval=5, max_keep_ckpts=2)
    assert cfg.custom_imports.imports == ['my_project', 'glore_mm.engine']
    assert len(notes) == 3
    for note, what in zip(notes, [
            'custom_hooks: added TestProgressBarHook',
            'custom_hooks: added RandomStateHook',
            'default_hooks.checkpoint: CheckpointHook became '
            'AtomicCheckpointHook'
    ]):
        assert note.startswith(what)
        assert '\n' not in note
        assert f'{cfg.filename} does not declare' in note
        assert missing_hooks.RUNTIME_FRAGMENT in note
    # the first addition imported the engine, the others found it there
    assert 'glore_mm.engine added to custom_imports' in notes[0]
    assert 'custom_imports' not in notes[1] + notes[2]


def test_testing_adds_the_progress_bar_only(tmp_path):
    cfg = _config(tmp_path)
    notes = missing_hooks.add_missing_hooks(cfg, training=False)
    assert [h.type for h in cfg.custom_hooks] == ['TestProgressBarHook']
    assert cfg.default_hooks.checkpoint.type == 'CheckpointHook'
    assert len(notes) == 1


def test_config_with_the_fragment_is_left_alone(tmp_path):
    text = (f'_base_ = [{str(FRAGMENT)!r}]\n'
            'default_hooks = dict(checkpoint=dict('
            "type='AtomicCheckpointHook', interval=3))\n")
    cfg = _config(tmp_path, text)
    before = cfg.to_dict()
    assert missing_hooks.add_missing_hooks(cfg, training=True) == []
    assert cfg.to_dict() == before


def test_hooks_named_with_a_scope_count(tmp_path):
    cfg = _config(tmp_path,
                  "custom_hooks = [dict(type='mmengine.RandomStateHook')]\n")
    assert missing_hooks.add_random_state_hook(cfg) is None
    assert len(cfg.custom_hooks) == 1


def test_config_without_a_checkpoint_hook_gets_mmengines_default(tmp_path):
    cfg = _config(tmp_path, "default_scope = 'mmseg'\n")
    note = missing_hooks.use_atomic_checkpoints(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type='AtomicCheckpointHook', interval=1)
    assert note.startswith('default_hooks.checkpoint: added '
                           'AtomicCheckpointHook (interval=1')
    assert cfg.custom_imports.imports == ['glore_mm.engine']


def test_checkpoints_switched_off_stay_off(tmp_path):
    cfg = _config(tmp_path, 'default_hooks = dict(checkpoint=None)\n')
    assert missing_hooks.use_atomic_checkpoints(cfg) is None
    assert cfg.default_hooks.checkpoint is None
    assert 'custom_imports' not in cfg


def test_other_checkpoint_hook_kept_with_a_warning(tmp_path):
    cfg = _config(
        tmp_path, "default_hooks = dict(checkpoint=dict(type='MyCkptHook'))\n")
    note = missing_hooks.use_atomic_checkpoints(cfg)
    assert cfg.default_hooks.checkpoint.type == 'MyCkptHook'
    assert "type='MyCkptHook'" in note and 'is kept' in note


def test_notes_are_logged_as_warnings(monkeypatch):
    logged = []
    monkeypatch.setattr(missing_hooks, 'print_log',
                        lambda msg, **kwargs: logged.append((msg, kwargs)))
    missing_hooks.log_notes(['one', 'two'])
    assert [msg for msg, _ in logged] == ['one', 'two']
    assert all(kwargs['logger'] == 'current' for _, kwargs in logged)


@pytest.mark.parametrize('imports, added', [(None, True),
                                            ('glore_mm.engine', False),
                                            (['glore_mm.mmseg'], True)])
def test_import_engine(tmp_path, imports, added):
    cfg = _config(tmp_path, '')
    if imports is not None:
        cfg.custom_imports = dict(imports=imports)
    assert missing_hooks.import_engine(cfg) is added
    assert 'glore_mm.engine' in cfg.custom_imports.imports
