# Copyright (c) glore_mm contributors. All rights reserved.
"""Pictures of the learned projections B of a model's GloRe units.

Each GloRe unit projects the features onto ``num_node`` graph nodes with a
1x1 conv, ``conv_proj``: its output B ``[N, num_node, *spatial]`` weighs
every position of the map for every node (Chen et al., "Graph-Based Global
Reasoning Networks", CVPR 2019, Fig. 6 shows such maps). :func:`visualize`
runs a model on one image (mmseg, mmpretrain) or one video clip (mmaction),
reads B of every GloRe unit and writes one PNG per unit (and per picked
frame of a video)::

    +--------------------------------------------------------------+
    | unit name, num_node, map size                      (header)  |
    | [input + contours] [node a] [node b] [node c] [node d]       |
    | [0] [1] [2] [3] [4] [5] [6] [7] [8]   every node's map on    |
    | [9] [10] [11] ...                     the input, in rows as  |
    |                                       wide as the top row    |
    +--------------------------------------------------------------+

A node's map is B of that node, normalised to [0, 1] over the sample (all
frames of a clip), upsampled to the input and drawn over it with mmengine's
``draw_featmap`` colour map (JET: blue low, red high). The highlighted
nodes, those whose weights vary most over the positions (largest spatial
standard deviation of B), are drawn twice as large in the top row, each
with a contour of its strongest half (normalised weight >= 0.5) in its own
colour, and the same contours over the input on the left.

The files follow mmengine's ``Visualizer``/``LocalVisBackend`` layout:
``OUT/vis_data/vis_image/<unit name>_<frame>.png``, ``<frame>`` being 0
for an image and the index of the input frame in the clip for a video.

The model is built from the config and the checkpoint loaded by
:func:`glore_mm.apis.init_model` (a checkpoint lacking the units' weights is
refused: their projections would be random), and the input
goes through the config's test pipeline (without its image and annotation
loaders for an image; whole for a video) and the model's data
preprocessor, as in testing.
"""
import math
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.visualization import LocalVisBackend, Visualizer
from torch import Tensor, nn

from glore_mm.apis import init_model
from glore_mm.models import glore_units_of
from glore_mm.models.layers.glore import GloReNd
from glore_mm.utils import record_calls

VIDEO_SUFFIXES = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg',
                  '.mpeg')
#: Contour colours (RGB) of the highlighted nodes, in rank order.
PALETTE = ((255, 40, 40), (40, 255, 40), (40, 160, 255), (255, 0, 255),
           (255, 255, 0), (0, 255, 255), (255, 140, 0), (160, 80, 255))
BACKGROUND = 255  # white: the JET overlay never is, tiles stay countable
PAD = 4
HEADER = 22


class Box(NamedTuple):
    """A rectangle of the canvas: top, left, height, width in pixels."""
    y: int
    x: int
    h: int
    w: int


class Layout(NamedTuple):
    """Where everything goes on a unit's picture (see the module doc)."""
    canvas_hw: Tuple[int, int]
    input_box: Box
    highlight_boxes: List[Box]
    node_boxes: List[Box]
    grid_shape: Tuple[int, int]  # rows, columns of the node grid


