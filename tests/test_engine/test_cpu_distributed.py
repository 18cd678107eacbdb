# Copyright (c) glore_mm contributors. All rights reserved.
import os
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODEL_WRAPPERS
from torch import distributed as torch_dist

from glore_mm.engine import (CPUDistributedDataParallel, cpu_model_wrapper_cfg,
                             finish_distributed, setup_cpu_distributed)
from tests.tool_runner import free_port, run_tool, tool_env


@pytest.fixture
def clean_env(monkeypatch):
    """No launcher variables; the process group is torn down afterwards."""
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                 'MASTER_PORT', 'SLURM_PROCID', 'SLURM_NTASKS',
                 'SLURM_NODELIST', 'SLURM_LOCALID'):
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def test_wrapper_cfg_without_one():
    cfg = Config(dict(find_unused_parameters=True))
    assert cpu_model_wrapper_cfg(cfg) == dict(
        type='CPUDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=True)


def test_wrapper_cfg_keeps_other_keys():
    cfg = Config(
        dict(
            model_wrapper_cfg=dict(
                type='MMDistributedDataParallel',
                find_unused_parameters=True,
                detect_anomalous_params=True)))
    assert cpu_model_wrapper_cfg(cfg) == dict(
        type='CPUDistributedDataParallel',
        find_unused_parameters=True,
        detect_anomalous_params=True)
    assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'


def test_wrapper_cfg_refuses_other_wrappers():
    cfg = Config(
        dict(model_wrapper_cfg=dict(type='MMFullyShardedDataParallel')))
    with pytest.raises(ValueError, match="'MMFullyShardedDataParallel'"):
        cpu_model_wrapper_cfg(cfg)


def test_missing_launcher_variables(clean_env):
    cfg = Config(dict(launcher='pytorch'))
    with pytest.raises(KeyError, match='RANK, WORLD_SIZE'):
        setup_cpu_distributed(cfg)
    with pytest.raises(ValueError, match="launcher='none'"):
        setup_cpu_distributed(Config(dict(launcher='none')))


def _model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.SyncBatchNorm(4), nn.ReLU(),
        nn.Sequential(nn.Conv2d(4, 2, 1), nn.SyncBatchNorm(2)))


def test_pytorch_launcher_and_wrapper(clean_env, capsys):
    clean_env.setenv('RANK', '0')
    clean_env.setenv('WORLD_SIZE', '1')
    clean_env.setenv('MASTER_ADDR', '127.0.0.1')
    clean_env.setenv('MASTER_PORT', free_port())
    cfg = Config(
        dict(
            launcher='pytorch',
            env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60))))
    assert setup_cpu_distributed(cfg) == (0, 1)
    assert torch_dist.get_backend() == 'gloo'
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.type == 'CPUDistributedDataParallel'
    assert 'rank 0/1 (gloo, cpu)' in capsys.readouterr().out

    # As Runner.wrap_model builds it: device_ids=[LOCAL_RANK] is dropped.
    wrapper = MODEL_WRAPPERS.build(
        cfg.model_wrapper_cfg,
        default_args=dict(module=_model(), device_ids=[0]))
    assert isinstance(wrapper, CPUDistributedDataParallel)
    assert wrapper.device_ids is None
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in wrapper.modules())
    assert sum(
        isinstance(m, nn.modules.batchnorm._BatchNorm)
        for m in wrapper.modules()) == 2
    out = wrapper(torch.rand(2, 3, 8, 8))
    out.sum().backward()
    assert wrapper.module[0].weight.grad is not None


def test_slurm_launcher(clean_env):
    clean_env.setenv('SLURM_PROCID', '0')
    clean_env.setenv('SLURM_NTASKS', '1')
    clean_env.setenv('SLURM_NODELIST', 'node-[1-2]')
    clean_env.setenv('SLURM_LOCALID', '0')
    clean_env.setenv('MASTER_ADDR', '127.0.0.1')
    port = int(free_port())
    cfg = Config(
        dict(launcher='slurm', env_cfg=dict(dist_cfg=dict(port=port))))
    assert setup_cpu_distributed(cfg) == (0, 1)
    assert os.environ['MASTER_PORT'] == str(port)
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'],
            os.environ['LOCAL_RANK']) == ('0', '1', '0')


def _gloo_threads(since: set) -> list:
    """Names of gloo's threads in this process that are not in ``since``."""
    names = []
    for tid in set(os.listdir('/proc/self/task')) - since:
        try:
            with open(f'/proc/self/task/{tid}/comm') as f:
                name = f.read().strip()
        except FileNotFoundError:  # the thread just ended
            continue
        if 'gloo' in name:
            names.append(name)
    return sorted(names)


@pytest.mark.skipif(
    not os.path.isdir('/proc/self/task'), reason='lists threads in /proc')
@pytest.mark.parametrize('release', [True, False])
def test_finish_distributed_ends_gloo_threads(clean_env, release):
    """Released before finish_distributed, the DDP wrapper lets the group
    and gloo's threads end; still held, it keeps them running."""
    before = set(os.listdir('/proc/self/task'))
    launcher_env = dict(
        RANK='0',
        WORLD_SIZE='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=free_port())
    for name, value in launcher_env.items():
        clean_env.setenv(name, value)
    cfg = Config(dict(launcher='pytorch'))
    setup_cpu_distributed(cfg)
    wrapper = MODEL_WRAPPERS.build(
        cfg.model_wrapper_cfg, default_args=dict(module=_model()))
    wrapper(torch.rand(2, 3, 8, 8)).sum().backward()
    assert _gloo_threads(before)
    if release:
        del wrapper
    finish_distributed()
    assert not torch_dist.is_initialized()
    assert bool(_gloo_threads(before)) != release


@pytest.mark.parametrize('finish', [False, True])
def test_collective_finishing_at_exit(tmp_path, finish):
    """The abort once seen at the end of a finished 2-rank C2D run: a gloo
    worker that completes a collective while the interpreter finalizes
    aborts the process (collective_at_exit.py makes that order certain);
    ending with finish_distributed, as the tools do, exits cleanly."""
    script = Path(__file__).with_name('collective_at_exit.py')
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        f'--master_port={free_port()}', script
    ]
    result = run_tool(
        cmd + (['--finish'] if finish else []),
        cwd=tmp_path,
        env=tool_env(OMP_NUM_THREADS='1'),
        ok=finish)
    output = result.stdout + result.stderr
    for rank in (0, 1):
        assert f'rank {rank} started' in output
    if finish:
        assert 'terminate called' not in output
    else:
        assert result.returncode != 0
        assert 'terminate called without an active exception' in output
        assert 'SIGABRT' in output
