# Copyright (c) glore_mm contributors. All rights reserved.
"""Distributed runs on machines without CUDA.

MMEngine's launchers assume GPUs: ``init_dist`` calls
``torch.cuda.set_device``, ``Runner.wrap_model`` hands DDP
``device_ids=[LOCAL_RANK]`` and ``SyncBatchNorm`` refuses CPU tensors. On a
machine without CUDA, :func:`setup_cpu_distributed` joins the process group
with the gloo backend before the ``Runner`` is built (``Runner.setup_env``
skips ``init_dist`` when a group exists) and points ``model_wrapper_cfg`` at
:class:`CPUDistributedDataParallel`, which reverts SyncBN to BN and passes
``device_ids=None``.
"""
import datetime
import gc
import logging
import os
import socket
import subprocess
from typing import Any, Dict, Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.dist import all_gather_object, get_dist_info, is_distributed
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS
from torch import distributed as torch_dist
from torch import nn

CPU_BACKEND = 'gloo'
# MMEngine's launchers (``--launcher``): 'none' runs one process, every
# other one starts a distributed run.
NO_LAUNCHER = 'none'
LAUNCHERS = (NO_LAUNCHER, 'pytorch', 'slurm', 'mpi')
DISTRIBUTED_LAUNCHERS = tuple(launcher for launcher in LAUNCHERS
                              if launcher != NO_LAUNCHER)
# Wrapper types whose CPU counterpart is CPUDistributedDataParallel.
_DDP_TYPES = ('MMDistributedDataParallel', 'CPUDistributedDataParallel')


def rank_description(rank: int, world_size: int) -> str:
    """Describe one process of a CPU run, e.g. ``rank 1/2 (gloo, cpu)``."""
    return f'rank {rank}/{world_size} ({CPU_BACKEND}, cpu)'


