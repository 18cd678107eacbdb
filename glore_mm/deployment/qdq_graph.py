# Copyright (c) glore_mm contributors. All rights reserved.
"""The nodes of a GloRe graph that stay float in INT8, found by structure.

A GloRe unit with ``normalize=True`` multiplies by ``1/L``, L the number
of positions, computed from the input's shape. Quantisation gives each
tensor one range, calibrated at the calibration set's size; the tensors
whose magnitude follows L are wrong at any other size: the factor itself,
and in the traced graph the projection scaled by it, ``B / L`` (its values
are L times larger at a size with L times fewer positions, and are
clipped to the calibrated range; at a larger size they use a fraction of
the int8 levels). Once summed over the positions (the product with the
features, or a reduction) the result is an average and no longer follows
L. :func:`float_nodes` finds, for each such factor:

- the ``Mul``/``Div`` of data by a factor computed from the input's shape;
- the layout ops (reshape, transpose, ...) that carry its data operand
  from a sum over the positions (``MatMul``, ``ReduceSum``), and that sum:
  in the paper's order the graph sums first and scales after;
- the layout ops that carry its result on, up to and including the
  ``MatMul`` / ``ReduceSum`` that sums it over the positions (the first of
  these products pools the features onto the nodes).

With ``'nodes'`` also the unit's two products of activations stay float
(pooling the features onto the nodes, spreading the nodes back over the
positions: ``MatMul`` nodes both of whose operands depend on the input),
and every node between them: the reasoning on the node features, whose
ranges also depend on L (an average over fewer positions spreads wider).
It costs little: the node features are ``num_state x num_node`` per
sample, whatever the input size. A unit without ``1/L``
(``normalize=False``) sums over the positions: its node features, and
its output, grow with L, and no range calibrated at one size fits
another.

ONNX Runtime's QDQ quantiser gives a tensor one quantize/dequantize pair
that all its consumers share, a node kept float included;
:func:`read_float_inputs` rewires the float nodes to read the float tensor
itself, so that they compute on unrounded values.
"""
from typing import Dict, List, Set, Tuple

#: What stays float, from least to most (see the module's docstring).
KEEP_FLOAT = ('none', 'scale', 'nodes')
#: Nodes whose outputs depend on their input's shape only.
SHAPE_OPS = ('Shape', 'Size')
#: Nodes that move values without changing them.
LAYOUT_OPS = ('Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Flatten')
#: Nodes that sum over an axis (the positions, in a GloRe unit).
SUM_OPS = ('MatMul', 'ReduceSum', 'Gemm')
#: Op types counted as compute in the summary of a quantised graph.
COMPUTE_OPS = ('Conv', 'MatMul', 'Gemm', 'Mul', 'Div', 'Add')


def data_tensors(graph) -> Set[str]:
    """Tensors whose values depend on the values of the graph's input."""
    weights = {init.name for init in graph.initializer}
    data = {i.name for i in graph.input if i.name not in weights}
    for node in graph.node:  # nodes are in topological order
        if node.op_type not in SHAPE_OPS and data.intersection(node.input):
            data.update(node.output)
    return data


def shape_tensors(graph, data: Set[str]) -> Set[str]:
    """Tensors computed from the input's shape (and constants) only."""
    shapes: Set[str] = set()
    for node in graph.node:
        if node.op_type in SHAPE_OPS or (shapes.intersection(node.input) and
                                         not data.intersection(node.input)):
            shapes.update(node.output)
    return shapes


def _producers_consumers(graph) -> Tuple[Dict, Dict[str, List]]:
    producer = {out: node for node in graph.node for out in node.output}
    consumers: Dict[str, List] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    return producer, consumers


def _scale_region(node, data: Set[str], producer: Dict,
                  consumers: Dict[str, List]) -> List[str]:
    """Names of the nodes around one ``1/L`` factor whose tensors follow L.
    """
    region = [node.name]
    (operand, ) = [i for i in node.input if i in data]
    # back to the sum over the positions, if the graph sums first
    back = []
    while operand in producer:
        source = producer[operand]
        if source.op_type in LAYOUT_OPS:
            back.append(source.name)
            operand = source.input[0]
            continue
        if source.op_type in SUM_OPS:
            region += back + [source.name]
        break
    # on to the sum over the positions of the scaled tensor
    frontier = list(node.output)
    while frontier:
        for user in consumers.get(frontier.pop(), []):
            if user.name in region:
                continue
            region.append(user.name)
            if user.op_type in LAYOUT_OPS:
                frontier += list(user.output)
    return region


def _root(name: str, producer: Dict, shapes: Set[str]) -> str:
    """The tensor that ``name`` is a view of: back through layout ops and
    scaling by a factor computed from the shape."""
    while name in producer:
        node = producer[name]
        if node.op_type in LAYOUT_OPS:
            name = node.input[0]
        elif node.op_type in ('Mul', 'Div') and any(i in shapes
                                                    for i in node.input):
            name = next(i for i in node.input if i not in shapes)
        else:
            break
    return name


