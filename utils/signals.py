"""Stop requests: SIGINT and SIGTERM let the current training step finish.

Inside ``StopRequests`` the first SIGINT (Ctrl-C) or SIGTERM is only recorded; the
training loop polls ``requested`` after each step, writes a checkpoint and stops. A
second SIGINT while the checkpoint is written raises KeyboardInterrupt as usual (an
impatient user can still abort). Outside the main thread signals cannot be caught, and
the context does nothing.
"""

from __future__ import annotations

import signal
import threading

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + signal number, as shells report


class StopRequests:
    """Context manager recording SIGINT/SIGTERM instead of dying at once."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = self.signum or signum

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            for signum in EXIT_CODES:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


class Terminated(BaseException):
    """SIGTERM outside a training loop (data loading, evaluation): unwinds like KeyboardInterrupt."""


def terminate_as_exception() -> None:
    """Make SIGTERM raise ``Terminated`` in the main thread, so ``main`` can report it and exit 143
    (by default the process would die silently with -15)."""

    def handler(signum: int, frame: object) -> None:
        raise Terminated

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