def projection_layout(num_node: int, num_highlight: int,
                      tile_hw: Tuple[int, int]) -> Layout:
    """Compute the layout of a unit's picture.

    Args:
        num_node (int): Nodes of the unit, one small tile each.
        num_highlight (int): Highlighted nodes, one large tile each.
        tile_hw (tuple[int, int]): Size of a small tile; large tiles and
            the input are twice as large.

    Returns:
        Layout: The canvas size and the boxes. The node grid has as many
        columns as fit under the top row (input and highlighted nodes), at
        least ``ceil(sqrt(num_node))``, at most ``num_node``.
    """
    th, tw = tile_hw
    big_h, big_w = 2 * th, 2 * tw
    top_width = (1 + num_highlight) * (big_w + PAD)
    cols = max(
        math.ceil(math.sqrt(num_node)), min(num_node, top_width // (tw + PAD)))
    rows = math.ceil(num_node / cols)
    top = HEADER
    input_box = Box(top, PAD, big_h, big_w)
    highlight_boxes = [
        Box(top, PAD + (i + 1) * (big_w + PAD), big_h, big_w)
        for i in range(num_highlight)
    ]
    grid_top = top + big_h + PAD
    node_boxes = [
        Box(grid_top + (i // cols) * (th + PAD), PAD + (i % cols) * (tw + PAD),
            th, tw) for i in range(num_node)
    ]
    width = PAD + max(top_width, cols * (tw + PAD))
    height = grid_top + rows * (th + PAD)
    return Layout((height, width), input_box, highlight_boxes, node_boxes,
                  (rows, cols))


def find_units(
        model: nn.Module,
        names: Optional[Sequence[str]] = None) -> List[Tuple[str, GloReNd]]:
    """The ``(name, unit)`` pairs of the model's GloRe units.

    Args:
        model (nn.Module): The model.
        names (list[str], optional): Keep only these units. Defaults to
            None: every unit.

    Raises:
        ValueError: If the model has no unit, or ``names`` one it lacks.
    """
    units = list(glore_units_of(model).items())
    if not units:
        children = ', '.join(f'{name} ({type(child).__name__})'
                             for name, child in model.named_children())
        raise ValueError(
            f'the model ({type(model).__name__}) has no GloRe unit (no '
            f'GloRe2d/GloRe3d module); its modules: {children}. Use a '
            f'config with GloRe units (a GloReHead, glore_units=...)')
    if names:
        known = [name for name, _ in units]
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(f'unknown --unit {unknown}; the GloRe units of '
                             f'this model are {known}')
        units = [(name, unit) for name, unit in units if name in names]
    return units


def _test_pipeline(cfg: Config) -> List[Dict]:
    """The test transforms of the config."""
    for key in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(key, None)
        if loader and loader.get('dataset', {}).get('pipeline'):
            return list(loader.dataset.pipeline)
    if cfg.get('test_pipeline', None):
        return list(cfg.test_pipeline)
    raise ValueError('the config has no test pipeline '
                     '(test_dataloader.dataset.pipeline or test_pipeline)')


def _input_channels(model: nn.Module) -> int:
    """Channels the data preprocessor normalises, else 3."""
    mean = getattr(model.data_preprocessor, 'mean', None)
    return int(mean.numel()) if isinstance(mean, Tensor) else 3


def load_input(cfg: Config, path: str, model: nn.Module) -> Dict:
    """Run the test pipeline on the image or video at ``path``.

    Returns:
        dict: A batch of one sample, ready for the data preprocessor, and
        ``'rgb'``: whether its channels are in RGB order.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'input {path!r} does not exist')
    transforms = _test_pipeline(cfg)
    if path.lower().endswith(VIDEO_SUFFIXES):
        sample = dict(filename=path, label=-1, start_index=0, modality='RGB')
        try:
            packed = Compose(transforms)(sample)
        except Exception as err:
            raise ValueError(f'cannot read input {path!r} as a video with '
                             f'the config\'s test pipeline: {err}') from err
        rgb = True  # decord and OpenCV-based video readers give RGB
    else:
        gray = _input_channels(model) == 1
        img = cv2.imread(path,
                         cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f'cannot read input {path!r} as an image')
        # the loaders are replaced by the image read here (BGR, like
        # mmcv's), the annotations are not needed
        transforms = [
            t for t in transforms if not str(t['type']).startswith('Load')
        ]
        sample = dict(
            img=img,
            img_path=path,
            img_shape=img.shape[:2],
            ori_shape=img.shape[:2])
        packed = Compose(transforms)(sample)
        rgb = gray
    return dict(data=pseudo_collate([packed]), rgb=rgb)


def capture_projections(model: nn.Module, units: List[Tuple[str, GloReNd]],
                        data: Dict) -> Tuple[Dict[str, Tensor], Tensor]:
    """Run the model on ``data``; return every unit's B and the inputs.

    A forward pre-hook on each unit takes its input x and computes
    ``conv_proj(x)``. (With plain 1x1 convs the unit applies
    ``conv_proj``'s weight itself, so a hook on ``conv_proj`` would not
    fire.) Only the first call of each unit is kept.

    Returns:
        tuple: ``{name: B}`` with B ``[N, num_node, *spatial]`` on the CPU,
        and the preprocessed input tensor.
    """

    def projection(unit: GloReNd, args: Tuple, _) -> Tensor:
        return unit.conv_proj(args[0]).float().cpu()

    with torch.no_grad(), record_calls(
            dict(units), projection, pre=True, first=True) as projections:
        batch = model.data_preprocessor(data, False)
        model(**batch, mode='tensor')
    not_run = [name for name, _ in units if name not in projections]
    if not_run:
        raise RuntimeError(f'the GloRe unit(s) {not_run} did not run in the '
                           f"model's forward (mode='tensor')")
    return dict(projections), batch['inputs']


def display_frames(model: nn.Module, inputs: Tensor, rgb: bool) -> np.ndarray:
    """The first sample's input as RGB uint8 frames ``[F, H, W, 3]``.

    Undoes the preprocessor's normalisation. Images give one frame; clips
    ``[V, C, T, H, W]`` the T frames of view 0; ``[V, C, H, W]`` (2D video
    models) V frames.
    """
    x = inputs[0].detach().float().cpu()
    if x.dim() == 3:
        frames = x[None]
    elif x.dim() == 4:
        frames = x
    elif x.dim() == 5:
        frames = x[0].transpose(0, 1)
    else:
        raise ValueError(f'cannot draw inputs of shape {list(inputs.shape)}')
    preprocessor = model.data_preprocessor
    mean = getattr(preprocessor, 'mean', None)
    std = getattr(preprocessor, 'std', None)
    if isinstance(mean, Tensor) and isinstance(std, Tensor):
        channels = frames.shape[1]
        frames = (
            frames * std.float().cpu().flatten()[:channels, None, None] +
            mean.float().cpu().flatten()[:channels, None, None])
    if frames.shape[1] == 1:
        frames = frames.expand(-1, 3, -1, -1)
    if getattr(preprocessor, '_channel_conversion', False):
        rgb = not rgb
    if not rgb:
        frames = frames.flip(1)
    frames = frames.clamp(0, 255).round().byte()
    return frames.permute(0, 2, 3, 1).contiguous().numpy()


def frame_maps(proj: Tensor, num_frames: int) -> List[Tuple[int, Tensor]]:
    """Pair the input frames with maps of the first sample.

    Args:
        proj (Tensor): B, ``[N, K, h, w]`` (an image, or frames of a 2D
            video model in the batch axis) or ``[N, K, t, h, w]``.
        num_frames (int): Frames of the drawn input.

    Returns:
        list[tuple[int, Tensor]]: ``(frame index, [K, h, w] maps)``; each
        of a 3D unit's t time steps goes with the input frame at the middle
        of its span.
    """
    if proj.dim() == 4:
        return [(i, proj[i]) for i in range(min(proj.shape[0], num_frames))]
    steps = proj.shape[2]
    return [(min(num_frames - 1, int(
        (t + 0.5) * num_frames / steps)), proj[0, :, t]) for t in range(steps)]


def normalise(maps: Tensor) -> Tensor:
    """Each node's maps scaled to [0, 1] over all its positions."""
    flat = maps.flatten(1)
    low = flat.min(1).values
    span = (flat.max(1).values - low).clamp_min(1e-12)
    shape = (-1, ) + (1, ) * (maps.dim() - 1)
    return (maps - low.view(shape)) / span.view(shape)


def select_nodes(proj: Tensor, k: int) -> List[int]:
    """The ``k`` nodes whose weights vary most over the positions.

    Ranked by the standard deviation of B over all positions (all frames)
    of the first sample; ties go to the lower index.

    Args:
        proj (Tensor): B, ``[N, K, *spatial]``.
        k (int): How many.
    """
    spread = proj[0].flatten(1).std(1, unbiased=False)
    order = sorted(range(len(spread)), key=lambda i: (-spread[i].item(), i))
    return order[:min(k, len(order))]


def _resize(img: np.ndarray, hw: Tuple[int, int]) -> np.ndarray:
    return cv2.resize(img, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float) -> np.ndarray:
    """``heat`` (in [0, 1], the image's size) over ``image`` in JET.

    The colour map and blending of mmengine's ``convert_overlay_heatmap``
    (behind ``Visualizer.draw_featmap``), without its per-map min-max
    rescaling: the maps here are normalised over the whole sample.
    """
    heat8 = np.clip(heat * 255, 0, 255).astype(np.uint8)
    colour = cv2.cvtColor(
        cv2.applyColorMap(heat8, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(image, 1 - alpha, colour, alpha, 0)


def draw_contour(image: np.ndarray, heat: np.ndarray,
                 colour: Tuple[int, int, int]) -> None:
    """Outline, in place, where ``heat`` >= 0.5."""
    mask = (heat >= 0.5).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(image, contours, -1, colour, 2)


def _frame(image: np.ndarray, colour: Tuple[int, int, int]) -> None:
    cv2.rectangle(image, (0, 0), (image.shape[1] - 1, image.shape[0] - 1),
                  colour, 2)


def _label(image: np.ndarray, text: str) -> None:
    for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(image, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38,
                    colour, thickness, cv2.LINE_AA)


def draw_projection(image: np.ndarray,
                    maps: Tensor,
                    highlight: Sequence[int],
                    title: str,
                    tile_width: int = 96,
                    alpha: float = 0.5) -> np.ndarray:
    """Draw a unit's node maps over an image (see the module doc).

    Args:
        image (np.ndarray): RGB uint8 ``[H, W, 3]``.
        maps (Tensor): ``[K, h, w]`` in [0, 1], one map per node.
        highlight (Sequence[int]): Nodes drawn large, in rank order.
        title (str): Header text.
        tile_width (int): Width of a small tile. Defaults to 96.
        alpha (float): Opacity of the heat maps. Defaults to 0.5.

    Returns:
        np.ndarray: The RGB uint8 picture, of ``projection_layout``'s size.
    """
    num_node = maps.shape[0]
    height, width = image.shape[:2]
    tile_hw = (max(1, round(height * tile_width / width)), tile_width)
    layout = projection_layout(num_node, len(highlight), tile_hw)
    canvas = np.full(layout.canvas_hw + (3, ), BACKGROUND, np.uint8)
    cv2.putText(canvas, title, (PAD, HEADER - 7), cv2.FONT_HERSHEY_SIMPLEX,
                0.45, (0, 0, 0), 1, cv2.LINE_AA)

    def paste(box: Box, tile: np.ndarray) -> None:
        canvas[box.y:box.y + box.h, box.x:box.x + box.w] = tile

    maps_np = maps.numpy().astype(np.float32)
    colours = {
        node: PALETTE[i % len(PALETTE)]
        for i, node in enumerate(highlight)
    }
    big_hw = (layout.input_box.h, layout.input_box.w)
    big_image = _resize(image, big_hw)
    outlined = big_image.copy()
    for rank, node in enumerate(highlight):
        heat = _resize(maps_np[node], big_hw)
        draw_contour(outlined, heat, colours[node])
        tile = overlay(big_image, heat, alpha)
        draw_contour(tile, heat, colours[node])
        _frame(tile, colours[node])
        _label(tile, f'node {node}')
        paste(layout.highlight_boxes[rank], tile)
    _label(outlined, 'input')
    paste(layout.input_box, outlined)
    small_image = _resize(image, tile_hw)
    for node, box in enumerate(layout.node_boxes):
        tile = overlay(small_image, _resize(maps_np[node], tile_hw), alpha)
        if node in colours:
            _frame(tile, colours[node])
        _label(tile, str(node))
        paste(box, tile)
    return canvas


def visualize(cfg: Config,
              checkpoint: str,
              input_path: str,
              out_dir: str,
              num_highlight: int = 4,
              unit_names: Optional[Sequence[str]] = None,
              num_frames: int = 4,
              tile_width: int = 96,
              alpha: float = 0.5,
              device: str = 'cpu') -> List[str]:
    """Write the projection pictures; see the module doc and the options.

    Returns:
        list[str]: The PNG files written.
    """
    # strict: a checkpoint without the units' weights is refused
    model = init_model(cfg, checkpoint, device)
    units = find_units(model, unit_names)
    loaded = load_input(cfg, input_path, model)
    projections, inputs = capture_projections(model, units, loaded['data'])
    frames = display_frames(model, inputs, loaded['rgb'])
    visualizer = Visualizer(
        name=f'vis_projection:{osp.abspath(out_dir)}:{id(model)}',
        vis_backends=[dict(type=LocalVisBackend)],
        save_dir=out_dir)
    backend = visualizer.get_backend('LocalVisBackend')
    written = []
    for name, _ in units:
        proj = projections[name]
        highlight = select_nodes(proj, num_highlight)
        pairs = frame_maps(proj, len(frames))
        picks = np.unique(
            np.linspace(0,
                        len(pairs) - 1, min(num_frames,
                                            len(pairs))).round().astype(int))
        # normalised over every position of the first sample
        maps = normalise(torch.stack([m for _, m in pairs], 1))
        for pick in picks:
            index = pairs[pick][0]
            spatial = 'x'.join(str(s) for s in proj.shape[2:])
            title = (f'{name}: {proj.shape[1]} nodes on {spatial}' +
                     (f', frame {index}' if len(frames) > 1 else ''))
            picture = draw_projection(frames[index], maps[:, pick], highlight,
                                      title, tile_width, alpha)
            visualizer.add_image(name, picture, step=int(index))
            written.append(
                osp.join(backend._img_save_dir, f'{name}_{index}.png'))
    return written
