# Copyright (c) glore_mm contributors. All rights reserved.
"""A rank whose last collective finishes while the interpreter exits.

Run on two gloo ranks (``python -m torch.distributed.run --nproc_per_node=2
collective_at_exit.py [--finish]``). Each rank starts an all-reduce of a
tensor it then drops, so the gloo worker thread that completes the
collective holds the last reference to the tensor's Python object and must
take the GIL to release it. The main thread keeps the GIL (a long switch
interval and a busy loop) until the collective is done, so the worker is
waiting for the GIL when the script ends; an object freed during
finalization then lets the GIL go. This is the order of events of a run
that ends right after its last collective while the worker thread is not
yet scheduled, made certain.

Without ``--finish`` the interpreter is finalizing when the worker gets the
GIL: CPython ends the thread (``PyThread_exit_thread``), the unwinding meets
a C++ frame that may not throw, and the process aborts with "terminate
called without an active exception". With ``--finish`` the script ends
with :func:`glore_mm.engine.finish_distributed`, as ``tools/train.py`` and
``tools/test.py`` do, and both ranks exit cleanly.
"""
import argparse
import sys
import time

import torch
from torch import distributed as torch_dist

from glore_mm.engine import finish_distributed

# How long the main thread keeps the GIL while the collective completes.
HOLD_SECONDS = 1.0


class ReleaseGILAtExit:
    """Freed while the interpreter finalizes: sleeping lets the GIL go."""

    def __del__(self, sleep=time.sleep) -> None:
        sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '--finish',
        action='store_true',
        help='end with glore_mm.engine.finish_distributed()')
    args = parser.parse_args()
    torch_dist.init_process_group('gloo')
    global release_at_exit
    release_at_exit = ReleaseGILAtExit()
    print(f'rank {torch_dist.get_rank()} started', flush=True)

    tensor = torch.ones(16)
    tensor.tag = 'held by the collective only'  # a Python object to keep
    torch_dist.all_reduce(tensor, async_op=True)
    del tensor
    # from here on no call may release the GIL before the script ends
    sys.setswitchinterval(1000.0)
    end = time.perf_counter() + HOLD_SECONDS
    while time.perf_counter() < end:
        pass
    if args.finish:
        finish_distributed()


if __name__ == '__main__':
    main()
