# Copyright (c) glore_mm contributors. All rights reserved.
import argparse
import importlib.util
import os
import os.path as osp
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.model import BaseModel
from mmengine.registry import MODELS, RUNNERS
from mmengine.runner import Runner

from glore_mm.engine import cli
from glore_mm.utils import mmengine_checkpoint_globals

TOOLS = Path(__file__).resolve().parents[2] / 'tools'

CONFIG = '''
default_scope = 'mmseg'
model = dict(type='EncoderDecoder')
optim_wrapper = dict(type='OptimWrapper')
test_dataloader = dict(dataset=dict(pipeline=['test']))
test_evaluator = dict(type='IoUMetric')
default_hooks = dict(visualization=dict(type='SegVisualizationHook'))
visualizer = dict(type='SegLocalVisualizer')
tta_pipeline = ['tta']
tta_model = dict(type='SegTTAModel')
'''


@pytest.fixture
def config_file(tmp_path) -> str:
    path = tmp_path / 'my_config.py'
    path.write_text(CONFIG)
    return str(path)


def _load(config_file, cfg_options=None, work_dir=None, launcher='none'):
    return cli.load_config(
        argparse.Namespace(
            config=config_file,
            cfg_options=cfg_options,
            work_dir=work_dir,
            launcher=launcher))


def test_load_config(config_file):
    cfg = _load(config_file, cfg_options={'model.type': 'Other'})
    assert cfg.work_dir == osp.join('./work_dirs', 'my_config')
    assert cfg.model.type == 'Other' and cfg.launcher == 'none'
    cfg = _load(config_file, work_dir='here', launcher='slurm')
    assert cfg.work_dir == 'here' and cfg.launcher == 'slurm'


