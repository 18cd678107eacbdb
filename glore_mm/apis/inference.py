# Copyright (c) glore_mm contributors. All rights reserved.
"""Run trained models on images and videos with the libraries' inferencers.

A config belongs to mmseg, mmpretrain or mmaction, which its
``default_scope`` says (or, failing that, its model type).
:func:`build_inferencer` imports the config's ``custom_imports`` (which
registers the GloRe modules) and builds that library's own inferencer:
``MMSegInferencer``, ``ImageClassificationInferencer`` or
``ActionRecogInferencer``. The functions below run it over a file or a
folder and write every output through a temporary file and a rename, so an
interrupted run never leaves a half-written file.
"""
import os
import os.path as osp
import sys
from contextlib import contextmanager
from typing import (Any, Dict, Iterator, List, NamedTuple, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.fileio import dump, list_from_file
from mmengine.model import revert_sync_batchnorm
from mmengine.utils import import_modules_from_strings, track_iter_progress

from glore_mm.utils import (atomic_output, check_checkpoint_fits,
                            checkpoint_state_dict, read_checkpoint, write_png)
from .model import load_config

#: Model types of each library's configs, for configs without a
#: ``default_scope``.
LIBRARY_MODEL_TYPES = {
    'mmseg': ('EncoderDecoder', 'CascadeEncoderDecoder'),
    'mmpretrain': ('ImageClassifier', ),
    'mmaction': ('Recognizer2D', 'Recognizer3D'),
}
IMAGE_LIBRARIES = ('mmseg', 'mmpretrain')
VIDEO_LIBRARIES = ('mmaction', )
IMAGE_SUFFIXES = ('.bmp', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp')
VIDEO_SUFFIXES = ('.avi', '.mkv', '.mov', '.mp4', '.webm')
#: The containers a drawn video can be written to and their codecs.
VIDEO_CODECS = {'.mp4': 'mp4v', '.avi': 'MJPG'}
#: Where outputs go when no ``out_file`` is given.
DEFAULT_OUT_DIR = 'outputs'
LABEL_MAP_SUFFIX = '_label.png'


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


def import_custom_modules(cfg: Config) -> None:
    """Import the config's ``custom_imports`` (the GloRe modules register
    themselves in the libraries' registries on import).

    Args:
        cfg (Config): The config.
    """
    custom_imports = cfg.get('custom_imports', None)
    if custom_imports:
        import_modules_from_strings(**custom_imports)


def config_library(cfg: Config) -> str:
    """The library a config belongs to.

    Args:
        cfg (Config): The config.

    Returns:
        str: ``'mmseg'``, ``'mmpretrain'`` or ``'mmaction'``: the config's
        ``default_scope`` if it is one of these, else the library whose
        model type the config's ``model.type`` is.

    Raises:
        ValueError: If neither tells.
    """
    scope = cfg.get('default_scope', None)
    if scope in LIBRARY_MODEL_TYPES:
        return scope
    model = cfg.get('model', None) or {}
    model_type = model.get('type', None) if isinstance(model, dict) else None
    for library, model_types in LIBRARY_MODEL_TYPES.items():
        if model_type in model_types:
            return library
    raise ValueError(
        f'cannot tell which library the config {cfg.filename or "<config>"} '
        f'belongs to: default_scope={scope!r}, model.type={model_type!r}; '
        f'allowed default_scope: {sorted(LIBRARY_MODEL_TYPES)}, or a model '
        f'type of {LIBRARY_MODEL_TYPES}')


def build_inferencer(config: Union[str, Config],
                     checkpoint: str,
                     device: Optional[str] = None,
                     libraries: Sequence[str] = tuple(LIBRARY_MODEL_TYPES),
                     label_file: Optional[str] = None) -> Any:
    """Build the inferencer of the config's library with a checkpoint.

    ``MMSegInferencer`` for mmseg configs, ``ImageClassificationInferencer``
    for mmpretrain configs and ``ActionRecogInferencer`` (video files) for
    mmaction configs, after importing the config's ``custom_imports``.
    Without CUDA, SyncBN layers become BN.

    Args:
        config (str | Config): Config file or config.
        checkpoint (str): Checkpoint file.
        device (str, optional): Device to run on; MMEngine picks one if
            None. Defaults to None.
        libraries (Sequence[str]): The libraries the caller accepts.
            Defaults to all three.
        label_file (str, optional): mmaction only: a text file with one
            class name per line, in class order. Defaults to None.

    Returns:
        The inferencer: call it on inputs as the library documents.

    Raises:
        FileNotFoundError: If the config, checkpoint or label file is
            missing.
        ValueError: If the config's library is not in ``libraries``, or
            the checkpoint is no checkpoint or not one of this model.
    """
    cfg = load_config(config, import_custom_modules=False)
    library = config_library(cfg)
    if library not in libraries:
        raise ValueError(
            f'config {cfg.filename or "<config>"} is an {library} config, '
            f'but this takes configs of {list(libraries)}')
    # a file that is no checkpoint is refused before any model is built
    state_dict = checkpoint_state_dict(read_checkpoint(checkpoint))
    if label_file is not None and library != 'mmaction':
        raise ValueError(f'label_file={label_file!r} is for mmaction '
                         f'configs, but the config is an {library} config')
    if label_file is not None and not osp.isfile(label_file):
        raise FileNotFoundError(f'label file {label_file!r} is not a file')
    import_custom_modules(cfg)
    if library == 'mmseg':
        from mmseg.apis import MMSegInferencer
        if cfg.get('visualizer', None) is None:
            cfg.visualizer = ConfigDict(type='SegLocalVisualizer')
        inferencer = MMSegInferencer(
            model=cfg, weights=checkpoint, device=device)
    elif library == 'mmpretrain':
        from mmpretrain.apis import ImageClassificationInferencer
        inferencer = ImageClassificationInferencer(
            model=cfg, pretrained=checkpoint, device=device)
    else:
        from mmaction.apis import ActionRecogInferencer
        if cfg.get('visualizer', None) is None:
            cfg.visualizer = ConfigDict(type='ActionVisualizer')
        inferencer = ActionRecogInferencer(
            model=cfg,
            weights=checkpoint,
            device=device,
            label_file=label_file)
    if not torch.cuda.is_available():
        inferencer.model = revert_sync_batchnorm(inferencer.model)
    # the inferencers load checkpoints leniently: refuse another model's
    check_checkpoint_fits(inferencer.model, state_dict, checkpoint)
    return inferencer


def list_inputs(path: str, suffixes: Sequence[str]) -> List[str]:
    """The file ``path``, or the files of the folder ``path``.

    Args:
        path (str): A file, or a folder.
        suffixes (Sequence[str]): The suffixes of the files to take from a
            folder (lower case; compared case-insensitively).

    Returns:
        list[str]: ``[path]`` for a file; the folder's files with one of
        ``suffixes``, sorted by name.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the folder has no such file.
    """
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'input {path!r} is neither a file nor a '
                                'folder')
    names = sorted(
        name for name in os.listdir(path)
        if osp.splitext(name)[1].lower() in suffixes
        and osp.isfile(osp.join(path, name)))
    if not names:
        raise ValueError(f'input folder {path!r} has no file ending in '
                         f'{list(suffixes)}')
    return [osp.join(path, name) for name in names]


def _track(items: Sequence) -> Iterator:
    """``items`` with MMEngine's progress bar on stderr (stdout is for
    results)."""
    return track_iter_progress(items, file=sys.stderr)


def _check_unique(outputs: Sequence[str], sources: Sequence[str]) -> None:
    """Raise if two inputs would write the same output file."""
    seen: Dict[str, str] = {}
    for out, source in zip(outputs, sources):
        out = osp.abspath(out)
        if out in seen:
            raise ValueError(f'inputs {seen[out]!r} and {source!r} would '
                             f'both be written to {out!r}; rename one')
        seen[out] = source


def _folder_outputs(source: str, inputs: Sequence[str], out_dir: str,
                    suffix: str) -> List[str]:
    """``out_dir/<input name><suffix>`` for every input of folder ``source``.

    Raises:
        ValueError: If ``out_dir`` is a file.
    """
    if osp.isfile(out_dir):
        raise ValueError(f'out_file {out_dir!r} is a file, but the input '
                         f'{source!r} is a folder: give a folder')
    return [
        osp.join(out_dir,
                 osp.splitext(osp.basename(path))[0] + suffix)
        for path in inputs
    ]


def segmentation_outputs(source: str, images: Sequence[str],
                         out_file: Optional[str]) -> List[Tuple[str, str]]:
    """Where the overlay and the label map of every image go.

    For an image file, the overlay goes to ``out_file`` (default
    ``outputs/<image name>.png``); for a folder, ``out_file`` is a folder
    (default ``outputs``) that gets ``<image name>.png`` per image. The
    label map goes beside its overlay, as ``<overlay name>_label.png``.

    Args:
        source (str): The image or folder the user gave.
        images (Sequence[str]): The images, as :func:`list_inputs` lists
            them.
        out_file (str, optional): See above.

    Returns:
        list[tuple[str, str]]: ``(overlay, label map)`` per image.

    Raises:
        ValueError: If ``out_file`` is not a ``.png`` for an image, is a
            file for a folder, or two images would share an output.
    """
    if osp.isdir(source):
        overlays = _folder_outputs(source, images, out_file or DEFAULT_OUT_DIR,
                                   '.png')
    else:
        overlay = out_file or osp.join(
            DEFAULT_OUT_DIR,
            osp.splitext(osp.basename(source))[0] + '.png')
        if osp.splitext(overlay)[1].lower() != '.png':
            raise ValueError(f'out_file {overlay!r} must end in .png (the '
                             'overlay is written as a PNG)')
        overlays = [overlay]
    outputs = [(overlay, osp.splitext(overlay)[0] + LABEL_MAP_SUFFIX)
               for overlay in overlays]
    _check_unique([path for pair in outputs for path in pair],
                  [img for img in images for _ in range(2)])
    return outputs


def segment_images(inferencer: Any,
                   images: Sequence[str],
                   outputs: Sequence[Tuple[str, str]],
                   opacity: float = 0.5,
                   with_labels: bool = False) -> List[SegmentationFiles]:
    """Segment images with an ``MMSegInferencer`` and save the results.

    Args:
        inferencer (MMSegInferencer): From :func:`build_inferencer`.
        images (Sequence[str]): Image files.
        outputs (Sequence[tuple[str, str]]): ``(overlay, label map)`` file
            per image (:func:`segmentation_outputs`).
        opacity (float): Opacity of the drawn classes, in (0, 1]. Defaults
            to 0.5.
        with_labels (bool): Also write class names on the overlay. Defaults
            to False.

    Returns:
        list[SegmentationFiles]: What was written, per image.

    Raises:
        ValueError: If ``opacity`` is outside (0, 1].
    """
    if not 0 < opacity <= 1:
        raise ValueError(f'opacity must be in (0, 1], but got {opacity}')
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
    if k < 1:
        raise ValueError(f'topk must be at least 1, but got {k}')
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
            :func:`build_inferencer`.
        images (Sequence[str]): Image files.
        topk (int): How many classes per image. Defaults to 5.

    Returns:
        list[TopK]: The best classes of every image.
    """
    if topk < 1:
        raise ValueError(f'topk must be at least 1, but got {topk}')
    predictions = []
    with _mmpretrain_progress_off():
        for image in _track(images):
            (result, ) = inferencer(image)
            predictions.append(
                top_k(image, result['pred_scores'], topk, inferencer.classes))
    return predictions


def recognize_videos(
        inferencer: Any,
        videos: Sequence[str],
        topk: int = 5,
        class_names: Optional[Sequence[str]] = None) -> List[TopK]:
    """Recognise the action in videos with an ``ActionRecogInferencer``.

    Args:
        inferencer (ActionRecogInferencer): From :func:`build_inferencer`.
        videos (Sequence[str]): Video files.
        topk (int): How many classes per video. Defaults to 5.
        class_names (Sequence[str], optional): A name per class.

    Returns:
        list[TopK]: The best classes of every video.
    """
    if topk < 1:
        raise ValueError(f'topk must be at least 1, but got {topk}')
    inferencer.show_progress = False
    results = []
    for video in _track(videos):
        prediction = inferencer(video)['predictions'][0]
        results.append(
            top_k(video, prediction['pred_scores'], topk, class_names))
    return results


def read_class_names(label_file: Optional[str]) -> Optional[List[str]]:
    """Class names from a text file with one name per line, or None."""
    if label_file is None:
        return None
    if not osp.isfile(label_file):
        raise FileNotFoundError(f'label file {label_file!r} is not a file')
    return [line.strip() for line in list_from_file(label_file)]


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


def video_outputs(source: str, videos: Sequence[str],
                  out_file: str) -> List[str]:
    """Where the drawn copy of every video goes.

    For a video file, ``out_file`` itself (``.mp4`` or ``.avi``); for a
    folder, ``out_file`` is a folder that gets ``<video name>.mp4`` per
    video.

    Raises:
        ValueError: If the suffix has no known codec, ``out_file`` is a file
            for a folder, or two videos would share an output.
    """
    if osp.isdir(source):
        outputs = _folder_outputs(source, videos, out_file, '.mp4')
    else:
        suffix = osp.splitext(out_file)[1].lower()
        if suffix not in VIDEO_CODECS:
            raise ValueError(f'out_file {out_file!r}: allowed suffixes are '
                             f'{sorted(VIDEO_CODECS)}')
        outputs = [out_file]
    _check_unique(outputs, videos)
    return outputs


def draw_video_label(video: str, text: str, out_file: str) -> int:
    """Write a copy of ``video`` with ``text`` drawn on every frame.

    The text goes in the top-left corner, white on a black box, in the
    style of mmaction's visualizer, drawn with OpenCV (one call a frame).

    Args:
        video (str): The video file (read with decord).
        text (str): What to draw.
        out_file (str): The video to write (``.mp4`` or ``.avi``), at the
            frame rate and size of ``video``.

    Returns:
        int: The number of frames written.

    Raises:
        RuntimeError: If OpenCV cannot write ``out_file``.
    """
    import cv2
    import decord
    reader = decord.VideoReader(video)
    height, width = reader[0].shape[:2]
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(min(height, width) / 400, 0.3)
    thickness = max(round(scale * 2), 1)
    (text_w, text_h), baseline = cv2.getTextSize(text, font, scale, thickness)
    margin = max(round(4 * scale), 2)
    box = ((0, 0), (text_w + 2 * margin, text_h + baseline + 2 * margin))
    origin = (margin, margin + text_h)
    codec = VIDEO_CODECS[osp.splitext(out_file)[1].lower()]
    with atomic_output(out_file) as tmp:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*codec),
                                 reader.get_avg_fps(), (width, height))
        if not writer.isOpened():
            raise RuntimeError(
                f'OpenCV cannot write {out_file!r} with codec {codec}')
        try:
            for index in range(len(reader)):
                # decord decodes RGB; OpenCV writes BGR
                frame = np.ascontiguousarray(
                    reader[index].asnumpy()[..., ::-1])
                cv2.rectangle(frame, *box, (0, 0, 0), cv2.FILLED)
                cv2.putText(frame, text, origin, font, scale, (255, 255, 255),
                            thickness, cv2.LINE_AA)
                writer.write(frame)
        finally:
            writer.release()
    return len(reader)


def draw_video_labels(predictions: Sequence[TopK],
                      outputs: Sequence[str]) -> None:
    """:func:`draw_video_label` with the best class of every prediction."""
    for prediction, out_file in _track(list(zip(predictions, outputs))):
        draw_video_label(prediction.source, describe(prediction), out_file)


def _checked_config(config: str, topk: int, libraries: Sequence[str],
                    inputs: str) -> Tuple[Config, str]:
    """Check ``topk``, then load ``config`` and check that its library is
    one of ``libraries`` (``inputs`` names what they infer on).

    Returns:
        tuple[Config, str]: The config and its library.
    """
    if topk < 1:
        raise ValueError(f'topk must be at least 1, but got {topk}')
    cfg = load_config(config, import_custom_modules=False)
    library = config_library(cfg)
    if library not in libraries:
        raise ValueError(f'config {config!r} is an {library} config; '
                         f'{inputs} take a config of {list(libraries)}')
    return cfg, library


def infer_images(img: str,
                 config: str,
                 checkpoint: str,
                 out_file: Optional[str] = None,
                 device: Optional[str] = None,
                 opacity: float = 0.5,
                 with_labels: bool = False,
                 topk: int = 5) -> List[Union[SegmentationFiles, TopK]]:
    """Segment or classify an image or a folder of images.

    With an mmseg config, writes an overlay and a label map per image (see
    :func:`segmentation_outputs` for where). With an mmpretrain config,
    finds the ``topk`` best classes of every image and, if ``out_file`` is
    given, writes them to that JSON file (:func:`save_top_k`).

    Args:
        img (str): Image file or folder of images.
        config (str): mmseg or mmpretrain config file.
        checkpoint (str): Checkpoint file.
        out_file (str, optional): See above. Defaults to None.
        device (str, optional): Device to run on. Defaults to None (MMEngine
            picks one).
        opacity (float): Opacity of the drawn classes (segmentation), in
            (0, 1]. Defaults to 0.5.
        with_labels (bool): Also write class names on the overlays
            (segmentation). Defaults to False.
        topk (int): Classes per image (classification). Defaults to 5.

    Returns:
        list[SegmentationFiles] | list[TopK]: Per image.
    """
    if not 0 < opacity <= 1:
        raise ValueError(f'opacity must be in (0, 1], but got {opacity}')
    cfg, library = _checked_config(config, topk, IMAGE_LIBRARIES, 'images')
    images = list_inputs(img, IMAGE_SUFFIXES)
    if library == 'mmseg':
        outputs = segmentation_outputs(img, images, out_file)
        inferencer = build_inferencer(cfg, checkpoint, device, IMAGE_LIBRARIES)
        return segment_images(inferencer, images, outputs, opacity,
                              with_labels)
    if out_file is not None and osp.splitext(out_file)[1] != '.json':
        raise ValueError(f'out_file {out_file!r} must end in .json for a '
                         'classification config')
    inferencer = build_inferencer(cfg, checkpoint, device, IMAGE_LIBRARIES)
    predictions = classify_images(inferencer, images, topk)
    if out_file is not None:
        save_top_k(predictions, out_file)
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
            :func:`video_outputs`). Defaults to None.
        device (str, optional): Device to run on. Defaults to None (MMEngine
            picks one).
        topk (int): Classes per video. Defaults to 5.
        label_file (str, optional): Text file with one class name per line.
            Defaults to None (classes are shown by index).

    Returns:
        list[TopK]: Per video.
    """
    cfg, _ = _checked_config(config, topk, VIDEO_LIBRARIES, 'videos')
    videos = list_inputs(video, VIDEO_SUFFIXES)
    outputs = None
    if out_file is not None:
        outputs = video_outputs(video, videos, out_file)
    class_names = read_class_names(label_file)
    inferencer = build_inferencer(cfg, checkpoint, device, VIDEO_LIBRARIES,
                                  label_file)
    predictions = recognize_videos(inferencer, videos, topk, class_names)
    if outputs is not None:
        draw_video_labels(predictions, outputs)
    return predictions


def format_result(result: Union[SegmentationFiles, TopK]) -> str:
    """What a demo prints for one input's result."""
    if isinstance(result, SegmentationFiles):
        return (f'{result.source}\n  overlay: {result.overlay}\n'
                f'  label map: {result.label_map}')
    return format_top_k(result)
