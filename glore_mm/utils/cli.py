# Copyright (c) glore_mm contributors. All rights reserved.
"""How the tools refuse bad input: one way, argparse's.

``parser.error(message)`` prints the tool's usage and ``<prog>: error:
<message>`` on stderr and exits with status 2. The checks of the package
raise ``ValueError``, ``KeyError`` or a ``FileNotFoundError`` (and, for an
output folder, ``FileExistsError`` / ``NotADirectoryError``) with a message
that names the argument, the value and what is allowed;
:func:`refuse_bad_input` turns those into ``parser.error`` around the part
of a tool that checks its arguments and sets up, so that every tool
refuses bad input alike::

    parser, args = parse_args(argv)
    with refuse_bad_input(parser):
        cfg = load_config(args.config, args.cfg_options)
    run(cfg)  # errors of the work itself stay tracebacks
"""
import argparse
from contextlib import contextmanager
from typing import Iterator, Tuple, Type

#: What the package raises for input a user can correct.
BAD_INPUT_ERRORS = (ValueError, KeyError, FileNotFoundError, FileExistsError,
                    NotADirectoryError)


def _message(error: BaseException) -> str:
    """The message of ``error``; a ``KeyError``'s without its quotes."""
    if isinstance(error, KeyError) and len(error.args) == 1:
        return str(error.args[0])
    return str(error)


@contextmanager
def refuse_bad_input(
    parser: argparse.ArgumentParser,
    errors: Tuple[Type[BaseException],
                  ...] = BAD_INPUT_ERRORS) -> Iterator[None]:
    """Report ``errors`` raised in the block through ``parser.error``.

    Wrap the checks of the arguments and the set-up (reading the config,
    building the model, listing the inputs), not the long work after it:
    a genuine bug deep in a run should stay a traceback, not read as a
    usage error.

    Args:
        parser (argparse.ArgumentParser): The tool's parser: its usage is
            printed with the message.
        errors (tuple[type, ...]): The exceptions that mean bad input.
            Defaults to :data:`BAD_INPUT_ERRORS`.

    Raises:
        SystemExit: With status 2, when the block raised one of
            ``errors``.
    """
    try:
        yield
    except errors as error:
        parser.error(_message(error))
