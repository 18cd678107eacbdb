# Copyright (c) glore_mm contributors. All rights reserved.
"""What inference gives per input, and how it is printed and saved.

Segmentation and detection write files (:class:`SegmentationFiles`,
:class:`DetectionFiles`); classification and action recognition give the
best classes (:class:`TopK`), which neither mmpretrain's nor mmaction's
inferencer picks: they return the best class and every score.
"""
from typing import List, NamedTuple, Optional, Sequence, Union

import numpy as np
from mmengine.fileio import dump

from glore_mm.utils import atomic_output


class TopK(NamedTuple):
    """The k best classes of one input, best first.

    Attributes:
        source (str): The image or video.
        labels (list[int]): Class indices.
        scores (list[float]): Their scores (the model's probabilities).
        names (list[str], optional): Their names, when known.
    """
    source: str
    labels: List[int]
    scores: List[float]
    names: Optional[List[str]]


class SegmentationFiles(NamedTuple):
    """What segmenting one image wrote.

    Attributes:
        source (str): The image.
        overlay (str): PNG of the image with the predicted classes drawn
            over it in the dataset's palette.
        label_map (str): PNG of the predicted class index of every pixel
            (8-bit, the image's size), as mmseg's ``IoUMetric`` writes with
            ``output_dir``.
    """
    source: str
    overlay: str
    label_map: str


class DetectionFiles(NamedTuple):
    """What detecting the objects of one image wrote.

    Attributes:
        source (str): The image.
        overlay (str): PNG of the image with the detections of at least
            the score threshold drawn over it: boxes, masks, class names
            and scores, by mmdet's visualizer.
        predictions (str): JSON of every detection of the model (mmdet's
            ``DetInferencer.pred2dict``: ``labels``, ``scores``, ``bboxes``
            as ``[x1, y1, x2, y2]`` in pixels of the image, ``masks`` as
            COCO RLE for instance segmentation), with the image
            (``source``), the class name of every label (``label_names``)
            and the ``score_thr`` the overlay was drawn with.
        num_drawn (int): The detections drawn on the overlay.
    """
    source: str
    overlay: str
    predictions: str
    num_drawn: int


def check_topk(k: int) -> None:
    """Raise ValueError unless ``k``, a number of best classes, is >= 1."""
    if k < 1:
        raise ValueError(f'topk must be at least 1, but got {k}')


def top_k(source: str,
          scores: Union[np.ndarray, Sequence[float]],
          k: int,
          class_names: Optional[Sequence[str]] = None) -> TopK:
    """The ``k`` best classes of a score vector (all if it has fewer).

    Args:
        source (str): The input the scores are for.
        scores (np.ndarray | Sequence[float]): One score per class.
        k (int): How many, at least 1.
        class_names (Sequence[str], optional): A name per class.

    Returns:
        TopK: The best classes, best first (ties by class index).

    Raises:
        ValueError: If ``k`` < 1 or ``class_names`` has a different length.
    """
    check_topk(k)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if class_names is not None and len(class_names) != len(scores):
        raise ValueError(f'{len(class_names)} class names for a model with '
                         f'{len(scores)} classes')
    order = np.argsort(-scores, kind='stable')[:k]
    names = None
    if class_names is not None:
        names = [str(class_names[i]) for i in order]
    return TopK(source, [int(i) for i in order],
                [float(scores[i]) for i in order], names)


def describe(prediction: TopK, rank: int = 0) -> str:
    """``'<name or index>: <score>'`` of one of the best classes."""
    name = (
        prediction.names[rank]
        if prediction.names is not None else str(prediction.labels[rank]))
    return f'{name}: {prediction.scores[rank]:.2f}'


def format_top_k(prediction: TopK) -> str:
    """Lines ``'  <rank>. <index> (<name>): <score>'`` under the input."""
    lines = [prediction.source]
    for rank, (label,
               score) in enumerate(zip(prediction.labels, prediction.scores)):
        name = ''
        if prediction.names is not None:
            name = f' ({prediction.names[rank]})'
        lines.append(f'  {rank + 1}. {label}{name}: {score:.6f}')
    return '\n'.join(lines)


def save_top_k(predictions: Sequence[TopK], path: str) -> None:
    """Write predictions as a JSON list of ``{source, labels, scores,
    names}``."""
    with atomic_output(path) as tmp:
        dump([p._asdict() for p in predictions], tmp, file_format='json')


def format_result(
        result: Union[SegmentationFiles, DetectionFiles, TopK]) -> str:
    """What a demo prints for one input's result."""
    if isinstance(result, SegmentationFiles):
        return (f'{result.source}\n  overlay: {result.overlay}\n'
                f'  label map: {result.label_map}')
    if isinstance(result, DetectionFiles):
        return (f'{result.source}\n  overlay: {result.overlay} '
                f'({result.num_drawn} detections drawn)\n'
                f'  predictions: {result.predictions}')
    return format_top_k(result)
