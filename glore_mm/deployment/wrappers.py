# Copyright (c) glore_mm contributors. All rights reserved.
"""Tensor-to-tensor views of mmseg, mmpretrain and mmaction models.

An exporter traces a module that maps tensors to tensors. The OpenMMLab
models take data samples and return them; each class here runs one kind of
model from its data preprocessor's output (normalised images or clips) to
the raw network output, with nothing that the exporter cannot follow:

Each keeps the wrapped model as ``model``, so parameter and module names
inside it are the model's own (``model.decode_head.glore``).

- :class:`SegmentorExport`: mmseg's ``mode='tensor'`` forward (backbone,
  neck, decode head), resized to the input, as whole-image inference does:
  logits ``[N, num_classes, H, W]``.
- :class:`ClassifierExport`: mmpretrain's ``mode='tensor'`` forward with
  its head: logits ``[N, num_classes]``.
- :class:`RecognizerExport`: mmaction's recognizer up to its classification
  head, one clip per row: scores ``[N, num_classes]`` before mmaction
  averages the views of a video (``average_clips``).

:data:`EXPORT_SPECS` says, per ``default_scope``, which class to use and
how the input and output axes are named.
"""
from typing import Dict, NamedTuple, Optional, Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor, nn


class SegmentorExport(nn.Module):
    """An mmseg ``EncoderDecoder`` as ``inputs -> logits`` at input size.

    Runs ``segmentor(inputs, mode='tensor')`` and resizes the decode head's
    logits to the input's height and width, bilinearly with the decode
    head's ``align_corners``, as mmseg's whole-image inference does before
    its post-processing (cropping padding, resizing to the original image,
    argmax).

    Args:
        segmentor (nn.Module): An mmseg ``EncoderDecoder``.
    """

    def __init__(self, segmentor: nn.Module) -> None:
        super().__init__()
        self.model = segmentor
        self.align_corners = bool(segmentor.decode_head.align_corners)
        #: Channels of the output (1 for a binary head with a threshold).
        self.num_classes = int(segmentor.decode_head.out_channels)

    def forward(self, inputs: Tensor) -> Tensor:
        """Logits ``[N, num_classes, H, W]`` of images ``[N, C, H, W]``."""
        logits = self.model(inputs, mode='tensor')
        return F.interpolate(
            logits,
            size=inputs.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)


class ClassifierExport(nn.Module):
    """An mmpretrain ``ImageClassifier`` as ``inputs -> logits``.

    Args:
        classifier (nn.Module): An mmpretrain classifier with a head.
    """

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        if not getattr(classifier, 'with_head', False):
            raise ValueError(
                f'{type(classifier).__name__} has no head: its tensor output '
                'would be features, not logits; export a config whose model '
                'has a head')
        self.model = classifier
        #: Classes of the output, if the head says.
        self.num_classes = getattr(classifier.head, 'num_classes', None)

    def forward(self, inputs: Tensor) -> Tensor:
        """Logits ``[N, num_classes]`` of images ``[N, C, H, W]``."""
        return self.model(inputs, mode='tensor')


class RecognizerExport(nn.Module):
    """An mmaction recognizer as ``clips -> scores``, one clip per row.

    The recognizer's backbone, neck and classification head
    (``extract_feat(..., stage='head')``). mmaction tests a video on several
    views (clips x crops) and averages their scores by
    ``test_cfg.average_clips``; the caller does that with the rows.

    Args:
        recognizer (nn.Module): An mmaction ``Recognizer3D`` or
            ``Recognizer2D``.
    """

    def __init__(self, recognizer: nn.Module) -> None:
        super().__init__()
        if not getattr(recognizer, 'with_cls_head', False):
            raise ValueError(
                f'{type(recognizer).__name__} has no cls_head: export a '
                'config whose model has one')
        self.model = recognizer
        #: Classes of the output, if the head says.
        self.num_classes = getattr(recognizer.cls_head, 'num_classes', None)

    def forward(self, clips: Tensor) -> Tensor:
        """Scores ``[N, num_classes]`` of clips ``[N, C, T, H, W]``."""
        # one view per sample: [N, 1, C, T, H, W]
        scores, _ = self.model.extract_feat(clips.unsqueeze(1), stage='head')
        return scores


