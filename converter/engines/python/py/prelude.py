"""The edgeport shim for Python handlers: run once when the engine starts (so it lives in the
snapshot).

It reproduces what AWS's Lambda Python runtime interface client (awslambdaric) does around a
handler: import the handler module, call ``handler(event, context)``, send back the JSON of the
returned value, and report an exception as ``errorType`` (the class name), ``errorMessage``
(``str(exc)``) and a stack trace. It runs on CPython as well, so that a CPython reference
harness can share it as the Node harness shares ``js/determinism.js``.

The engine (src/lib.rs) talks to it through three functions:

  load(handler_name, filename, preload, source, tracer)  run the module's top level, find the
                                                         handler; None or an error JSON string
  invoke(envelope_json, tracer)                          one invocation; the outcome JSON string
  describe_error(exception)                              the error JSON of any exception

``tracer`` is a trace function to run the handler's code under (the CPython reference's
coverage), or None; the engine enforces its time budget through ``sys.monitoring`` instead.

The envelope is {"event", "context"?: {functionName, ...}, "awsRequestId", "seed",
"deadlineMs"} ("context" only when it differs from the previous invocation's); the outcome is
{"kind":"result","value"} | {"kind":"error","errorType","errorMessage","trace"}.
"""

import _random
import json
import random
import sys
import time
import types

# RustPython's time module lacks the C library's time-zone attributes. Edge functions run in
# UTC, as Lambda does; these are CPython's values under TZ=UTC (where this changes nothing).
for _name, _value in (('tzname', ('UTC', 'UTC')), ('timezone', 0), ('altzone', 0), ('daylight', 0)):
    if not hasattr(time, _name):
        setattr(time, _name, _value)

# Frames of the shim itself are left out of stack traces: the engine runs its own code under
# `edgeport:` file names; under CPython the shim runs from its file.
ENGINE_FILE_PREFIX = 'edgeport:'
_SHIM_FILE = globals().get('__file__')

# The handler function, once `load` found it.
_handler = None
# Whether sys.stdout and sys.stderr write through to their descriptors, so that flushing them
# is a no-op; the engine, whose streams are unbuffered, sets it.
_STDIO_WRITES_THROUGH = False
# The constant part of the Lambda context, sent by the host only when it changes.
_base_context = None


class Fault(Exception):
    """awslambdaric's FaultException: an error of the runtime, reported with its own type."""

    def __init__(self, error_type, message, trace=()):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = list(trace)


class CognitoIdentity:
    """awslambdaric's CognitoIdentity; edge functions have no Cognito identity."""

    __slots__ = ('cognito_identity_id', 'cognito_identity_pool_id')

    def __init__(self):
        self.cognito_identity_id = None
        self.cognito_identity_pool_id = None

    def __repr__(self):
        return (
            f'{self.__class__.__name__}(['
            f'cognito_identity_id={self.cognito_identity_id},'
            f'cognito_identity_pool_id={self.cognito_identity_pool_id}'
            '])'
        )


class LambdaContext:
    """awslambdaric's LambdaContext, filled from the envelope instead of the environment."""

    def __init__(self, base, aws_request_id, deadline_ms):
        self.aws_request_id = aws_request_id
        self.log_group_name = base.get('logGroupName')
        self.log_stream_name = base.get('logStreamName')
        self.function_name = base.get('functionName')
        # A string, as awslambdaric reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
        self.memory_limit_in_mb = base.get('memoryLimitInMB')
        self.function_version = base.get('functionVersion')
        self.invoked_function_arn = base.get('invokedFunctionArn')
        self.tenant_id = None
        self.client_context = None
        self.identity = CognitoIdentity()
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        # time.time() reads the WASI realtime clock, which the host may freeze.
        remaining = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            f'{self.__class__.__name__}(['
            f'aws_request_id={self.aws_request_id},'
            f'log_group_name={self.log_group_name},'
            f'log_stream_name={self.log_stream_name},'
            f'function_name={self.function_name},'
            f'memory_limit_in_mb={self.memory_limit_in_mb},'
            f'function_version={self.function_version},'
            f'invoked_function_arn={self.invoked_function_arn},'
            f'client_context={self.client_context},'
            f'identity={self.identity},'
            f'tenant_id={self.tenant_id}'
            '])'
        )


