# Copyright (c) glore_mm contributors. All rights reserved.
import pytest
from mmengine.registry import DefaultScope


@pytest.fixture(autouse=True)
def _isolate_default_scope():
    """Undo the MMEngine default scope a test sets (Runner, init_scope).

    Building a Runner or calling ``init_default_scope`` changes a global
    that decides which library's registry a build looks in; without this a
    test's outcome would depend on the tests that ran before it.
    """
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """The same for fixtures shared by several tests (module, session).

    They are set up before the per-test fixture above takes its copy, so a
    Runner one of them builds would otherwise leave its scope to every
    later test.
    """
    if fixturedef.scope == 'function':
        yield
        return
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
