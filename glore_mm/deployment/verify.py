# Copyright (c) glore_mm contributors. All rights reserved.
"""Check an exported model against PyTorch at several input sizes.

A back end (:class:`~glore_mm.deployment.runtime.Runtime`: ONNX Runtime or
OpenVINO) and PyTorch (eval mode) run the same inputs at the export size
and at two other sizes, and their outputs are compared as
``max |runtime - torch|`` and that divided by ``max |torch|``. The inputs
are standard normal noise unless the caller gives a function that makes
them (an INT8 model is checked on inputs like its calibration set's).

One of the other sizes is chosen so that a GloRe unit of the model takes
its matrix products in the other order than at the export size (the
unit's own rule, ``nodes_first`` of
:mod:`glore_mm.models.layers.glore_products`, applied to the number of
positions each unit sees): the exported graph keeps the export size's order
for every size, which computes the same function, and the check measures
that it does. The third size changes the batch, the height and width (and
the clip length) otherwise.

While PyTorch runs, each unit's input size, product order and the size of
its residual branch (``|unit(x) - x| / |x|``) are recorded: a unit whose
gate is closed is the identity, and a check of it says nothing about the
unit.
"""
import math
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from glore_mm.analysis.probes import branch_scale
from glore_mm.models import glore_units_of
from glore_mm.models.layers.glore_products import (nodes_first,
                                                   nodes_first_threshold)
from glore_mm.utils import record_calls
from .runtime import Runtime
from .wrappers import ExportSpec

#: Largest ``max |runtime - torch| / max |torch|`` that passes in fp32.
RTOL = 1e-4
#: Units with a branch below this fraction of their input count as closed.
CLOSED_BRANCH = 1e-6


class UnitRecord(NamedTuple):
    """What one GloRe unit saw in a forward pass.

    Attributes:
        channels (int): Channels C of its input.
        positions (int): Positions L of its input (``H*W`` or ``T*H*W``).
        num_state (int): Its states per node.
        num_node (int): Its nodes.
        nodes_first (bool, optional): Whether it took the nodes-first
            product order; None if it has no choice (convs other than
            plain 1x1 run as modules).
        branch (float): ``|unit(x) - x| / |x|`` (L2 norms) of its residual
            branch; 0 for a closed gate.
    """
    channels: int
    positions: int
    num_state: int
    num_node: int
    nodes_first: Optional[bool]
    branch: float


class SizeCheck(NamedTuple):
    """A back end against PyTorch at one input size.

    Attributes:
        label (str): Why this size: ``'export size'``, ``'other order'``
            or ``'other size'``.
        shape (tuple[int]): The input shape.
        max_abs (float): ``max |runtime - torch|``.
        max_rel (float): ``max_abs / max |torch|``.
        units (dict): :class:`UnitRecord` per unit name, in PyTorch.
        error (str): Why the back end gave no comparable output (it failed,
            or gave another shape); empty if it did.
        rtol (float): The largest ``max_rel`` that passes. Defaults to
            :data:`RTOL`.
    """
    label: str
    shape: Tuple[int, ...]
    max_abs: float
    max_rel: float
    units: Dict[str, UnitRecord]
    error: str = ''
    rtol: float = RTOL

    @property
    def passed(self) -> bool:
        return not self.error and self.max_rel <= self.rtol


def product_order(unit: nn.Module, x: Tensor) -> Optional[bool]:
    """Whether ``unit`` takes the nodes-first order on input ``x``.

    None when the unit has no choice of order (its convs are not all
    plain 1x1 convs).
    """
    if not unit.pointwise:
        return None
    return nodes_first(x.shape[1], unit.num_state, unit.num_node,
                       math.prod(x.shape[2:]))


@contextmanager
def record_units(model: nn.Module) -> Iterator[Dict[str, UnitRecord]]:
    """Record a :class:`UnitRecord` of every GloRe unit while inside.

    For an export wrapper (:mod:`glore_mm.deployment.wrappers`) the names
    are those inside the wrapped model, e.g. ``decode_head.glore``.

    Yields:
        dict: Filled by each forward pass, unit name to record (the last
        call of a unit wins).
    """

    def record(unit: nn.Module, args: Tuple, output: Tensor) -> UnitRecord:
        x = args[0]
        return UnitRecord(x.shape[1], math.prod(x.shape[2:]), unit.num_state,
                          unit.num_node, product_order(unit, x),
                          branch_scale(x, output))

    units = glore_units_of(getattr(model, 'model', model))
    with record_calls(units, record) as records:
        yield records


#: Makes the input of a check: ``(shape, seed) -> Tensor``.
InputMaker = Callable[[Tuple[int, ...], int], Tensor]