def _reach(start: str, edges: Dict[str, List[str]]) -> Set[str]:
    """Names reachable from node ``start`` along ``edges``, itself too."""
    seen = {start}
    stack = [start]
    while stack:
        for name in edges.get(stack.pop(), []):
            if name not in seen:
                seen.add(name)
                stack.append(name)
    return seen


def _node_spaces(graph, data: Set[str], shapes: Set[str],
                 producer: Dict) -> Set[str]:
    """Names of the nodes from each pooling product to its spreading one.

    A unit's two products of activations (``MatMul`` of two data tensors)
    share an operand, the projection ``B`` (as it is, transposed or
    scaled by ``1/L``): the first pools the features onto the nodes, the
    second, which depends on it, spreads the nodes back. The nodes on the
    paths from the first to the second are the reasoning on the node
    features.
    """
    products = [
        node for node in graph.node
        if node.op_type == 'MatMul' and all(i in data for i in node.input)
    ]
    roots = {
        node.name: {_root(i, producer, shapes)
                    for i in node.input}
        for node in products
    }
    after: Dict[str, List[str]] = {}
    before: Dict[str, List[str]] = {}
    for node in graph.node:
        for name in node.input:
            if name in producer:
                after.setdefault(producer[name].name, []).append(node.name)
                before.setdefault(node.name, []).append(producer[name].name)
    region: Set[str] = set()
    for pool in products:
        descendants = _reach(pool.name, after)
        for spread in products:
            if (spread.name != pool.name and spread.name in descendants
                    and roots[pool.name] & roots[spread.name]):
                region |= descendants & _reach(spread.name, before)
    return region


def float_nodes(model, keep_float: str) -> List[str]:
    """Names of the nodes of ``model`` that ``keep_float`` keeps float.

    Args:
        model (onnx.ModelProto): The (pre-processed) float model.
        keep_float (str): One of :data:`KEEP_FLOAT`.

    Returns:
        list[str]: In graph order (see the module's docstring).

    Raises:
        ValueError: If ``keep_float`` is not offered.
    """
    if keep_float not in KEEP_FLOAT:
        raise ValueError(
            f'keep_float {keep_float!r} is not one of {KEEP_FLOAT}')
    if keep_float == 'none':
        return []
    graph = model.graph
    data = data_tensors(graph)
    shapes = shape_tensors(graph, data)
    producer, consumers = _producers_consumers(graph)
    kept: Set[str] = set()
    for node in graph.node:
        inputs = list(node.input)
        if (node.op_type in ('Mul', 'Div') and len(inputs) == 2
                and sum(i in data for i in inputs) == 1
                and any(i in shapes for i in inputs)):
            kept.update(_scale_region(node, data, producer, consumers))
    if keep_float == 'nodes':
        kept |= _node_spaces(graph, data, shapes, producer)
    return [node.name for node in graph.node if node.name in kept]


def read_float_inputs(model, names: List[str]) -> None:
    """Make the nodes ``names`` read float tensors, not dequantised ones.

    Each input of theirs that is ``DequantizeLinear(QuantizeLinear(t))`` is
    replaced by ``t``; quantize/dequantize nodes no longer read are
    removed. Weights (dequantised initializers) stay as they are.

    Args:
        model (onnx.ModelProto): A QDQ model, changed in place.
        names (list[str]): The float nodes.
    """
    graph = model.graph
    producer, _ = _producers_consumers(graph)
    wanted = set(names)
    for node in graph.node:
        if node.name not in wanted:
            continue
        for index, name in enumerate(node.input):
            dequantize = producer.get(name)
            if dequantize is None or dequantize.op_type != 'DequantizeLinear':
                continue
            quantize = producer.get(dequantize.input[0])
            if quantize is not None and quantize.op_type == 'QuantizeLinear':
                node.input[index] = quantize.input[0]
    _remove_unread_qdq(graph)


def _remove_unread_qdq(graph) -> None:
    """Remove quantize/dequantize nodes and scales no node reads."""
    outputs = {o.name for o in graph.output}
    freed: Set[str] = set()
    while True:
        read = {name for node in graph.node for name in node.input} | outputs
        unread = [
            node for node in graph.node
            if node.op_type in ('QuantizeLinear', 'DequantizeLinear')
            and not read.intersection(node.output)
        ]
        if not unread:
            break
        for node in unread:
            freed.update(node.input)
            graph.node.remove(node)
    for init in [i for i in graph.initializer if i.name in freed - read]:
        graph.initializer.remove(init)


def count_compute(model) -> Tuple[Dict[str, int], Dict[str, int]]:
    """Compute nodes (:data:`COMPUTE_OPS`) that read quantised values.

    Returns:
        tuple[dict, dict]: Op type to count, of the nodes with an input
        from ``DequantizeLinear``, and of the others (float).
    """
    producer, _ = _producers_consumers(model.graph)
    quantized: Dict[str, int] = {}
    kept: Dict[str, int] = {}
    for node in model.graph.node:
        if node.op_type not in COMPUTE_OPS:
            continue
        fed = any(i in producer and producer[i].op_type == 'DequantizeLinear'
                  for i in node.input)
        counts = quantized if fed else kept
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return quantized, kept
