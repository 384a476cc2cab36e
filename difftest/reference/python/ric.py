"""Runs an *original* Lambda@Edge Python handler the way AWS's Python runtime interface client
(awslambdaric) runs it, and reports its outcome as edgeport's runtime does:

  {"kind": "result", "value": <the JSON the handler's return value becomes>}
  {"kind": "error", "errorType": "KeyError", "errorMessage": "'uri'", "trace": [...]}
  {"kind": "timeout", "reason": "task timed out after 5000 ms"}

Two programs use it: harness.py runs one event in a fresh process (it writes the corpus's
expected outcomes) and worker.py runs many, one after the other, for `edgeport test`.

The calling convention is not written here: prelude.py is the Python engine's own shim
(converter/engines/python/py/prelude.py), which runs on CPython too, so the original and the
converted function share one definition of what awslambdaric does — as the node reference shares
the JavaScript engine's determinism.js.

Nondeterminism is pinned so that the converted function can be held to the same answer: the
hash seed is 0 (PYTHONHASHSEED, set by whoever starts the process), `random.seed(seed)` runs
before the module loads and again before every invocation (the prelude does the latter, as the
engine does), the wall clock is frozen — `time.time()`, `time.time_ns()`, `datetime.now()` and
friends, `time.localtime()` / `gmtime()` / `strftime()` without a time, all read `now` — while
the monotonic clock stays real, the zone is UTC and `os.environ` is empty (Lambda@Edge has no
environment variables).
"""

import datetime
import importlib.util
import json
import os
import random
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# 2026-01-01T00:00:00Z, the clock both sides use unless told otherwise.
DEFAULT_NOW_MS = 1767225600000


