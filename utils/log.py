"""The console: one project logger (``scogan``), configured once by ``main``, and warnings once.

``configure_logging(verbosity)`` sets the level of ``LOGGER`` and gives it one handler:
INFO and DEBUG records go to stdout as they are (``Run directory: ...``, ``Resuming ...``),
WARNING and above to stderr prefixed ``warning:`` or ``error:`` (a record's ``prefix``
extra replaces it). Both are written with ``tqdm.write``, so a message never breaks a
progress bar. The results a mode prints (the ``--mode evaluate`` table) stay plain ``print``
output on stdout, whatever the verbosity.

=========  ===========================================  ============
verbosity  shows                                        progress bar
=========  ===========================================  ============
quiet      warnings and errors only (``--quiet``)        no
normal     and progress messages (the default)           yes
verbose    and debug messages (``--verbose``)            yes
=========  ===========================================  ============

Inside ``warnings_once()`` (all of ``main``) a warning is shown once per process: Python's
own "shown already" registry is per module and is emptied whenever a library edits the
warning filters (TensorFlow's and tfds' imports do), so the experiments runner, which calls
``main`` for every run, used to repeat e.g. the bundled-MNIST warning for each. A warning
is still shown by whatever showed it before (so ``pytest.warns`` records it), unless
``route_warnings()`` was called (the command line, ``main.cli``): then it goes through
``LOGGER`` as ``warning: <text>``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

LOGGER_NAME = "scogan"
LOGGER = logging.getLogger(LOGGER_NAME)
VERBOSITY_LEVELS = {"quiet": logging.WARNING, "normal": logging.INFO, "verbose": logging.DEBUG}
PREFIXES = {logging.DEBUG: "debug: ", logging.INFO: "", logging.WARNING: "warning: ",
            logging.ERROR: "error: ", logging.CRITICAL: "error: "}
CODE_ROOT = Path(__file__).resolve().parents[1]

_state = {"progress": True, "route": False}
_shown: set[tuple[type, str]] = set()


class _PrefixFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = getattr(record, "prefix", None)
        if prefix is None:
            prefix = PREFIXES.get(record.levelno, f"{record.levelname.lower()}: ")
        return prefix + record.getMessage()


class _ConsoleHandler(logging.Handler):
    """stdout below WARNING, stderr from WARNING up; the streams are looked up at each record
    (so a redirected ``sys.stdout``, e.g. pytest's capture, is honoured)."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            stream = sys.stderr if record.levelno >= logging.WARNING else sys.stdout
            tqdm.write(self.format(record), file=stream)
            stream.flush()
        except Exception:  # noqa: BLE001 - logging's contract: never raise from emit
            self.handleError(record)


def configure_logging(verbosity: str = "normal") -> None:
    """Set up ``LOGGER`` for ``verbosity`` (quiet, normal or verbose); calling it again replaces
    the previous set-up, so each ``main`` call configures the console once."""
    if verbosity not in VERBOSITY_LEVELS:
        raise ValueError(f"unknown verbosity {verbosity!r}; valid: {', '.join(VERBOSITY_LEVELS)}")
    for handler in [h for h in LOGGER.handlers if isinstance(h, _ConsoleHandler)]:
        LOGGER.removeHandler(handler)
    handler = _ConsoleHandler()
    handler.setFormatter(_PrefixFormatter())
    LOGGER.addHandler(handler)
    LOGGER.setLevel(VERBOSITY_LEVELS[verbosity])
    LOGGER.propagate = False  # absl puts a handler on the root logger: no second copy there
    _state["progress"] = verbosity != "quiet"


def progress_enabled() -> bool:
    """Whether progress bars are shown (False with ``--quiet``)."""
    return _state["progress"]


def verbosity_of(quiet: bool, verbose: bool) -> str:
    """The verbosity of the ``--quiet`` / ``--verbose`` flags (exclusive, checked by Config)."""
    return "quiet" if quiet else "verbose" if verbose else "normal"


def _log_warning(message, category, filename, lineno) -> None:
    text = str(message)
    try:
        ours = Path(filename).resolve().is_relative_to(CODE_ROOT)
    except (OSError, ValueError):
        ours = False
    if not ours:  # a library's warning: say whose it is
        text += f" ({category.__name__} from {filename}:{lineno})"
    LOGGER.warning("%s", text)


@contextlib.contextmanager
def warnings_once() -> Iterator[None]:
    """Within: each warning (category and text) shown once per process, through ``LOGGER``
    after ``route_warnings()``, else by the ``warnings.showwarning`` in place before."""
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        key = (category, str(message))
        if key in _shown:
            return
        _shown.add(key)
        if _state["route"]:
            _log_warning(message, category, filename, lineno)
        else:
            previous(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        if warnings.showwarning is show:
            warnings.showwarning = previous


def route_warnings() -> None:
    """Show the warnings raised inside ``warnings_once`` as ``warning: <text>`` lines of
    ``LOGGER`` (a library's with its origin). For the command line."""
    _state["route"] = True


__all__ = ["LOGGER", "LOGGER_NAME", "configure_logging", "progress_enabled", "route_warnings", "verbosity_of",
           "warnings_once"]
