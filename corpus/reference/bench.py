#!/usr/bin/env python3
"""Times the original Python handler in one warm CPython process: imports it once, then calls
it `--runs` times on the same event (parsed afresh each time, the result serialised as Lambda
does) and prints {"medianUs", "p99Us"} as JSON. Used by edgeport's benchmark
(corpus/benches/cold_start.rs) to put CPython beside the runtime, as bench.js puts node.

usage: python3 bench.py --handler FILE --event FILE [--export NAME] [--runs N]
"""

import argparse
import contextlib
import importlib.util
import io
import json
import os
import sys
import time


class Context:
    function_name = 'bench'
    aws_request_id = 'bench'

    def get_remaining_time_in_millis(self):
        return 5000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--handler', required=True)
    parser.add_argument('--event', required=True)
    parser.add_argument('--export', default='lambda_handler')
    parser.add_argument('--runs', type=int, default=2000)
    args = parser.parse_args()
    handler_file = os.path.abspath(args.handler)
    sys.path.insert(0, os.path.dirname(handler_file))
    with open(args.event, encoding='utf-8') as event_file:
        event_json = event_file.read()
    spec = importlib.util.spec_from_file_location('lambda_function', handler_file)
    module = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
    handler = getattr(module, args.export)
    context = Context()
    times = []
    # Handlers print; keep stdout for the result.
    with contextlib.redirect_stdout(io.StringIO()) as sink:
        for _ in range(args.runs):
            started = time.perf_counter_ns()
            try:
                json.dumps(handler(json.loads(event_json), context))
            except Exception:  # noqa: BLE001 - an error is an outcome too
                pass
            times.append((time.perf_counter_ns() - started) / 1000)
            sink.seek(0)
            sink.truncate()
    times.sort()
    at = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
    print(json.dumps({'medianUs': at(0.5), 'p99Us': at(0.99)}))


if __name__ == '__main__':
    main()
