# Copyright (c) glore_mm contributors. All rights reserved.
"""Run trained models on images and videos with the libraries' inferencers.

A run has two steps. :func:`prepare_images` / :func:`prepare_videos` check
everything a user gives (options, the config's library, the inputs, where
the outputs go, the checkpoint) and build the inferencer
(:func:`~.inferencers.build_inferencer`); :func:`run_images` /
:func:`run_videos` then run it over the inputs and write every output
through a temporary file and a rename, so an interrupted run never leaves
a half-written file. :func:`infer_images` / :func:`infer_videos` do both.
"""
import sys
from contextlib import contextmanager
from typing import (Any, Iterator, List, NamedTuple, Optional, Sequence, Tuple,
                    Union)

from mmengine.config import Config
from mmengine.fileio import dump
from mmengine.utils import track_iter_progress

from glore_mm.utils import atomic_output, write_png
from .inferencers import (IMAGE_LIBRARIES, VIDEO_LIBRARIES, build_inferencer,
                          config_library, known_classes, read_config)
from .outputs import (IMAGE_SUFFIXES, VIDEO_SUFFIXES, classification_output,
                      detection_outputs, list_inputs, segmentation_outputs,
                      video_outputs)
from .results import (DetectionFiles, SegmentationFiles, TopK, check_topk,
                      describe, save_top_k, top_k)
from .video import draw_video_label


def _track(items: Sequence) -> Iterator:
    """``items`` with MMEngine's progress bar on stderr (stdout is for
    results)."""
    return track_iter_progress(items, file=sys.stderr)


def _check_opacity(opacity: float) -> None:
    if not 0 < opacity <= 1:
        raise ValueError(f'opacity must be in (0, 1], but got {opacity}')


def segment_images(inferencer: Any,
                   images: Sequence[str],
                   outputs: Sequence[Tuple[str, str]],
                   opacity: float = 0.5,
                   with_labels: bool = False) -> List[SegmentationFiles]:
    """Segment images with an ``MMSegInferencer`` and save the results.

    The inferencer draws the overlay and gives the label map; they are
    written here, to the planned files and atomically (mmseg's own saving
    names its files by a counter and writes in place).

    Args:
        inferencer (MMSegInferencer): From
            :func:`~.inferencers.build_inferencer`.
        images (Sequence[str]): Image files.
        outputs (Sequence[tuple[str, str]]): ``(overlay, label map)`` file
            per image (:func:`~.outputs.segmentation_outputs`).
        opacity (float): Opacity of the drawn classes, in (0, 1]. Defaults
            to 0.5.
        with_labels (bool): Also write class names on the overlay. Defaults
            to False.

    Returns:
        list[SegmentationFiles]: What was written, per image.

    Raises:
        ValueError: If ``opacity`` is outside (0, 1].
    """
    _check_opacity(opacity)
    # One bar for all images instead of the inferencer's bar per call.
    inferencer.show_progress = False
    written = []
    for image, (overlay, label_map) in _track(list(zip(images, outputs))):
        result = inferencer(
            image, return_vis=True, opacity=opacity, with_labels=with_labels)
        write_png(overlay, result['visualization'], rgb=True)
        write_png(label_map, result['predictions'])
        written.append(SegmentationFiles(image, overlay, label_map))
    return written


def _check_score_thr(score_thr: float) -> None:
    if not 0 <= score_thr <= 1:
        raise ValueError(f'score_thr must be in [0, 1], but got {score_thr}')


