# Copyright (c) glore_mm contributors. All rights reserved.
import logging
from contextlib import contextmanager
from typing import Iterator

from mmengine.logging import MMLogger


@contextmanager
def quiet_mmengine_logger(level: int = logging.ERROR) -> Iterator[None]:
    """Raise the current MMEngine logger's level for the duration.

    Hides mmengine's per-parameter init messages and the FLOP analyser's
    per-op warnings in the analysis tools.
    """
    logger = MMLogger.get_current_instance()
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)