def _count_sync_batchnorm(module: nn.Module) -> int:
    """Count torch and mmcv ``SyncBatchNorm`` layers in ``module``."""
    return sum(
        isinstance(m, nn.SyncBatchNorm) or type(m).__name__ == 'SyncBatchNorm'
        for m in module.modules())


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for processes without CUDA.

    Reverts every SyncBN layer of ``module`` to BN (SyncBN works on CUDA
    tensors only; each rank then normalises over its own batch) and wraps
    it with ``device_ids=None``, as DDP requires for CPU modules.
    ``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to every DDP
    subclass; that value is dropped here. Registered in MMEngine's root
    ``MODEL_WRAPPERS``, so ``model_wrapper_cfg`` of any scope can name it.

    Args:
        module (nn.Module): The model to wrap, on the CPU.
        detect_anomalous_params (bool): See ``MMDistributedDataParallel``.
            Defaults to False.
        **kwargs: Passed to ``torch.nn.parallel.DistributedDataParallel``
            except ``device_ids`` and ``output_device``. ``broadcast_buffers``
            defaults to False, as in ``Runner.wrap_model``.
    """

    def __init__(self,
                 module: nn.Module,
                 detect_anomalous_params: bool = False,
                 **kwargs) -> None:
        kwargs.pop('device_ids', None)
        kwargs.pop('output_device', None)
        kwargs.setdefault('broadcast_buffers', False)
        num_sync_bn = _count_sync_batchnorm(module)
        module = revert_sync_batchnorm(module)
        if torch.cuda.is_available():
            print_log(
                'CPUDistributedDataParallel runs on a machine with CUDA '
                '(was this config dumped by a CPU run?): SyncBN is still '
                'reverted to BN. Remove model_wrapper_cfg and set '
                "env_cfg.dist_cfg.backend='nccl' to train on the GPUs.",
                logger='current',
                level=logging.WARNING)
        else:
            print_log(
                f'CUDA is not available: {num_sync_bn} SyncBN layers were '
                'converted to BN, and DDP runs on the CPU '
                f'({torch_dist.get_backend()}, device_ids=None).',
                logger='current')
        super().__init__(
            module=module,
            detect_anomalous_params=detect_anomalous_params,
            device_ids=None,
            **kwargs)
        rank, world_size = get_dist_info()
        ranks = all_gather_object(rank_description(rank, world_size))
        print_log(
            f'{len(ranks)} processes joined: ' + ', '.join(ranks),
            logger='current')


def cpu_model_wrapper_cfg(cfg: Config) -> ConfigDict:
    """Turn ``cfg.model_wrapper_cfg`` into a ``CPUDistributedDataParallel``.

    Keeps the other keys of an existing ``model_wrapper_cfg`` (for example
    ``find_unused_parameters``); without one, reads the top-level
    ``find_unused_parameters`` as ``Runner.wrap_model`` does.

    Args:
        cfg (Config): The run's config.

    Returns:
        ConfigDict: The new ``model_wrapper_cfg``.

    Raises:
        ValueError: If the config asks for a wrapper other than
            ``MMDistributedDataParallel``.
    """
    wrapper_cfg = cfg.get('model_wrapper_cfg', None)
    if wrapper_cfg is None:
        return ConfigDict(
            type='CPUDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper_cfg = ConfigDict(wrapper_cfg.copy())
    wrapper_type = wrapper_cfg.get('type', 'MMDistributedDataParallel')
    name = wrapper_type if isinstance(wrapper_type, str) else getattr(
        wrapper_type, '__name__', repr(wrapper_type))
    if name.split('.')[-1] not in _DDP_TYPES:
        raise ValueError(
            f'model_wrapper_cfg.type={name!r} cannot run without CUDA: '
            'distributed runs on the CPU support MMDistributedDataParallel '
            f'only (allowed types: {_DDP_TYPES})')
    wrapper_cfg['type'] = 'CPUDistributedDataParallel'
    return wrapper_cfg


def _require_env(launcher: str, names: Tuple[str, ...]) -> Dict[str, str]:
    """Read environment variables a launcher must have set."""
    missing = [name for name in names if name not in os.environ]
    if missing:
        raise KeyError(
            f'--launcher {launcher} needs the environment variables '
            f'{", ".join(names)}, but {", ".join(missing)} is not set')
    return {name: os.environ[name] for name in names}


def _slurm_master_addr(node_list: str) -> str:
    """Return the first host of a SLURM node list, as mmengine does."""
    return subprocess.getoutput(
        f'scontrol show hostname {node_list} | head -n1').strip()


def _set_launcher_env(launcher: str, port: Optional[int]) -> Tuple[int, int]:
    """Fill in ``RANK``, ``WORLD_SIZE`` etc. from the launcher's variables.

    Mirrors MMEngine's ``_init_dist_pytorch``, ``_init_dist_slurm`` and
    ``_init_dist_mpi`` without their ``torch.cuda.set_device`` calls.

    Returns:
        tuple[int, int]: Rank and world size.
    """
    if launcher == 'pytorch':
        env = _require_env(
            launcher, ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'))
        os.environ.setdefault('LOCAL_RANK', '0')
        return int(env['RANK']), int(env['WORLD_SIZE'])
    if launcher == 'slurm':
        env = _require_env(launcher,
                           ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'))
        if port is not None:
            os.environ['MASTER_PORT'] = str(port)
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            os.environ['MASTER_ADDR'] = _slurm_master_addr(
                env['SLURM_NODELIST'])
        os.environ['WORLD_SIZE'] = env['SLURM_NTASKS']
        os.environ['RANK'] = env['SLURM_PROCID']
        os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
        return int(env['SLURM_PROCID']), int(env['SLURM_NTASKS'])
    if launcher == 'mpi':
        env = _require_env(launcher,
                           ('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE',
                            'OMPI_COMM_WORLD_LOCAL_RANK', 'MASTER_ADDR'))
        os.environ.setdefault('MASTER_PORT', '29500')
        os.environ['WORLD_SIZE'] = env['OMPI_COMM_WORLD_SIZE']
        os.environ['RANK'] = env['OMPI_COMM_WORLD_RANK']
        os.environ['LOCAL_RANK'] = env['OMPI_COMM_WORLD_LOCAL_RANK']
        return (int(env['OMPI_COMM_WORLD_RANK']),
                int(env['OMPI_COMM_WORLD_SIZE']))
    raise ValueError(f'launcher={launcher!r} is not a distributed launcher; '
                     f'allowed: {DISTRIBUTED_LAUNCHERS}')


def setup_cpu_distributed(cfg: Config) -> Tuple[int, int]:
    """Start a distributed run of ``cfg`` on the CPU with gloo.

    Joins the process group of ``cfg.launcher`` (``pytorch``, ``slurm`` or
    ``mpi``) with the gloo backend, unless a group exists already, and
    edits ``cfg`` for the ``Runner`` built next: ``env_cfg.dist_cfg.backend``
    becomes ``'gloo'`` and ``model_wrapper_cfg`` a
    :class:`CPUDistributedDataParallel`. Every rank prints one line such as
    ``rank 1/2 (gloo, cpu)`` to stdout (MMEngine's logger shows rank 0
    only).

    Args:
        cfg (Config): The run's config; ``cfg.launcher`` names the launcher
            and ``cfg.env_cfg.dist_cfg`` may hold ``timeout`` (seconds) and,
            for slurm, ``port``.

    Returns:
        tuple[int, int]: Rank and world size.
    """
    launcher = cfg.get('launcher', NO_LAUNCHER)
    if launcher not in DISTRIBUTED_LAUNCHERS:
        raise ValueError(
            f'setup_cpu_distributed: launcher={launcher!r} is not a '
            f'distributed launcher; allowed: {DISTRIBUTED_LAUNCHERS}')
    if cfg.get('env_cfg', None) is None:
        cfg.env_cfg = ConfigDict()
    if cfg.env_cfg.get('dist_cfg', None) is None:
        cfg.env_cfg.dist_cfg = ConfigDict()
    dist_cfg: Any = cfg.env_cfg.dist_cfg

    if not is_distributed():
        rank, world_size = _set_launcher_env(launcher, dist_cfg.get('port'))
        kwargs = {}
        if dist_cfg.get('timeout') is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
        torch_dist.init_process_group(
            backend=CPU_BACKEND,
            init_method='env://',
            rank=rank,
            world_size=world_size,
            **kwargs)
    rank, world_size = get_dist_info()

    dist_cfg.backend = CPU_BACKEND
    cfg.model_wrapper_cfg = cpu_model_wrapper_cfg(cfg)
    print(
        f'{rank_description(rank, world_size)} on {socket.gethostname()} '
        f'(pid {os.getpid()}): CUDA is not available, using {CPU_BACKEND}',
        flush=True)
    return rank, world_size


def finish_distributed() -> None:
    """Leave the process group, if any, once every rank got here.

    MMEngine never destroys the group it joins, and a gloo group left alive
    can abort a finished run at exit ("terminate called without an active
    exception", SIGABRT). A gloo worker thread (``pt_gloo_runloop``) that
    completes a collective drops the work's tensors; when it holds the last
    reference to a tensor whose Python object torch keeps alive from C++, it
    takes the GIL to release that object. If the main thread has meanwhile
    left ``main()`` and the interpreter is finalizing, CPython ends the
    worker as it gets the GIL (``take_gil`` -> ``PyThread_exit_thread``); the
    forced unwinding meets a C++ frame that may not throw, and
    ``std::terminate`` aborts the process. It takes a worker that is late
    for the GIL when a run ends, so it is rare and shows on loaded machines
    (``tests/test_engine/collective_at_exit.py`` forces that order).

    Here, while the interpreter is whole: the garbage of the runner's
    reference cycles is collected (drop every reference to the runner first,
    ``del runner``: its DDP wrapper holds the group), every rank waits for
    the others (the barrier releases the GIL, so workers finish what they
    hold), and the group is destroyed, which joins gloo's threads.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        gc.collect()
        torch_dist.barrier()
        torch_dist.destroy_process_group()