def detect_images(inferencer: Any,
                  images: Sequence[str],
                  outputs: Sequence[Tuple[str, str]],
                  score_thr: float = 0.3) -> List[DetectionFiles]:
    """Detect objects with a ``DetInferencer`` and save the results.

    The inferencer draws the overlay (boxes, masks, class names and scores
    of the detections of at least ``score_thr``) and gives every
    detection; both are written here, to the planned files and atomically.

    Args:
        inferencer (DetInferencer): From
            :func:`~.inferencers.build_inferencer`.
        images (Sequence[str]): Image files.
        outputs (Sequence[tuple[str, str]]): ``(overlay, predictions)``
            files per image (:func:`~.outputs.detection_outputs`).
        score_thr (float): Least score of a drawn detection, in [0, 1].
            Defaults to 0.3, as mmdet's demo.

    Returns:
        list[DetectionFiles]: What was written, per image.

    Raises:
        ValueError: If ``score_thr`` is outside [0, 1].
    """
    _check_score_thr(score_thr)
    inferencer.show_progress = False
    classes = inferencer.model.dataset_meta.get('classes', None)
    written = []
    for image, (overlay, json_file) in _track(list(zip(images, outputs))):
        result = inferencer(
            image, return_vis=True, no_save_vis=True, pred_score_thr=score_thr)
        (drawn, ), (prediction, ) = (result['visualization'],
                                     result['predictions'])
        write_png(overlay, drawn, rgb=True)
        labels = prediction.get('labels', [])
        prediction.update(
            source=image,
            label_names=[classes[i] for i in labels] if classes else None,
            score_thr=score_thr)
        with atomic_output(json_file) as tmp:
            dump(prediction, tmp, file_format='json')
        num_drawn = sum(score >= score_thr
                        for score in prediction.get('scores', []))
        written.append(DetectionFiles(image, overlay, json_file, num_drawn))
    return written


@contextmanager
def _mmpretrain_progress_off() -> Iterator[None]:
    """Switch off mmpretrain's progress bar (rich, on stdout, where it can
    run into the printed results) for the duration."""
    from mmpretrain.utils import progress
    saved = progress.disable_progress_bar
    progress.disable_progress_bar = True
    try:
        yield
    finally:
        progress.disable_progress_bar = saved


def classify_images(inferencer: Any,
                    images: Sequence[str],
                    topk: int = 5) -> List[TopK]:
    """Classify images with an ``ImageClassificationInferencer``.

    Args:
        inferencer (ImageClassificationInferencer): From
            :func:`~.inferencers.build_inferencer`.
        images (Sequence[str]): Image files.
        topk (int): How many classes per image. Defaults to 5.

    Returns:
        list[TopK]: The best classes of every image, named by the classes
        the inferencer knows.
    """
    check_topk(topk)
    predictions = []
    with _mmpretrain_progress_off():
        for image in _track(images):
            (result, ) = inferencer(image)
            predictions.append(
                top_k(image, result['pred_scores'], topk,
                      known_classes(inferencer)))
    return predictions


def recognize_videos(
        inferencer: Any,
        videos: Sequence[str],
        topk: int = 5,
        class_names: Optional[Sequence[str]] = None) -> List[TopK]:
    """Recognise the action in videos with an ``ActionRecogInferencer``.

    Args:
        inferencer (ActionRecogInferencer): From
            :func:`~.inferencers.build_inferencer`.
        videos (Sequence[str]): Video files.
        topk (int): How many classes per video. Defaults to 5.
        class_names (Sequence[str], optional): A name per class. Defaults
            to None: the names of the inferencer's label file, if any.

    Returns:
        list[TopK]: The best classes of every video.
    """
    check_topk(topk)
    if class_names is None:
        class_names = known_classes(inferencer)
    inferencer.show_progress = False
    results = []
    for video in _track(videos):
        prediction = inferencer(video)['predictions'][0]
        results.append(
            top_k(video, prediction['pred_scores'], topk, class_names))
    return results


def draw_video_labels(predictions: Sequence[TopK],
                      outputs: Sequence[str]) -> None:
    """:func:`~.video.draw_video_label` with the best class of every
    prediction."""
    for prediction, out_file in _track(list(zip(predictions, outputs))):
        draw_video_label(prediction.source, describe(prediction), out_file)


def _checked_config(config: str, libraries: Sequence[str],
                    inputs: str) -> Tuple[Config, str]:
    """Load ``config`` and check that its library is one of ``libraries``
    (``inputs`` names what they infer on).

    Returns:
        tuple[Config, str]: The config and its library.
    """
    cfg = read_config(config)
    library = config_library(cfg)
    if library not in libraries:
        raise ValueError(f'config {config!r} is an {library} config; '
                         f'{inputs} take a config of {list(libraries)}')
    return cfg, library