def random_input(shape: Tuple[int, ...], seed: int) -> Tensor:
    """Standard normal noise of ``shape``, seeded."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator)


def run_recorded(module: nn.Module, x: Tensor) -> Tuple[Tensor, Dict]:
    """``module(x)`` without gradients, and its units' records."""
    with torch.no_grad(), record_units(module) as records:
        out = module(x)
    return out, dict(records)


def _order_changes(units: Dict[str, UnitRecord],
                   other: Dict[str, UnitRecord]) -> List[str]:
    """Names of the units whose product order differs between the two."""
    return [
        name for name, record in units.items()
        if record.nodes_first is not None and name in other
        and other[name].nodes_first is not None
        and other[name].nodes_first != record.nodes_first
    ]


def _scaled(shape: Tuple[int, ...], axes: Tuple[str, ...], factor: float,
            batch: int) -> Tuple[int, ...]:
    """``shape`` with height and width times ``factor`` (at least 1)."""
    return tuple(
        batch if axis == 'batch' else max(1, round(size * factor)) if axis in (
            'height', 'width') else size for size, axis in zip(shape, axes))


def other_order_shape(module: nn.Module,
                      shape: Tuple[int, ...],
                      units: Dict[str, UnitRecord],
                      spec: ExportSpec,
                      batch: int = 1,
                      tries: int = 12) -> Optional[Tuple[int, ...]]:
    """An input shape at which some unit takes the other product order.

    From each unit's positions at ``shape`` and its order threshold
    (:func:`nodes_first_threshold`), the height and width are scaled by the
    factor that would just flip the unit needing the smallest change;
    PyTorch then runs at that size to confirm, scaling further (by 0.85 or
    1/0.85 per side) until some unit changed.

    Args:
        module (nn.Module): The exported tensor function.
        shape (tuple[int]): The export shape.
        units (dict): :class:`UnitRecord` per unit at ``shape``.
        spec (ExportSpec): Names the axes of ``shape``.
        batch (int): Batch of the returned shape. Defaults to 1.
        tries (int): Sizes to try. Defaults to 12.

    Returns:
        tuple[int] | None: The shape, or None if no unit has a choice of
        order or no size was found.
    """
    factors = []
    for record in units.values():
        if record.nodes_first is None:
            continue
        threshold = nodes_first_threshold(record.channels, record.num_state,
                                          record.num_node)
        if threshold is None:
            continue
        # the largest area with fewer positions than the threshold, or the
        # smallest with as many
        if record.nodes_first and threshold > 1:
            factors.append((threshold - 1) / record.positions)
        elif not record.nodes_first:
            factors.append(threshold / record.positions)
    if not factors:
        return None
    area = min(factors, key=lambda f: abs(math.log(f)))
    factor = math.sqrt(area)
    step = 0.85 if area < 1 else 1 / 0.85
    tried = set()
    for _ in range(tries):
        candidate = _scaled(shape, spec.input_axes, factor, batch)
        if candidate not in tried:
            tried.add(candidate)
            _, other = run_recorded(module, random_input(candidate, 0))
            if _order_changes(units, other):
                return candidate
        factor *= step
    return None


def third_shape(shape: Tuple[int, ...], spec: ExportSpec,
                batch: int) -> Tuple[int, ...]:
    """Another batch, 3/4 of the height, 5/4 of the width, 3/2 the clip."""
    scale = dict(time=1.5, height=0.75, width=1.25)
    return tuple(batch if axis == 'batch' else int(size * scale[axis]) +
                 1 if axis in scale else size
                 for size, axis in zip(shape, spec.input_axes))


def compare(module: nn.Module,
            runtime: Runtime,
            shape: Tuple[int, ...],
            label: str,
            seed: int = 0,
            make_input: InputMaker = random_input,
            rtol: float = RTOL) -> SizeCheck:
    """Run PyTorch and ``runtime`` on one input of ``shape``.

    Args:
        module (nn.Module): The exported tensor function, in eval mode.
        runtime (Runtime): The exported model in a back end.
        shape (tuple[int]): Input shape.
        label (str): Why this size is checked.
        seed (int): Seed of the input. Defaults to 0.
        make_input (Callable): Makes the input from the shape and the seed.
            Defaults to :func:`random_input`.
        rtol (float): The largest relative difference that passes.
            Defaults to :data:`RTOL`.

    Returns:
        SizeCheck: The differences and the units' records.
    """
    x = make_input(tuple(shape), seed)
    expected, units = run_recorded(module, x)
    expected = expected.numpy()
    try:
        got = runtime(x.numpy())
    except Exception as err:  # each back end raises its own types
        # a size the graph cannot take, e.g. one frozen at export
        return SizeCheck(label, tuple(shape), math.inf, math.inf, units,
                         f'{runtime.name} failed: {err}', rtol)
    if got.shape != expected.shape:
        return SizeCheck(
            label, tuple(shape), math.inf, math.inf, units,
            f'{runtime.name} gave an output of shape {list(got.shape)}, '
            f'PyTorch {list(expected.shape)}', rtol)
    max_abs = float(np.abs(got - expected).max())
    scale = float(np.abs(expected).max())
    max_rel = max_abs / scale if scale > 0 else (
        0.0 if max_abs == 0 else math.inf)
    return SizeCheck(label, tuple(shape), max_abs, max_rel, units, '', rtol)


