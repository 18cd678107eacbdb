# Copyright (c) glore_mm contributors. All rights reserved.
"""What submodules see and give during a forward pass, by forward hooks."""
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Tuple

import torch.nn as nn

#: ``record(module, args, output)``: what to keep of one call; ``output``
#: is None for pre-hooks.
Recorder = Callable[[nn.Module, Tuple, Optional[Any]], Any]


def _output(module: nn.Module, args: Tuple, output: Any) -> Any:
    return output


@contextmanager
def record_calls(modules: Mapping[str, nn.Module],
                 record: Recorder = _output,
                 pre: bool = False,
                 first: bool = False) -> Iterator[Dict[str, Any]]:
    """Record a value of every call of ``modules`` while inside.

    Example:
        >>> with record_calls({'layer3': model.layer3}) as outputs:
        ...     model(inputs)
        >>> outputs['layer3'].shape

    Args:
        modules (Mapping[str, nn.Module]): The modules, by the names the
            records are kept under.
        record (Callable): ``record(module, args, output)`` returns what is
            kept of a call. Defaults to the output.
        pre (bool): Record before the call (a forward pre-hook, ``output``
            None), e.g. to run a submodule on the input. Defaults to False.
        first (bool): Keep a module's first call; otherwise its last.
            Defaults to False.

    Yields:
        dict: Name to record, filled as the modules run. The hooks are
        removed on exit.
    """
    records: Dict[str, Any] = {}

    def hook(name: str) -> Callable:

        def keep(module: nn.Module, args: Tuple, output: Any = None) -> None:
            if not (first and name in records):
                records[name] = record(module, args, output)

        return keep

    handles = [
        module.register_forward_pre_hook(hook(name))
        if pre else module.register_forward_hook(hook(name))
        for name, module in modules.items()
    ]
    try:
        yield records
    finally:
        for handle in handles:
            handle.remove()