class ImageJob(NamedTuple):
    """A checked run over images, ready to go (:func:`prepare_images`).

    Attributes:
        library (str): ``'mmseg'``, ``'mmpretrain'`` or ``'mmdet'``.
        inferencer: The library's inferencer, checkpoint loaded.
        images (list[str]): The image files.
        outputs (list[tuple[str, str]], optional): Segmentation: the
            ``(overlay, label map)`` files per image; detection: the
            ``(overlay, predictions)`` files.
        json_file (str, optional): Classification: where the predictions
            go, or None.
        opacity (float): Segmentation: opacity of the drawn classes.
        with_labels (bool): Segmentation: class names on the overlays.
        topk (int): Classification: classes per image.
        score_thr (float): Detection: least score of a drawn detection.
    """
    library: str
    inferencer: Any
    images: List[str]
    outputs: Optional[List[Tuple[str, str]]]
    json_file: Optional[str]
    opacity: float
    with_labels: bool
    topk: int
    score_thr: float


def prepare_images(img: str,
                   config: str,
                   checkpoint: str,
                   out_file: Optional[str] = None,
                   device: Optional[str] = None,
                   opacity: float = 0.5,
                   with_labels: bool = False,
                   topk: int = 5,
                   score_thr: float = 0.3) -> ImageJob:
    """Check a run over images and build its inferencer.

    Options, the config's library, the inputs and the outputs are checked
    before the checkpoint is read; the checkpoint before the model is
    built. See :func:`infer_images` for the arguments.

    Returns:
        ImageJob: For :func:`run_images`.

    Raises:
        ValueError: If an option, the config, an input, an output or the
            checkpoint is not what the run takes (the message names it).
        FileNotFoundError: If the config, an input or the checkpoint is
            missing.
    """
    _check_opacity(opacity)
    check_topk(topk)
    _check_score_thr(score_thr)
    cfg, library = _checked_config(config, IMAGE_LIBRARIES, 'images')
    images = list_inputs(img, IMAGE_SUFFIXES)
    outputs = json_file = None
    if library == 'mmseg':
        outputs = segmentation_outputs(img, images, out_file)
    elif library == 'mmdet':
        outputs = detection_outputs(img, images, out_file)
    else:
        json_file = classification_output(out_file)
    inferencer = build_inferencer(cfg, checkpoint, device, IMAGE_LIBRARIES)
    return ImageJob(library, inferencer, images, outputs, json_file, opacity,
                    with_labels, topk, score_thr)


def run_images(
        job: ImageJob) -> List[Union[SegmentationFiles, DetectionFiles, TopK]]:
    """Segment, detect in or classify the images of a job and write its
    outputs.

    Returns:
        list[SegmentationFiles] | list[DetectionFiles] | list[TopK]: Per
        image.
    """
    if job.library == 'mmseg':
        return segment_images(job.inferencer, job.images, job.outputs,
                              job.opacity, job.with_labels)
    if job.library == 'mmdet':
        return detect_images(job.inferencer, job.images, job.outputs,
                             job.score_thr)
    predictions = classify_images(job.inferencer, job.images, job.topk)
    if job.json_file is not None:
        save_top_k(predictions, job.json_file)
    return predictions


def infer_images(
    img: str,
    config: str,
    checkpoint: str,
    out_file: Optional[str] = None,
    device: Optional[str] = None,
    opacity: float = 0.5,
    with_labels: bool = False,
    topk: int = 5,
    score_thr: float = 0.3
) -> List[Union[SegmentationFiles, DetectionFiles, TopK]]:
    """Segment, detect in or classify an image or a folder of images.

    With an mmseg config, writes an overlay and a label map per image (see
    :func:`~.outputs.segmentation_outputs` for where). With an mmdet
    config, writes an overlay of the detections and a JSON of the
    predictions per image (:func:`~.outputs.detection_outputs`,
    :func:`detect_images`). With an mmpretrain config, finds the ``topk``
    best classes of every image and, if ``out_file`` is given, writes them
    to that JSON file (:func:`~.results.save_top_k`).

    Args:
        img (str): Image file or folder of images.
        config (str): mmseg, mmdet or mmpretrain config file.
        checkpoint (str): Checkpoint file.
        out_file (str, optional): See above. Defaults to None.
        device (str, optional): Device to run on. Defaults to None (MMEngine
            picks one).
        opacity (float): Opacity of the drawn classes (segmentation), in
            (0, 1]. Defaults to 0.5.
        with_labels (bool): Also write class names on the overlays
            (segmentation). Defaults to False.
        topk (int): Classes per image (classification). Defaults to 5.
        score_thr (float): Least score of a drawn detection (detection),
            in [0, 1]. Defaults to 0.3.

    Returns:
        list[SegmentationFiles] | list[DetectionFiles] | list[TopK]: Per
        image.
    """
    return run_images(
        prepare_images(img, config, checkpoint, out_file, device, opacity,
                       with_labels, topk, score_thr))


