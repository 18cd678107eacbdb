# Copyright (c) glore_mm contributors. All rights reserved.
"""What every report of a measurement shows: tables and the machine."""
import os
import os.path as osp
import platform
import sys
from typing import Dict, Iterable, Optional, Sequence

import torch


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A GitHub-flavoured markdown table.

    Args:
        columns (Sequence[str]): The header.
        rows (Iterable[Sequence]): One sequence of cells per row; a cell is
            written as ``str(cell)``.

    Returns:
        str: The table, lines joined by newlines, without a final newline.
    """
    lines = [
        '| ' + ' | '.join(columns) + ' |',
        '|' + '|'.join('---' for _ in columns) + '|'
    ]
    lines += ['| ' + ' | '.join(str(v) for v in row) + ' |' for row in rows]
    return '\n'.join(lines)


def cpu_name() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, else what Python knows."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or 'unknown'


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, or ``'unknown'``."""
    if not hasattr(os, 'getloadavg'):
        return 'unknown'
    return ' '.join(f'{v:.1f}' for v in os.getloadavg())


def package_versions(packages: Sequence[str]) -> Dict[str, str]:
    """``{name: version}`` of the importable ones among ``packages``."""
    versions = {}
    for package in packages:
        try:
            module = __import__(package)
        except ImportError:
            continue
        versions[package] = getattr(module, '__version__', 'unknown')
    return versions


def machine_info(device: str = 'cpu',
                 threads: Optional[int] = None,
                 packages: Sequence[str] = ()) -> Dict[str, str]:
    """The machine a measurement ran on, for its report.

    Every report of glore_mm describes its machine with this.

    Args:
        device (str): ``'cpu'`` or ``'cuda'``; with ``'cuda'`` the GPU's
            name is added. Defaults to ``'cpu'``.
        threads (int, optional): The threads the measured calls ran with,
            where they are not torch's intra-op threads (e.g. ONNX
            Runtime's). Defaults to None: torch's.
        packages (Sequence[str]): Packages whose versions are added after
            torch's (those importable). Defaults to none.

    Returns:
        dict[str, str]: ``cpu``, ``cores``, ``usable cores``, ``threads``,
        ``torch``, the ``packages``, ``python``, ``gpu`` (CUDA only) and
        ``load average`` at the time of the call.
    """
    usable = (
        len(os.sched_getaffinity(0))
        if hasattr(os, 'sched_getaffinity') else os.cpu_count())
    info = {
        'cpu': cpu_name(),
        'cores': str(os.cpu_count()),
        'usable cores': str(usable),
        'threads': str(threads or torch.get_num_threads()),
        'torch': torch.__version__,
        **package_versions(packages),
        'python': platform.python_version(),
    }
    if device.startswith('cuda'):
        info['gpu'] = torch.cuda.get_device_name()
    info['load average'] = load_average()
    return info


def machine_line(info: Dict[str, str]) -> str:
    """``Machine: cpu X, cores N, ...``: :func:`machine_info` on one line."""
    return 'Machine: ' + ', '.join(f'{k} {v}' for k, v in info.items())


def command_line(script: str, argv: Optional[Sequence[str]] = None) -> str:
    """The command that ran ``script``, for its report.

    Args:
        script (str): The script's file (a tool's ``__file__``), written
            relative to the working directory.
        argv (Sequence[str], optional): Its arguments. Defaults to None:
            ``sys.argv[1:]``.

    Returns:
        str: ``python <script> <arguments>``.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    return 'python ' + ' '.join([osp.relpath(script)] + args)
