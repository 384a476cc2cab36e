"""A long-lived reference executor for `edgeport test`: runs original Lambda@Edge Python handlers
on CPython, one invocation at a time, as ric.py describes, and speaks the JSON-lines protocol of
the node worker (../node/worker.js) — one request on stdin, one answer on stdout:

  {"id":1,"op":"invoke","file":"/abs/lambda_function.py","export":"lambda_handler","event":{...},
   "seed":1,"now":1767225600000,"timeoutMs":5000,"functionName":"f","requestId":"..."}
    -> {"id":1,"outcome":{"kind":"result","value":{...}},"logs":"..."}
  {"id":2,"op":"coverage","root":"/abs/function-dir"}
    -> {"id":2,"scripts":[{"path":"/abs/lambda_function.py",
                           "steps":[[null,[120,131],1],[[120,131],[124,129],1],...]}]}

The first line it writes is {"ready":true,"python":"3.11.7"}. `python3 worker.py --coverage`
records coverage: every instruction the handler's files ran (the handler and the modules beside
it), as steps `[from, to, count]` — `count` times a frame went from the instruction whose
source position is the byte range `from` of the file to the one at `to` (`from` is null when
`to` is the first located instruction a frame ran). Positions come from `code.co_positions()`
(lines and UTF-8 byte columns); instructions without one are skipped. A coverage request
returns the steps since the previous one for the files under `root`.

Every invocation starts from a freshly executed module: every module imported since the worker
started (the handler's, the files beside it, standard-library modules it imported) is
forgotten, the attributes of the modules loaded before (builtins included), `sys.path`,
`os.environ`, the working directory and the standard streams are put back, and the
clock and seed are pinned again, so an outcome does not depend on what ran before — the
converted side gets a fresh instance per event too. What the handler prints (to sys.stdout,
sys.stderr, or file descriptors 1 and 2) is the answer's `logs`.
"""

import dis
import json
import os
import platform
import sys
import tempfile
import traceback

import ric  # noqa: I001 - from this script's directory, which is then forgotten

# The files beside this script are not the handler's to import (it may have a `ric.py`).
sys.path.pop(0)
sys.modules.pop('ric')

LOG_LIMIT = 64 * 1024


