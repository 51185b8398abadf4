"""Stopping a run cleanly: between two batches, back at the last epoch's end, nothing lost.

``fit(..., stop=event)`` checks ``event.is_set()`` after every batch. Once it is set, the run
stops at the end of the current batch and goes back to the state it had at the end of its last
complete epoch — weights, optimizer state and the data-shuffling generator — so that resuming
from there (a :class:`~deltaprop.checkpoints.Checkpoint` written then) redoes the interrupted
epoch and ends bit for bit where an uninterrupted run ends. Callbacks hear ``on_interrupt``, then
``fit`` raises :class:`TrainingInterrupted`.

:func:`stop_on_signals` turns SIGINT (Ctrl-C) and SIGTERM into such a request for the duration
of a ``with`` block, as the command line does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .history import History


class TrainingInterrupted(KeyboardInterrupt):
    """A run stopped on request (a signal, or ``stop.set()``) at the end of a batch.

    The network and the optimizer state are back at the end of the last complete epoch
    (``history.end_epoch`` epochs in all). ``signal`` is the signal's number (None for a request
    made in code); ``checkpoint`` is the path of the checkpoint a
    :class:`~deltaprop.checkpoints.Checkpoint` callback wrote for it, if any.
    """

    def __init__(self, message: str, history: History, signal: int | None = None):
        super().__init__(message)
        self.history = history
        self.signal = signal
        self.checkpoint: str | None = None


class StopRequest(threading.Event):
    """An event that also remembers which signal set it (``signal``; None if set in code)."""

    signal: int | None = None


@contextmanager
def stop_on_signals(
    signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM),
) -> Iterator[StopRequest]:
    """For the block, the signals set the yielded :class:`StopRequest` instead of ending the
    process (pass it to ``fit(stop=…)``); the previous handlers come back afterwards. A second
    signal while the first is being handled ends the process the usual way."""
    request = StopRequest()
    previous = {}

    def handler(signum, frame):
        if request.is_set():  # asked twice: give up waiting for the batch
            signal.signal(signum, previous[signum])
            signal.raise_signal(signum)
            return
        request.signal = signum
        request.set()

    if threading.current_thread() is not threading.main_thread():
        yield request  # signal handlers can only be set in the main thread
        return
    for s in signals:
        previous[s] = signal.signal(s, handler)
    try:
        yield request
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