def verify_onnx(module: nn.Module,
                runtime: Runtime,
                export_shape: Tuple[int, ...],
                spec: ExportSpec,
                dynamic: bool = True,
                seed: int = 0,
                make_input: InputMaker = random_input,
                rtol: float = RTOL) -> List[SizeCheck]:
    """Compare ``runtime`` with PyTorch at the export size and two others.

    Args:
        module (nn.Module): The exported tensor function, in eval mode.
        runtime (Runtime): The exported model in a back end
            (:func:`~glore_mm.deployment.runtime.load_runtime`).
        export_shape (tuple[int]): The shape it was exported with.
        spec (ExportSpec): Names the axes.
        dynamic (bool): Whether the export has free axes; a static one is
            checked at its own size only. Defaults to True.
        seed (int): Seed of the inputs. Defaults to 0.
        make_input (Callable): Makes each input from its shape and seed.
            Defaults to :func:`random_input`.
        rtol (float): The largest relative difference that passes.
            Defaults to :data:`RTOL`, the float32 bound.

    Returns:
        list[SizeCheck]: The export size first, then (dynamic exports) the
        other-order size, if the model has units with a choice, and the
        third size.
    """

    def check(shape: Tuple[int, ...], label: str, offset: int) -> SizeCheck:
        return compare(module, runtime, shape, label, seed + offset,
                       make_input, rtol)

    checks = [check(export_shape, 'export size', 0)]
    if not dynamic:
        return checks
    batch = 1 if export_shape[0] != 1 else 2
    flipped = other_order_shape(module, export_shape, checks[0].units, spec,
                                batch)
    if flipped is not None:
        checks.append(check(flipped, 'other order', 1))
    checks.append(
        check(third_shape(export_shape, spec, batch), 'other size', 2))
    return checks


def _order_name(nodes_first: Optional[bool]) -> str:
    return {None: 'fixed', True: 'nodes first', False: 'paper'}[nodes_first]


def format_checks(checks: List[SizeCheck], runtime: Runtime) -> str:
    """A readable report of :func:`verify_onnx`'s checks of ``runtime``."""
    base = checks[0].units
    computes = runtime.precision + (', int8 where quantised'
                                    if runtime.quantized else '')
    lines = [
        f'{runtime.name} against PyTorch ({runtime.backend}, computes in '
        f'{computes}): {runtime.path}',
        f'GloRe units at the export size {list(checks[0].shape)} (the '
        'graph keeps their product order for every size):'
    ]
    if not base:
        lines.append('  none')
    for name, record in base.items():
        lines.append(
            f'  {name}: C={record.channels}, L={record.positions} '
            f'positions, order {_order_name(record.nodes_first)}, branch '
            f'|unit(x) - x| / |x| = {record.branch:.3g}')
    if base and all(r.branch < CLOSED_BRANCH for r in base.values()):
        lines.append('  warning: every unit is the identity (closed gates): '
                     'this check does not exercise them')
    for check in checks:
        changed = _order_changes(base, check.units)
        note = (f'; other order in {len(changed)} of {len(base)} units '
                f'({", ".join(changed)})' if changed else '')
        if check.error:
            lines.append(f'{check.label:>11} {str(list(check.shape)):<22} '
                         f'FAILED: {check.error}')
            continue
        status = 'ok' if check.passed else 'FAILED'
        lines.append(
            f'{check.label:>11} {str(list(check.shape)):<22} max abs '
            f'{check.max_abs:.3g}, max rel {check.max_rel:.3g} (tolerance '
            f'{check.rtol:g}) {status}{note}')
    if runtime.precision != 'f32' and not all(c.passed for c in checks):
        lines.append(
            f'{runtime.name} computes in {runtime.precision}: its rounding '
            f'is above the float32 tolerance {RTOL:g}; the differences '
            'above are what that precision costs')
    if len(checks) > 1 and 'other order' not in [c.label for c in checks]:
        if any(r.nodes_first is not None for r in base.values()):
            lines.append('no size with another product order was found')
        else:
            lines.append('no size with another product order: no unit of '
                         'this model chooses one')
    return '\n'.join(lines)