def test_parse_runner_args_sets_local_rank(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    parser = argparse.ArgumentParser()
    cli.add_runner_args(parser)
    args = cli.parse_runner_args(
        parser, ['--local-rank', '3', '--cfg-options', 'a.b=1'])
    assert args.local_rank == 3 and args.cfg_options == {'a.b': 1}
    assert os.environ['LOCAL_RANK'] == '3'
    monkeypatch.setenv('LOCAL_RANK', '1')
    args = cli.parse_runner_args(parser, ['--local_rank', '5'])
    assert os.environ['LOCAL_RANK'] == '1'


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f'tool_{name}',
                                                  TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('argv, resume', [
    ([], None),
    (['--resume'], 'auto'),
    (['--resume', '--amp'], 'auto'),
    (['--resume', 'ckpt.pth'], 'ckpt.pth'),
])
def test_train_tool_resume_argument(monkeypatch, argv, resume):
    monkeypatch.setattr('sys.argv', ['train.py', 'cfg.py', *argv])
    args = _tool('train').parse_args()
    assert args.config == 'cfg.py' and args.resume == resume


def test_test_tool_arguments(monkeypatch):
    monkeypatch.setattr('sys.argv', [
        'test.py', 'cfg.py', 'ckpt.pth', '--out', 'o', '--show-dir', 's',
        '--tta', '--launcher', 'pytorch'
    ])
    args = _tool('test').parse_args()
    assert (args.checkpoint, args.out, args.show_dir, args.tta, args.launcher,
            args.wait_time) == ('ckpt.pth', 'o', 's', True, 'pytorch', 2)


def test_set_resume(config_file):
    cfg = _load(config_file)
    cfg.resume, cfg.load_from = False, 'pretrained.pth'
    cli.set_resume(cfg, None)
    assert (cfg.resume, cfg.load_from) == (False, 'pretrained.pth')
    cli.set_resume(cfg, 'auto')
    assert (cfg.resume, cfg.load_from) == (True, None)
    cli.set_resume(cfg, 'iter_2.pth')
    assert (cfg.resume, cfg.load_from) == (True, 'iter_2.pth')


@pytest.mark.skipif(get_device() != 'cpu', reason='checks the CPU error')
def test_amp_needs_an_accelerator(config_file):
    with pytest.raises(ValueError, match="--amp needs .* device 'cpu'"):
        cli.enable_amp(_load(config_file))


def test_progress_bar_added_once(config_file):
    cfg = _load(config_file)
    cfg.custom_imports = dict(imports='glore_mm')
    cli.add_progress_bar(cfg)
    cli.add_progress_bar(cfg)
    assert [h.type for h in cfg.custom_hooks] == ['TestProgressBarHook']
    assert cfg.custom_imports.imports == ['glore_mm', 'glore_mm.engine']


def test_random_state_hook_added_once(config_file):
    cfg = _load(config_file)
    cli.add_progress_bar(cfg)
    cli.add_random_state_hook(cfg)
    cli.add_random_state_hook(cfg)
    hooks = [h.type for h in cfg.custom_hooks]
    assert hooks == ['TestProgressBarHook', 'RandomStateHook']
    assert cfg.custom_imports.imports == ['glore_mm.engine']


def test_atomic_checkpoints(config_file):
    cfg = _load(
        config_file,
        cfg_options={
            'default_hooks.checkpoint':
            dict(type='CheckpointHook', interval=5, max_keep_ckpts=2)
        })
    cli.use_atomic_checkpoints(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type='AtomicCheckpointHook', interval=5, max_keep_ckpts=2)
    assert cfg.custom_imports.imports == ['glore_mm.engine']
    # No checkpoint hook: MMEngine's default one, atomic.
    cfg = _load(config_file)
    cli.use_atomic_checkpoints(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type='AtomicCheckpointHook', interval=1)
    # Checkpoints switched off stay off.
    cfg = _load(config_file, cfg_options={'default_hooks.checkpoint': None})
    cli.use_atomic_checkpoints(cfg)
    assert cfg.default_hooks.checkpoint is None


def test_other_checkpoint_hook_kept(config_file, monkeypatch):
    messages = []
    monkeypatch.setattr(cli, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    cfg = _load(
        config_file,
        cfg_options={'default_hooks.checkpoint': dict(type='MyCkptHook')})
    cli.use_atomic_checkpoints(cfg)
    assert cfg.default_hooks.checkpoint.type == 'MyCkptHook'
    assert len(messages) == 1 and "type='MyCkptHook'" in messages[0]


def test_visualization_mmseg(config_file):
    cfg = _load(config_file)
    cli.enable_visualization(cfg, show=False, show_dir='vis', wait_time=2)
    hook = cfg.default_hooks.visualization
    assert hook.draw is True and hook.interval == 1 and 'show' not in hook
    assert cfg.visualizer.save_dir == 'vis'


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmaction'])
def test_visualization_enable_style(config_file, scope):
    cfg = _load(config_file, cfg_options={'default_scope': scope})
    cli.enable_visualization(cfg, show=True, show_dir='vis', wait_time=0.5)
    hook = cfg.default_hooks.visualization
    assert (hook.enable, hook.interval, hook.show, hook.wait_time,
            hook.out_dir) == (True, 1, True, 0.5, 'vis')


def test_visualization_errors(config_file):
    cfg = _load(config_file, cfg_options={'default_hooks.visualization': None})
    with pytest.raises(ValueError) as error:
        cli.enable_visualization(cfg, False, 'vis', 2)
    assert '--show-dir needs default_hooks.visualization' in str(error.value)
    assert config_file in str(error.value)
    cfg = _load(config_file, cfg_options={'default_scope': 'mmdet'})
    with pytest.raises(ValueError, match="default_scope='mmdet'"):
        cli.enable_visualization(cfg, True, None, 2)


def test_tta(config_file):
    cfg = _load(config_file)
    cli.enable_tta(cfg)
    assert cfg.model.type == 'SegTTAModel'
    assert cfg.model.module.type == 'EncoderDecoder'
    assert cfg.test_dataloader.dataset.pipeline == ['tta']
    cfg = _load(config_file, cfg_options={'tta_pipeline': None})
    with pytest.raises(ValueError, match='but tta_pipeline is not set'):
        cli.enable_tta(cfg)


def test_test_output(config_file):
    cfg = _load(config_file)
    cli.set_test_output(cfg, 'preds')
    assert cfg.test_evaluator.output_dir == 'preds'
    assert cfg.test_evaluator.keep_results is True
    cfg = _load(config_file)
    cli.set_test_output(cfg, 'results.pkl')
    assert [m.type for m in cfg.test_evaluator] == ['IoUMetric', 'DumpResults']
    assert cfg.test_evaluator[1].out_file_path == 'results.pkl'
    cfg = _load(config_file, cfg_options={'default_scope': 'mmpretrain'})
    with pytest.raises(ValueError, match="--out 'preds'.*'.pkl'"):
        cli.set_test_output(cfg, 'preds')


def test_drop_training(config_file):
    cfg = _load(config_file, cfg_options={'train_cfg': dict(max_iters=2)})
    cli.drop_training(cfg)
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        assert cfg[key] is None


@MODELS.register_module()
class CliToyModel(BaseModel):

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return inputs


@RUNNERS.register_module()
class CliToyRunner(Runner):
    pass


@pytest.mark.parametrize('runner_type, runner_cls',
                         [(None, Runner), ('CliToyRunner', CliToyRunner)])
def test_build_runner(tmp_path, monkeypatch, runner_type, runner_cls):
    monkeypatch.setattr(torch.serialization, 'get_safe_globals', lambda: [])
    added = []
    monkeypatch.setattr(torch.serialization, 'add_safe_globals', added.extend)
    cfg = Config(
        dict(
            model=dict(type='CliToyModel'),
            work_dir=str(tmp_path),
            launcher='none',
            default_scope='mmengine'))
    if runner_type is not None:
        cfg.runner_type = runner_type
    runner = cli.build_runner(cfg)
    assert type(runner) is runner_cls
    assert runner.work_dir == str(tmp_path)
    # The checkpoint allowlist is installed before the runner loads any.
    assert mmengine_checkpoint_globals()[0] in added