class ExportSpec(NamedTuple):
    """How the models of one ``default_scope`` are exported.

    Attributes:
        wrapper (type): The ``nn.Module`` that makes the model a tensor
            function.
        input_name (str): Name of the graph input.
        input_axes (tuple[str]): Names of the input axes; those in
            :data:`DYNAMIC_AXES` may be dynamic.
        output_name (str): Name of the graph output.
        output_axes (tuple[str]): Names of the output axes.
        default_shape (tuple[int]): Input size without batch and channels
            when neither ``--shape`` nor the config gives one.
    """
    wrapper: type
    input_name: str
    input_axes: Tuple[str, ...]
    output_name: str
    output_axes: Tuple[str, ...]
    default_shape: Tuple[int, ...]


#: Axes that a dynamic export leaves free, by name.
DYNAMIC_AXES = ('batch', 'time', 'height', 'width')

#: Export settings per ``default_scope`` of a config.
EXPORT_SPECS: Dict[str, ExportSpec] = {
    'mmseg':
    ExportSpec(SegmentorExport, 'inputs',
               ('batch', 'channels', 'height', 'width'), 'logits',
               ('batch', 'classes', 'height', 'width'), (512, 512)),
    'mmpretrain':
    ExportSpec(ClassifierExport, 'inputs',
               ('batch', 'channels', 'height', 'width'), 'logits',
               ('batch', 'classes'), (224, 224)),
    'mmaction':
    ExportSpec(RecognizerExport, 'clips',
               ('batch', 'channels', 'time', 'height', 'width'), 'scores',
               ('batch', 'classes'), (8, 224, 224)),
}

#: Scopes whose models are exported elsewhere, and where.
EXPORTED_ELSEWHERE = {
    'mmdet': ('detectors (their box decoding, NMS and mask pasting) are '
              "exported by OpenMMLab's mmdeploy"),
}


def export_spec(scope: Optional[str]) -> ExportSpec:
    """The :class:`ExportSpec` of a config's ``default_scope``.

    Raises:
        ValueError: For a scope glore_mm does not export.
    """
    if scope in EXPORTED_ELSEWHERE:
        raise ValueError(
            f'default_scope={scope!r}: ONNX export of these models is not '
            f'supported by glore_mm: {EXPORTED_ELSEWHERE[scope]}; allowed '
            f'default_scope: {sorted(EXPORT_SPECS)}')
    if scope not in EXPORT_SPECS:
        raise ValueError(
            f'default_scope={scope!r}: ONNX export is available for '
            f'configs with default_scope in {sorted(EXPORT_SPECS)}')
    return EXPORT_SPECS[scope]


def dynamic_axes(spec: ExportSpec, dynamic: bool) -> Dict[str, Dict[int, str]]:
    """``{tensor name: {axis: axis name}}`` of the free axes of ``spec``.

    Empty when ``dynamic`` is False (a static export).
    """
    if not dynamic:
        return {}
    result = {}
    for name, axes in ((spec.input_name, spec.input_axes), (spec.output_name,
                                                            spec.output_axes)):
        result[name] = {
            i: axis
            for i, axis in enumerate(axes) if axis in DYNAMIC_AXES
        }
    return result


def input_shape(spec: ExportSpec, batch: int, channels: int,
                size: Sequence[int]) -> Tuple[int, ...]:
    """The full input shape, e.g. ``(batch, channels, H, W)``.

    Raises:
        ValueError: If ``size`` does not have one value per spatial (and
            time) axis of ``spec``, or holds a value below 1.
    """
    spatial = spec.input_axes[2:]
    if len(size) != len(spatial):
        raise ValueError(
            f'--shape {" ".join(map(str, size))}: this model takes '
            f'{len(spatial)} values ({" ".join(a.upper() for a in spatial)})'
            f', but got {len(size)}')
    if batch < 1 or any(s < 1 for s in size):
        raise ValueError(f'input sizes must be positive, but got batch '
                         f'{batch} and --shape {" ".join(map(str, size))}')
    return (batch, channels, *size)