class VideoJob(NamedTuple):
    """A checked run over videos, ready to go (:func:`prepare_videos`).

    Attributes:
        inferencer: mmaction's inferencer, checkpoint loaded.
        videos (list[str]): The video files.
        outputs (list[str], optional): The drawn copy of every video, or
            None for none.
        topk (int): Classes per video.
    """
    inferencer: Any
    videos: List[str]
    outputs: Optional[List[str]]
    topk: int


def _num_classes(inferencer: Any) -> Optional[int]:
    """The classes of the inferencer's model head, if it says."""
    head = getattr(inferencer.model, 'cls_head', None)
    return getattr(head, 'num_classes', None)


def prepare_videos(video: str,
                   config: str,
                   checkpoint: str,
                   out_file: Optional[str] = None,
                   device: Optional[str] = None,
                   topk: int = 5,
                   label_file: Optional[str] = None) -> VideoJob:
    """Check a run over videos and build its inferencer.

    See :func:`infer_videos` for the arguments.

    Returns:
        VideoJob: For :func:`run_videos`.

    Raises:
        ValueError: If an option, the config, an input, an output, the
            checkpoint or the label file is not what the run takes (the
            message names it).
        FileNotFoundError: If the config, an input, the checkpoint or the
            label file is missing.
    """
    check_topk(topk)
    cfg, _ = _checked_config(config, VIDEO_LIBRARIES, 'videos')
    videos = list_inputs(video, VIDEO_SUFFIXES)
    outputs = None
    if out_file is not None:
        outputs = video_outputs(video, videos, out_file)
    inferencer = build_inferencer(cfg, checkpoint, device, VIDEO_LIBRARIES,
                                  label_file)
    names, num_classes = known_classes(inferencer), _num_classes(inferencer)
    if label_file is not None and num_classes not in (None, len(names)):
        raise ValueError(f'label file {label_file!r} names {len(names)} '
                         f'classes, but the model has {num_classes}')
    return VideoJob(inferencer, videos, outputs, topk)


def run_videos(job: VideoJob) -> List[TopK]:
    """Recognise the action in the videos of a job and draw the outputs.

    Returns:
        list[TopK]: Per video.
    """
    predictions = recognize_videos(job.inferencer, job.videos, job.topk)
    if job.outputs is not None:
        draw_video_labels(predictions, job.outputs)
    return predictions


def infer_videos(video: str,
                 config: str,
                 checkpoint: str,
                 out_file: Optional[str] = None,
                 device: Optional[str] = None,
                 topk: int = 5,
                 label_file: Optional[str] = None) -> List[TopK]:
    """Recognise the action in a video or in each video of a folder.

    Args:
        video (str): Video file or folder of videos.
        config (str): mmaction config file.
        checkpoint (str): Checkpoint file.
        out_file (str, optional): Also write the video with its best class
            drawn on it there (a folder for a folder, see
            :func:`~.outputs.video_outputs`). Defaults to None.
        device (str, optional): Device to run on. Defaults to None (MMEngine
            picks one).
        topk (int): Classes per video. Defaults to 5.
        label_file (str, optional): Text file with one class name per line.
            Defaults to None (classes are shown by index).

    Returns:
        list[TopK]: Per video.
    """
    return run_videos(
        prepare_videos(video, config, checkpoint, out_file, device, topk,
                       label_file))
