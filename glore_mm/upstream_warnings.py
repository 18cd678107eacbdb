# Copyright (c) glore_mm contributors. All rights reserved.
"""Known-harmless warnings of the upstream stack, silenced by name.

Importing ``glore_mm`` installs these filters before anything of the stack
is imported, so a tool's results are the first thing its user reads. Each
filter names one warning (its category, the start of its message and the
module that issues it) and says why it is harmless here; every other
warning still shows. Nothing here imports beyond the standard library: it
must run before mmengine is imported.
"""
import warnings
from typing import NamedTuple, Type


class KnownWarning(NamedTuple):
    """One upstream warning that glore_mm silences.

    Attributes:
        category (type): Its warning class.
        message (str): A regular expression matching the start of its
            message.
        module (str): A regular expression matching the module that issues
            it (``warnings.filterwarnings``'s ``module``).
        reason (str): Why it is harmless for glore_mm's users.
    """
    category: Type[Warning]
    message: str
    module: str
    reason: str


KNOWN_WARNINGS = (
    KnownWarning(
        UserWarning, r'pkg_resources is deprecated as an API', r'.*',
        'mmengine and mmcv import pkg_resources; the stack pins '
        'setuptools<82, which still has it (requirements/runtime.txt)'),
    KnownWarning(UserWarning, r'``build_loss`` would be deprecated soon',
                 r'mmseg\.models\.builder',
                 "mmseg's own heads build their losses this way"),
    KnownWarning(
        UserWarning, r'Default ``avg_non_ignore`` is False',
        r'mmseg\.models\.losses\.cross_entropy_loss',
        "mmseg's configs keep the default: the loss averages over every "
        'pixel, as the published models were trained'),
    KnownWarning(
        UserWarning, r'The draw is False, it means that the hook for '
        r'visualization will not take effect',
        r'mmseg\.engine\.hooks\.visualization_hook',
        "mmseg's configs switch drawing off unless --show/--show-dir ask "
        'for it'),
    KnownWarning(
        UserWarning, r'Failed to add <class .mmengine\.visualization\.'
        r'vis_backend\.LocalVisBackend.>, please provide the `save_dir`',
        r'mmengine\.visualization\.visualizer',
        'the inferencers build a visualizer without a folder; the demos '
        'save what it draws themselves'),
)


def silence_known_upstream_warnings() -> None:
    """Install a filter for each of :data:`KNOWN_WARNINGS` (once)."""
    for known in KNOWN_WARNINGS:
        warnings.filterwarnings(
            'ignore',
            message=known.message,
            category=known.category,
            module=known.module)
