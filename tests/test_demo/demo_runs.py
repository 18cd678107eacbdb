# Copyright (c) glore_mm contributors. All rights reserved.
"""Constants and functions of the demo and mim tests."""
import re
import sys
from pathlib import Path
from typing import Dict, List, Tuple

from tool_runner import REPO, TOOLS

SEG_CONFIG = REPO / 'tests/data/configs/tiny_glore_fcn_cityscapes.py'
MAKE_CITYSCAPES = TOOLS / 'dataset_converters' / 'make_tiny_cityscapes.py'
NUM_TRAIN, NUM_VAL = 2, 2
IMAGE_SIZE = (64, 128)  # height, width
TRAIN_ITERS = 2


def mim_command(*args) -> List[str]:
    """``mim ARGS`` with this interpreter (``python -m mim``)."""
    return [sys.executable, '-m', 'mim', *map(str, args)]


def seg_options(data_root: Path) -> List[str]:
    """Data root and a 2-iteration schedule, as ``--cfg-options``."""
    return [
        '--cfg-options', *[
            f'{split}_dataloader.dataset.data_root={data_root}'
            for split in ('train', 'val', 'test')
        ], f'train_cfg.max_iters={TRAIN_ITERS}',
        f'train_cfg.val_interval={TRAIN_ITERS + 1}',
        f'default_hooks.checkpoint.interval={TRAIN_ITERS}',
        'default_hooks.logger.interval=1'
    ]


# '  1. 3 (name): 0.123456' under the input's own line
TOP_K_LINE = re.compile(r'^  (\d+)\. (\d+)(?: \((.*)\))?: (\d+\.\d+)$')


def parse_top_k(stdout: str) -> Dict[str, List[Tuple[int, str, float]]]:
    """``{input: [(label, name or None, score), ...]}`` from a demo's
    output (inputs with no top-k line are left out)."""
    results: Dict[str, List[Tuple[int, str, float]]] = {}
    source = None
    for line in stdout.splitlines():
        match = TOP_K_LINE.match(line)
        if match and source is not None:
            results[source].append((int(match[2]), match[3], float(match[4])))
        elif line and not line.startswith(' '):
            source = line.strip()
            results.setdefault(source, [])
    return {k: v for k, v in results.items() if v}
