# Copyright (c) glore_mm contributors. All rights reserved.
"""A video with a line of text drawn on every frame.

mmaction's ``ActionRecogInferencer`` can draw its predictions too, but
not here: its ``ActionVisualizer`` (mmaction2 1.2.0) looks for
``pred_labels`` where the data sample holds ``pred_label`` and so draws no
class, writes through moviepy (not installed with mmaction) at a fixed
frame rate, and writes in place. :func:`draw_video_label` draws with
OpenCV, keeps the source's frame rate and size, and writes through a
temporary file and a rename.
"""
import os.path as osp

import numpy as np

from glore_mm.utils import atomic_output

#: The containers a drawn video can be written to and their codecs.
VIDEO_CODECS = {'.mp4': 'mp4v', '.avi': 'MJPG'}


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
