# Copyright (c) glore_mm contributors. All rights reserved.
import argparse
import os.path as osp

import mmengine.device.utils as mmengine_device_utils
import pytest
import torch
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.model import BaseModel, BaseTTAModel
from mmengine.registry import MODELS, RUNNERS
from mmengine.runner import Runner

from glore_mm.engine import runner_setup, test_setup, train_setup
from glore_mm.utils import mmengine_checkpoint_globals

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
    return runner_setup.config_from_args(
        argparse.Namespace(
            config=config_file,
            cfg_options=cfg_options,
            work_dir=work_dir,
            launcher=launcher))


def test_config_from_args(config_file):
    cfg = _load(config_file, cfg_options={'model.type': 'Other'})
    assert cfg.work_dir == osp.join('./work_dirs', 'my_config')
    assert cfg.model.type == 'Other' and cfg.launcher == 'none'
    cfg = _load(config_file, work_dir='here', launcher='slurm')
    assert cfg.work_dir == 'here' and cfg.launcher == 'slurm'


def test_set_resume(config_file):
    cfg = _load(config_file)
    cfg.resume, cfg.load_from = False, 'pretrained.pth'
    train_setup.set_resume(cfg, None)
    assert (cfg.resume, cfg.load_from) == (False, 'pretrained.pth')
    train_setup.set_resume(cfg, 'auto')
    assert (cfg.resume, cfg.load_from) == (True, None)
    train_setup.set_resume(cfg, 'iter_2.pth')
    assert (cfg.resume, cfg.load_from) == (True, 'iter_2.pth')


@pytest.mark.skipif(get_device() != 'cpu', reason='checks the CPU error')
def test_amp_needs_an_accelerator(config_file):
    with pytest.raises(ValueError, match="--amp needs .* device 'cpu'"):
        train_setup.enable_amp(_load(config_file))


