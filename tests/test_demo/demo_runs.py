# Copyright (c) glore_mm contributors. All rights reserved.
"""What the demo tests read from a demo's output, and the names test_mim.py
takes from here (the tiny runs themselves: tests/tiny_runs.py)."""
import re
from typing import Dict, List, Tuple

from tests.tiny_runs import NUM_VAL, mim_command

__all__ = ['NUM_VAL', 'mim_command', 'TOP_K_LINE', 'parse_top_k']

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