def module_name(filename):
    """The module a Lambda handler string names for `filename` (`src/app.py` -> `src.app`)."""
    stem = filename[:-3] if filename.endswith('.py') else filename
    return stem.replace('/', '.')


def load(handler_name, filename, preload, source, tracer=None, modules=()):
    """Imports the handler module from `source` and finds `handler_name` in it, as
    awslambdaric's `_get_handler` does; returns None, or the error JSON of what went wrong.

    `preload`: standard-library modules the handler uses (from the frontend's facts), imported
    first so that they belong to the snapshot; names that cannot be imported are skipped.
    `modules`: (path, source) of the local modules bundled with the handler, paths relative to
    its directory; they import as files next to the handler would.
    """
    global _handler
    try:
        if modules:
            sys.meta_path.insert(0, _BundledModules(modules))
        for name in preload:
            try:
                __import__(name)
            except ImportError:
                pass
        module = _import_source(module_name(filename), filename, source, tracer)
        try:
            _handler = getattr(module, handler_name)
        except AttributeError:
            raise Fault(
                'Runtime.HandlerNotFound',
                f"Handler '{handler_name}' missing on module '{module.__name__}'",
            ) from None
        return None
    except BaseException as error:  # noqa: BLE001 - every failure is reported, as Lambda does
        return describe_error(error)
    finally:
        _flush_stdio()


class _BundledModules:
    """Finds the local modules bundled with the handler, as the Lambda runtime finds the files
    next to the handler on `sys.path` (`helpers.py` is `helpers`, `lib/__init__.py` the
    package `lib`)."""

    def __init__(self, files):
        self._modules = {}
        for path, source in files:
            package = path.endswith('/__init__.py')
            name = module_name(path[:-len('/__init__.py')] if package else path)
            self._modules[name] = (path, source, package)

    def find_spec(self, name, path=None, target=None):
        if name not in self._modules:
            return None
        import importlib.util

        filename, _, package = self._modules[name]
        return importlib.util.spec_from_loader(name, self, origin=filename, is_package=package)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        filename, source, package = self._modules[module.__name__]
        module.__file__ = filename
        if package:
            module.__path__ = []
        _register_source(filename, source)
        exec(compile(source, filename, 'exec', dont_inherit=True), module.__dict__)


def _import_source(name, filename, source, tracer):
    """Runs `source` as module `name`, registered in sys.modules as an import would be."""
    try:
        code = compile(source, filename, 'exec', dont_inherit=True)
    except SyntaxError as error:
        raise _syntax_fault(name, error) from None
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    _register_source(filename, source)
    try:
        _traced(tracer, exec, code, module.__dict__)
    except ImportError as error:
        sys.modules.pop(name, None)
        # awslambdaric reports no frames; ours lead the converter to the failing import.
        raise Fault('Runtime.ImportModuleError', f"Unable to import module '{name}': {error}", _trace(error)) from None
    except SyntaxError as error:
        # A module the handler imports does not compile.
        sys.modules.pop(name, None)
        raise _syntax_fault(name, error) from None
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _syntax_fault(name, error):
    location = _location(error.filename, error.lineno, error.offset)
    return Fault('Runtime.UserCodeSyntaxError', f"Syntax error in module '{name}': {error}", [location])


def _register_source(filename, source):
    """Lets traceback and inspect show the handler's source lines, as for a file on disk."""
    import linecache

    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def invoke(envelope_json, tracer=None):
    """One invocation, as awslambdaric's `handle_event_request`; returns the outcome JSON."""
    global _base_context
    try:
        # The host writes the envelope as compact JSON: json's scanner parses it directly,
        # without `json.loads`' whitespace handling around it.
        envelope, _ = _scan_json(envelope_json, 0)
        _seed(envelope['seed'])
        if 'context' in envelope:
            _base_context = envelope['context']
        context = LambdaContext(_base_context, envelope['awsRequestId'], envelope['deadlineMs'])
        try:
            result = _traced(tracer, _handler, envelope['event'], context)
        except Exception as error:  # noqa: BLE001 - awslambdaric reports every Exception
            return _error_outcome(describe_error(error))
        except BaseException as error:  # noqa: BLE001
            return _error_outcome(_exit_error(error, envelope['awsRequestId']))
        try:
            body = _marshal(result)
        except Exception as error:  # noqa: BLE001
            return _error_outcome(describe_error(
                Fault('Runtime.MarshalError', f'Unable to marshal response: {error}')
            ))
        return '{"kind":"result","value":' + body + '}'
    finally:
        _flush_stdio()


