# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.datasets.utils: where downloads are cached."""
from glore_mm.datasets import default_cache_dir


def test_default_cache_dir(monkeypatch):
    monkeypatch.setenv('GLORE_MM_CACHE', '/c/glore')
    assert default_cache_dir() == '/c/glore/downloads'
    monkeypatch.delenv('GLORE_MM_CACHE')
    monkeypatch.setenv('XDG_CACHE_HOME', '/x')
    assert default_cache_dir() == '/x/glore_mm/downloads'
    monkeypatch.delenv('XDG_CACHE_HOME')
    monkeypatch.setenv('HOME', '/h')
    assert default_cache_dir() == \
        '/h/.cache/glore_mm/downloads'