@pytest.fixture
def fake_cuda(monkeypatch):
    """A machine where torch and MMEngine find CUDA (MMEngine looks once, at
    import, and get_device() returns what it found)."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(mmengine_device_utils, 'DEVICE', 'cuda')
    assert get_device() == 'cuda'


def test_amp_on_cuda_uses_a_dynamic_loss_scale(config_file, fake_cuda):
    cfg = _load(config_file, cfg_options={'optim_wrapper.clip_grad': None})
    train_setup.enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert 'clip_grad' in cfg.optim_wrapper  # the other keys are kept


def test_amp_on_cuda_keeps_an_amp_config(config_file, fake_cuda, monkeypatch):
    messages = []
    monkeypatch.setattr(train_setup, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    cfg = _load(
        config_file,
        cfg_options={
            'optim_wrapper.type': 'AmpOptimWrapper',
            'optim_wrapper.loss_scale': 512.0
        })
    train_setup.enable_amp(cfg)
    assert (cfg.optim_wrapper.type,
            cfg.optim_wrapper.loss_scale) == ('AmpOptimWrapper', 512.0)
    assert messages == ['AMP training is already enabled in your config.']
    cfg = _load(config_file, cfg_options={'optim_wrapper.type': 'Other'})
    with pytest.raises(
            ValueError,
            match="optim_wrapper.type='OptimWrapper'"
            ".*but got 'Other'"):
        train_setup.enable_amp(cfg)


def test_visualization_mmseg(config_file):
    cfg = _load(config_file)
    test_setup.enable_visualization(
        cfg, show=False, show_dir='vis', wait_time=2)
    hook = cfg.default_hooks.visualization
    assert hook.draw is True and hook.interval == 1 and 'show' not in hook
    assert cfg.visualizer.save_dir == 'vis'


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmaction'])
def test_visualization_enable_style(config_file, scope):
    cfg = _load(config_file, cfg_options={'default_scope': scope})
    test_setup.enable_visualization(
        cfg, show=True, show_dir='vis', wait_time=0.5)
    hook = cfg.default_hooks.visualization
    assert (hook.enable, hook.interval, hook.show, hook.wait_time,
            hook.out_dir) == (True, 1, True, 0.5, 'vis')


def test_visualization_errors(config_file):
    cfg = _load(config_file, cfg_options={'default_hooks.visualization': None})
    with pytest.raises(ValueError) as error:
        test_setup.enable_visualization(cfg, False, 'vis', 2)
    assert '--show-dir needs default_hooks.visualization' in str(error.value)
    assert config_file in str(error.value)
    cfg = _load(config_file, cfg_options={'default_scope': 'mmocr'})
    with pytest.raises(ValueError, match="default_scope='mmocr'"):
        test_setup.enable_visualization(cfg, True, None, 2)


def test_tta(config_file):
    cfg = _load(config_file)
    test_setup.enable_tta(cfg)
    assert cfg.model.type == 'SegTTAModel'
    assert cfg.model.module.type == 'EncoderDecoder'
    assert cfg.test_dataloader.dataset.pipeline == ['tta']
    cfg = _load(config_file, cfg_options={'tta_pipeline': None})
    with pytest.raises(ValueError, match='but tta_pipeline is not set'):
        test_setup.enable_tta(cfg)


def test_test_output(config_file):
    cfg = _load(config_file)
    test_setup.set_test_output(cfg, 'preds')
    assert cfg.test_evaluator.output_dir == 'preds'
    assert cfg.test_evaluator.keep_results is True
    cfg = _load(config_file)
    test_setup.set_test_output(cfg, 'results.pkl')
    assert [m.type for m in cfg.test_evaluator] == ['IoUMetric', 'DumpResults']
    assert cfg.test_evaluator[1].out_file_path == 'results.pkl'
    cfg = _load(config_file, cfg_options={'default_scope': 'mmpretrain'})
    with pytest.raises(ValueError, match="--out 'preds'.*'.pkl'"):
        test_setup.set_test_output(cfg, 'preds')


def test_drop_training(config_file):
    cfg = _load(config_file, cfg_options={'train_cfg': dict(max_iters=2)})
    test_setup.drop_training(cfg)
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        assert cfg[key] is None


@MODELS.register_module()
class RunnerSetupToyModel(BaseModel):

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return inputs


@RUNNERS.register_module()
class RunnerSetupToyRunner(Runner):
    pass


@pytest.mark.parametrize('runner_type, runner_cls',
                         [(None, Runner),
                          ('RunnerSetupToyRunner', RunnerSetupToyRunner)])
def test_build_runner(tmp_path, runner_type, runner_cls):
    cfg = Config(
        dict(
            model=dict(type='RunnerSetupToyModel'),
            work_dir=str(tmp_path),
            launcher='none',
            default_scope='mmengine'))
    if runner_type is not None:
        cfg.runner_type = runner_type
    runner = runner_setup.build_runner(cfg)
    assert type(runner) is runner_cls
    assert runner.work_dir == str(tmp_path)
    # Importing glore_mm installed the checkpoint allowlist: the runner
    # loads MMEngine checkpoints with torch.load's weights_only default.
    allowed = torch.serialization.get_safe_globals()
    assert all(entry in allowed for entry in mmengine_checkpoint_globals())


@MODELS.register_module()
class RunnerSetupLinearModel(BaseModel):

    def __init__(self, width: int = 2) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(width, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.linear(inputs)


@MODELS.register_module()
class RunnerSetupToyTTAModel(BaseTTAModel):

    def merge_preds(self, data_samples_list):
        return data_samples_list[0]


def _runner(tmp_path, model: dict) -> Runner:
    cfg = Config(
        dict(
            model=model,
            work_dir=str(tmp_path / 'work_dir'),
            experiment_name=tmp_path.name,
            launcher='none',
            default_scope='mmengine'))
    return runner_setup.build_runner(cfg)


@pytest.mark.parametrize('tta', [False, True])
def test_check_test_checkpoint(tmp_path, tta):
    model = dict(type='RunnerSetupLinearModel')
    if tta:
        model = dict(type='RunnerSetupToyTTAModel', module=model)
    runner = _runner(tmp_path, model)
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': RunnerSetupLinearModel().state_dict()}, good)
    test_setup.check_test_checkpoint(runner, str(good))

    other = tmp_path / 'other.pth'
    torch.save({'state_dict': RunnerSetupLinearModel(3).state_dict()}, other)
    with pytest.raises(
            ValueError,
            match=f'checkpoint {str(other)!r} does '
            'not fit the model .*other shapes'):
        test_setup.check_test_checkpoint(runner, str(other))
    text = tmp_path / 'notes.txt'
    text.write_text('not a checkpoint\n')
    with pytest.raises(
            ValueError, match=f'checkpoint {str(text)!r} is not a PyTorch'):
        test_setup.check_test_checkpoint(runner, str(text))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        test_setup.check_test_checkpoint(runner, str(tmp_path / 'missing.pth'))