def _traced(tracer, function, *args):
    """Calls `function` with `tracer` installed as the trace function, if there is one."""
    if tracer is None:
        return function(*args)
    sys.settrace(tracer)
    try:
        return function(*args)
    finally:
        sys.settrace(None)


_scan_json = json.JSONDecoder().scan_once


def _seed(seed):
    """`random.seed(seed)` for an int seed, minus the wrapper's checks of other seed types: what
    Random.seed does for an int."""
    _random.Random.seed(random._inst, seed)
    random._inst.gauss_next = None


def _marshal(result):
    """awslambdaric's `marshal_response`: the JSON text of the result. Bytes are sent as they
    are; CloudFront reads them as JSON, so they are parsed here."""
    if isinstance(result, bytes):
        result = json.loads(result)
    return json.dumps(result, default=_json_default, allow_nan=False)


def _json_default(value):
    """awslambdaric's encoder writes a Decimal as its number; nothing else is added to JSON."""
    decimal = sys.modules.get('decimal')
    if decimal is not None and isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f'Object of type {value.__class__.__name__} is not JSON serializable')


def _exit_error(error, aws_request_id):
    """A handler that raised SystemExit (or another BaseException) ends awslambdaric's process;
    Lambda then reports the exit."""
    status = error.code if isinstance(error, SystemExit) and isinstance(error.code, int) else 1
    return json.dumps({
        'errorType': 'Runtime.ExitError',
        'errorMessage': f'RequestId: {aws_request_id} Error: Runtime exited with error: exit status {status}',
        'trace': _trace(error),
    })


def describe_error(error):
    """The error JSON {errorType, errorMessage, trace} of an exception, as awslambdaric's
    `build_fault_result` and `make_error` report it. `trace` is ours: the exception line, then
    the frames as `file:line:column in function`, innermost first and without the shim's own
    (the converter points its diagnostics at the first frame of the user's file)."""
    try:
        if isinstance(error, Fault):
            error_type, message, trace = error.error_type, error.message, list(error.trace)
        else:
            error_type, message = type(error).__name__, str(error)
            trace = _trace(error)
        return json.dumps({
            'errorType': error_type,
            'errorMessage': message,
            'trace': [f'{error_type}: {message}' if message else error_type, *trace],
        })
    except Exception:  # noqa: BLE001 - a broken __str__ must not take the engine down
        return json.dumps({'errorType': 'Runtime.Unknown', 'errorMessage': 'the error could not be described', 'trace': []})


def _error_outcome(error_json):
    return '{"kind":"error",' + error_json[1:]


def _trace(error):
    frames = []
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if not code.co_filename.startswith(ENGINE_FILE_PREFIX) and code.co_filename != _SHIM_FILE:
            location = _location(code.co_filename, tb.tb_lineno, _column(code, tb.tb_lasti))
            frames.append(f'{location} in {code.co_name}')
        tb = tb.tb_next
    frames.reverse()
    return frames


def _column(code, lasti):
    """The 1-based column of the instruction at byte offset `lasti`, if the code knows it."""
    try:
        for index, (_, _, column, _) in enumerate(code.co_positions()):
            if index == lasti // 2:
                return None if column is None else column + 1
    except (AttributeError, ValueError, TypeError):
        pass
    return None


def _location(filename, line, column):
    location = f'{filename}:{line}'
    return location if column is None else f'{location}:{column}'


def _flush_stdio():
    """awslambdaric writes through unbuffered streams; the host collects logs after each call."""
    if _STDIO_WRITES_THROUGH and sys.stdout is sys.__stdout__ and sys.stderr is sys.__stderr__:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or replaced stream is not the engine's failure
            pass
