"""Read in a second process: the events of a generator made in a forked child, consumed here.

Why: an Ed-Fi load is Python-bound. Parsing and mapping the XML takes about as long as loading
the records and waiting for PostgreSQL, and one process does one at a time. Forked, the child
parses and maps on one core while this process loads on the other.

The child only reads files: it never touches the database connection it inherits, and it leaves
with os._exit, so nothing it inherited is closed or flushed on its way out. Events cross a pipe
in pickled batches, read here by a thread into a queue of RUN_AHEAD batches, so that the child
runs on while the loader waits for a large statement. The queue is the bound: a child that far
ahead blocks on a full pipe, so memory stays at a few MiB whatever the size of the load.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import queue
import signal
import struct
import threading
import traceback
from collections.abc import Callable, Generator, Iterable
from typing import Any

Event = tuple[Any, ...]

# Events per pickled batch: big enough that pickling and the pipe's system calls are a small
# share, small enough that a batch of attendance records stays near half a MiB.
BATCH_EVENTS = 2000
# Batches read from the pipe and not yet loaded: about 12 MiB of attendance records, several of
# the loader's batches, so that the child is not stopped by one large statement.
RUN_AHEAD = 32
PIPE_BYTES = 1 << 20
_HEAD = struct.Struct("<Q")
_END = "relay:end"
_CRASH = "relay:crash"


class RelayError(Exception):
    """The reading process failed (its traceback is the message) or ended without finishing."""


def relay_available() -> bool:
    return hasattr(os, "fork")


def relayed(
    produce: Callable[[], Iterable[Event]],
    encode: Callable[[Event], Event],
    decode: Callable[[Event], Event],
) -> Generator[Event, None, None]:
    """The events of produce(), made in a forked child (encode there, decode here), in order.
    Closing the iterator early, or an error here, kills the child; an error in the child is
    raised here as RelayError with the child's traceback."""
    read_fd, write_fd = os.pipe()
    try:
        # A larger pipe lets the child run ahead of a loader busy with one large statement.
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (AttributeError, OSError):
        pass  # not Linux, or above the system's limit: the default pipe still works
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _run_child(produce, encode, write_fd)  # does not return
    os.close(write_fd)
    stream = os.fdopen(read_fd, "rb", buffering=PIPE_BYTES)
    batches: queue.Queue[bytes | None] = queue.Queue(RUN_AHEAD)
    stop = threading.Event()
    pump = threading.Thread(target=_pump, args=(stream, batches, stop), daemon=True)
    pump.start()
    finished = False
    try:
        while True:
            payload = batches.get()
            if payload is None:
                raise RelayError("the reading process ended before it finished")
            # From this load's own forked child over a private pipe: nothing else writes to it.
            for event in pickle.loads(payload):  # noqa: S301
                tag = event[0]
                if tag == _END:
                    finished = True
                    return
                if tag == _CRASH:
                    raise RelayError(f"the reading process failed:\n{event[1]}")
                yield decode(event)
    finally:
        stop.set()
        if not finished:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # reaped already (a host process that reaps every child, as some servers do)
        # The child is gone, so the pump's read ends; a pump waiting on a full queue sees stop.
        pump.join()
        stream.close()


def _pump(stream: Any, batches: queue.Queue[bytes | None], stop: threading.Event) -> None:
    """Read the child's batches into `batches` (None at the end of the pipe) until stopped.
    Reading releases the GIL, so this thread costs the loader little."""
    payload: bytes | None = None
    try:
        while not stop.is_set():
            head = stream.read(_HEAD.size)
            if len(head) < _HEAD.size:
                payload = None
                break
            (size,) = _HEAD.unpack(head)
            payload = stream.read(size)
            if len(payload) < size:
                payload = None
                break
            _put(batches, payload, stop)
    except (OSError, ValueError):
        payload = None  # the pipe was closed under the pump
    if payload is None:
        _put(batches, None, stop)


def _put(batches: queue.Queue[bytes | None], item: bytes | None, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            batches.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


def _run_child(
    produce: Callable[[], Iterable[Event]], encode: Callable[[Event], Event], write_fd: int
) -> None:
    code = 0
    try:
        with os.fdopen(write_fd, "wb", buffering=PIPE_BYTES) as stream:
            batch: list[Event] = []
            try:
                for event in produce():
                    batch.append(encode(event))
                    if len(batch) >= BATCH_EVENTS:
                        _send(stream, batch)
                        batch = []
                batch.append((_END,))
                _send(stream, batch)
            except BrokenPipeError:
                code = 1  # the loader stopped listening (it failed or was closed): nothing to say
            except BaseException:  # noqa: BLE001  # every failure is told to the loader
                code = 1
                # What was read before the failure is loaded first, as in one process.
                _send(stream, [*batch, (_CRASH, traceback.format_exc())])
    except BaseException:  # noqa: BLE001, S110  # the pipe itself failed: the loader sees an end
        code = 1
    finally:
        os._exit(code)


def _send(stream: Any, batch: list[Event]) -> None:
    payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEAD.pack(len(payload)))
    stream.write(payload)
    stream.flush()
