# Copyright (c) glore_mm contributors. All rights reserved.
"""Pictures of what a model's GloRe units learned: the projection maps B
of their nodes (:mod:`.projection`)."""
from .projection import (capture_projections, display_frames, draw_projection,
                         find_units, frame_maps, load_input, normalise,
                         projection_layout, select_nodes, visualize)

__all__ = [
    'capture_projections', 'display_frames', 'draw_projection', 'find_units',
    'frame_maps', 'load_input', 'normalise', 'projection_layout',
    'select_nodes', 'visualize'
]