def _load_prelude():
    """The engine's shim, under a name no handler module can take."""
    spec = importlib.util.spec_from_file_location('_edgeport_prelude', os.path.join(HERE, 'prelude.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


prelude = _load_prelude()


# --- Pinned nondeterminism ---------------------------------------------------------------------

_now_ms = DEFAULT_NOW_MS


def _now_seconds():
    return _now_ms / 1000


class _AcceptsRealInstances(type):
    """Lets `isinstance(x, datetime.datetime)` hold for the real class's instances too (values
    made before the clock was installed, or by C code that builds the base class)."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, cls.__bases__[0])

    def __subclasscheck__(cls, subclass):
        return issubclass(subclass, cls.__bases__[0])


def install_determinism():
    """Freezes the wall clock (at `pin`'s `now`) and empties the environment; once per process."""
    real = time

    real_gmtime, real_localtime = real.gmtime, real.localtime
    real_ctime, real_asctime, real_strftime = real.ctime, real.asctime, real.strftime
    real_clock_gettime, real_clock_gettime_ns = real.clock_gettime, real.clock_gettime_ns

    def clock_time():
        return _now_seconds()

    def clock_time_ns():
        return _now_ms * 1_000_000

    def gmtime(secs=None):
        return real_gmtime(_now_seconds() if secs is None else secs)

    def localtime(secs=None):
        return real_localtime(_now_seconds() if secs is None else secs)

    def ctime(secs=None):
        return real_ctime(_now_seconds() if secs is None else secs)

    def asctime(t=None):
        return real_asctime(localtime() if t is None else t)

    def strftime(format, t=None):  # noqa: A002 - the stdlib's parameter name
        return real_strftime(format, localtime() if t is None else t)

    def clock_gettime(clock_id):
        return _now_seconds() if clock_id == real.CLOCK_REALTIME else real_clock_gettime(clock_id)

    def clock_gettime_ns(clock_id):
        return clock_time_ns() if clock_id == real.CLOCK_REALTIME else real_clock_gettime_ns(clock_id)

    for name, function in [
        ('time', clock_time), ('time_ns', clock_time_ns), ('gmtime', gmtime),
        ('localtime', localtime), ('ctime', ctime), ('asctime', asctime), ('strftime', strftime),
        ('clock_gettime', clock_gettime), ('clock_gettime_ns', clock_gettime_ns),
    ]:
        function.__name__ = function.__qualname__ = name
        setattr(time, name, function)

    real_datetime, real_date = datetime.datetime, datetime.date

    class FrozenDatetime(real_datetime, metaclass=_AcceptsRealInstances):
        @classmethod
        def now(cls, tz=None):
            return cls.fromtimestamp(_now_ms // 1000, tz).replace(microsecond=_now_ms % 1000 * 1000)

        @classmethod
        def utcnow(cls):
            return cls.utcfromtimestamp(_now_ms // 1000).replace(microsecond=_now_ms % 1000 * 1000)

        @classmethod
        def today(cls):
            return cls.now()

        def __repr__(self):
            # The C type's repr names a subclass by its bare name.
            return 'datetime.' + super().__repr__()

    class FrozenDate(real_date, metaclass=_AcceptsRealInstances):
        @classmethod
        def today(cls):
            return cls.fromtimestamp(_now_ms // 1000)

        def __repr__(self):
            return 'datetime.' + super().__repr__()

    for frozen, name in [(FrozenDatetime, 'datetime'), (FrozenDate, 'date')]:
        frozen.__name__ = frozen.__qualname__ = name
        frozen.__module__ = 'datetime'
        setattr(datetime, name, frozen)

    # Lambda runs in UTC. The zone is read now, so the variable can go with the rest.
    os.environ['TZ'] = 'UTC'
    time.tzset()
    os.environ.clear()


def pin(now_ms, seed):
    """The clock and the seed the next load and invocation see."""
    global _now_ms
    _now_ms = now_ms
    random.seed(seed)


# --- One invocation ----------------------------------------------------------------------------

class TaskTimedOut(BaseException):
    """Raised in the handler when its task timeout passes (a BaseException, so that the usual
    `except Exception` does not swallow it)."""


# Whether the current invocation's timeout passed: the handler may catch the exception (the
# prelude does, to report an exit), but not undo this.
_timed_out = False


def _on_alarm(signum, frame):
    global _timed_out
    _timed_out = True
    raise TaskTimedOut()


def read_source(file):
    """The handler's text as Python's import system reads it (encoding cookie, byte-order mark
    and newlines handled)."""
    with open(file, 'rb') as stream:
        return importlib.util.decode_source(stream.read())


def base_context(function_name, request_id):
    """The context the runtime gives the converted function (edgeport_runtime's
    `LambdaContext::for_function`)."""
    return {
        'functionName': function_name,
        'functionVersion': '$LATEST',
        'invokedFunctionArn': f'arn:aws:lambda:us-east-1:123456789012:function:{function_name}',
        'memoryLimitInMB': '128',
        'awsRequestId': request_id,
        'logGroupName': f'/aws/lambda/us-east-1.{function_name}',
        'logStreamName': '2026/01/01/[$LATEST]00000000000000000000000000000000',
    }


def run(file, export, event, *, seed, now_ms, timeout_ms, function_name, request_id, tracer=None):
    """Loads the handler module `file` afresh and calls `export` on `event`, as awslambdaric
    would with `file`'s directory as its task root; returns the outcome.

    The task timeout runs on the real clock from the start of the load: when it passes, the
    handler is interrupted (an exception it cannot catch with `except Exception`) and the outcome
    is a timeout, whatever the handler made of the interruption. A handler that blocks the
    interpreter (a long native call) is not interrupted here; the caller must kill it.
    `tracer`: a `sys.settrace` function to run the module and the handler under.
    """
    directory = os.path.dirname(file)
    # awslambdaric's task root is the working directory and the first entry of sys.path.
    os.chdir(directory)
    if not sys.path or sys.path[0] != directory:
        sys.path.insert(0, directory)
    pin(now_ms, seed)
    envelope = {
        'event': event,
        'context': base_context(function_name, request_id),
        'awsRequestId': request_id,
        'seed': seed,
        'deadlineMs': now_ms + timeout_ms,
    }
    global _timed_out
    _timed_out = False
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout_ms / 1000)
            outcome = _load_and_invoke(file, export, envelope, tracer)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except TaskTimedOut:
        pass
    finally:
        signal.signal(signal.SIGALRM, previous)
        sys.settrace(None)
    # Lambda abandons a timed-out invocation, whatever the handler did after the deadline.
    if _timed_out:
        return {'kind': 'timeout', 'reason': f'task timed out after {timeout_ms} ms'}
    return outcome


def _load_and_invoke(file, export, envelope, tracer):
    error = prelude.load(export, os.path.basename(file), [], read_source(file), tracer)
    if error is not None:
        return {'kind': 'error', **json.loads(error)}
    return json.loads(prelude.invoke(json.dumps(envelope), tracer))