class Coverage:
    """The steps between the located instructions of the handler's files (see the module doc)."""

    # Code flags of frames that are suspended and resumed (generators and coroutines).
    RESUMABLE = 0x20 | 0x80 | 0x200

    def __init__(self):
        # path -> {(from, to): count}
        self.steps = {}
        # code object -> (path, the byte range of each code unit's instruction, or None)
        self.positions = {}
        # path -> the byte offset of each line's start (1-based: index 0 unused)
        self.line_starts = {}
        # id(frame) -> last offset, for suspended generator frames
        self.suspended = {}
        self.directory = None
        self.handler_name = None
        self.handler_path = None

    def tracer_for(self, file):
        """The global trace function for an invocation of the handler `file`."""
        self.directory = os.path.dirname(file) + os.sep
        self.handler_name = os.path.basename(file)
        self.handler_path = file
        return self.on_call

    def path_of(self, code):
        name = code.co_filename
        if name == self.handler_name:
            return self.handler_path
        if name.startswith(self.directory):
            return name
        return None

    def on_call(self, frame, event, arg):
        code = frame.f_code
        located = self.positions.get(code)
        if located is None:
            path = self.path_of(code)
            if path is None:
                return None
            located = self.positions[code] = (path, self.instruction_ranges(path, code))
        path, ranges = located
        steps = self.steps.setdefault(path, {})
        resumable = code.co_flags & self.RESUMABLE
        previous = self.suspended.pop(id(frame), None) if resumable else None
        frame.f_trace_lines = False
        frame.f_trace_opcodes = True

        def on_event(frame, event, arg):
            nonlocal previous
            if event == 'opcode':
                position = ranges[frame.f_lasti // 2]
                if position is not None:
                    key = (previous, position)
                    steps[key] = steps.get(key, 0) + 1
                    previous = position
            elif event == 'return' and resumable:
                self.suspended[id(frame)] = previous
            return on_event

        return on_event

    def instruction_ranges(self, path, code):
        """The byte range in `path` of each code unit's instruction, None where it has no
        position or where its position means nothing (RESUME, the frame's entry, sits at column 0
        of the `def` line)."""
        lines = self.line_starts.get(path)
        if lines is None:
            with open(path, 'rb') as stream:
                text = stream.read()
            # The compiler counts the columns of line 1 after a byte-order mark.
            lines = [0, 3 if text.startswith(b'\xef\xbb\xbf') else 0]
            lines.extend(i + 1 for i, byte in enumerate(text) if byte == 0x0A)
            self.line_starts[path] = lines
        resume = dis.opmap['RESUME']
        raw = code.co_code
        ranges = []
        for index, (line, end_line, column, end_column) in enumerate(code.co_positions()):
            if (
                line is None or end_line is None or column is None or end_column is None
                or not 0 < line <= end_line < len(lines)
                or raw[index * 2] == resume or (line, column) == (end_line, end_column)
            ):
                ranges.append(None)
            else:
                ranges.append((lines[line] + column, lines[end_line] + end_column))
        return ranges

    def take(self, root):
        """The steps since the last take for the files under `root`; counting starts afresh."""
        root = os.path.join(os.path.abspath(root), '')
        scripts = []
        for path, steps in sorted(self.steps.items()):
            if path.startswith(root) and steps:
                scripts.append({'path': path, 'steps': [[a, b, n] for (a, b), n in steps.items()]})
        self.steps.clear()
        # Each load compiles new code objects; the old ones are never seen again.
        self.positions.clear()
        self.suspended.clear()
        self.line_starts.clear()
        return {'scripts': scripts}


class CleanSlate:
    """What a handler can change in the worker's process, as it was when the worker started."""

    def __init__(self):
        self.modules = set(sys.modules)
        # The attributes of every module loaded so far (builtins included): a handler may set
        # some, and a module it imports adds itself to its package.
        self.namespaces = [
            (module.__dict__, dict(module.__dict__))
            for name, module in sys.modules.items()
            if name != 'sys' and isinstance(getattr(module, '__dict__', None), dict)
        ]
        self.path = list(sys.path)
        self.streams = (sys.stdout, sys.stderr, sys.stdin)
        self.cwd = os.getcwd()

    def restore(self):
        sys.settrace(None)
        for name in [name for name in sys.modules if name not in self.modules]:
            del sys.modules[name]
        missing = object()
        for live, saved in self.namespaces:
            if len(live) != len(saved) or any(live.get(key, missing) is not value for key, value in saved.items()):
                for key in [key for key in live if key not in saved]:
                    del live[key]
                live.update(saved)
        sys.path[:] = self.path
        sys.path_importer_cache.clear()
        sys.stdout, sys.stderr, sys.stdin = self.streams
        os.environ.clear()
        os.chdir(self.cwd)


class Logs:
    """File descriptors 1 and 2 both write to one temporary file, so output of any kind lands
    in it in the order it was written; the protocol keeps a private copy of the real stdout."""

    def __init__(self):
        self.protocol = os.fdopen(os.dup(1), 'w', encoding='utf-8')
        self.diagnostics = os.fdopen(os.dup(2), 'w', encoding='utf-8')
        self.requests = os.fdopen(os.dup(0), 'r', encoding='utf-8')
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        self.file = tempfile.TemporaryFile()
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self.file.fileno(), 1)
        os.dup2(self.file.fileno(), 2)

    def take(self):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a stream the handler closed
                pass
        fd = self.file.fileno()
        size = os.lseek(fd, 0, os.SEEK_END)
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, min(size, LOG_LIMIT))
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        return data.decode('utf-8', 'replace')

    def answer(self, body):
        self.protocol.write(json.dumps(body) + '\n')
        self.protocol.flush()


def main():
    if sys.version_info < (3, 11):
        sys.stderr.write(f'the Python reference needs Python 3.11 or later, not {platform.python_version()}\n')
        sys.exit(2)
    coverage = Coverage() if '--coverage' in sys.argv[1:] else None
    ric.install_determinism()
    logs = Logs()
    try:
        serve(logs, coverage)
    except BaseException:  # noqa: BLE001 - said on the real stderr, which the caller reads
        logs.diagnostics.write(traceback.format_exc())
        logs.diagnostics.flush()
        raise


def serve(logs, coverage):
    slate = CleanSlate()
    logs.answer({'ready': True, 'python': platform.python_version()})
    for line in logs.requests:
        try:
            request = json.loads(line)
        except ValueError as error:
            logs.answer({'id': None, 'fatal': f'not a JSON request: {error}'})
            continue
        op = request.get('op')
        try:
            if op == 'invoke':
                body = invoke(request, coverage)
                slate.restore()
                body['logs'] = logs.take()
            elif op == 'coverage' and coverage is not None:
                body = coverage.take(request['root'])
            else:
                body = {'fatal': f"unknown request '{op}'"}
        except Exception as error:  # noqa: BLE001 - the worker's own failure, for the caller
            slate.restore()
            body = {'fatal': f'the Python worker failed: {type(error).__name__}: {error}'}
        logs.answer({'id': request.get('id'), **body})


def invoke(request, coverage):
    file = os.path.abspath(request['file'])
    outcome = ric.run(
        file,
        request['export'],
        request['event'],
        seed=request['seed'],
        now_ms=request['now'],
        timeout_ms=request['timeoutMs'],
        function_name=request['functionName'],
        request_id=request['requestId'],
        tracer=coverage.tracer_for(file) if coverage is not None else None,
    )
    return {'outcome': outcome}


if __name__ == '__main__':
    main()
