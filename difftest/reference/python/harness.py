"""Runs one original Lambda@Edge Python handler on one event in this (fresh) CPython process, as
AWS's runtime interface client would, and prints the outcome as one line of JSON on stdout (the
shapes are described in ric.py). The corpus's expected outcomes are made with it
(corpus/reference/bless.js).

usage: python3 harness.py --handler FILE --event FILE [--export NAME] [--seed N] [--now MS]
         [--timeout-ms N] [--function-name S] [--request-id S]

Run it with PYTHONHASHSEED=0, as the worker is. Whatever the handler prints goes to stderr, so
stdout carries nothing but the outcome. Exit status: 0 whenever an outcome was printed (an error
outcome is data, not a failure of the harness); 2 when the harness was used wrongly.
"""

import argparse
import json
import os
import sys

import ric  # noqa: I001 - from this script's directory, which is then forgotten

# The files beside this script are not the handler's to import (it may have a `ric.py`).
sys.path.pop(0)
sys.modules.pop('ric')


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write(f'harness: {message}\n')
        sys.exit(2)


def parse_args(argv):
    parser = Parser(prog='harness.py', add_help=False)
    parser.add_argument('--handler', required=True)
    parser.add_argument('--event', required=True)
    parser.add_argument('--export', default='lambda_handler')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--now', type=int, default=ric.DEFAULT_NOW_MS)
    parser.add_argument('--timeout-ms', type=int, default=5000)
    parser.add_argument('--function-name')
    parser.add_argument('--request-id', default='8f5e2a3c-0000-4000-8000-000000000000')
    options = parser.parse_args(argv)
    options.handler = os.path.abspath(options.handler)
    if options.seed < 0 or options.now < 0 or options.timeout_ms < 1:
        parser.error('--seed and --now need integers >= 0, --timeout-ms one >= 1')
    if not os.path.isfile(options.handler):
        parser.error(f'no handler file {options.handler}')
    if options.function_name is None:
        options.function_name = os.path.basename(os.path.dirname(options.handler))
    return options, parser


def main():
    options, parser = parse_args(sys.argv[1:])
    try:
        with open(options.event, encoding='utf-8') as stream:
            event = json.load(stream)
    except (OSError, ValueError) as error:
        parser.error(f'cannot read event {options.event}: {error}')
    # Everything the handler prints goes to stderr; the outcome to the real stdout.
    out = os.fdopen(os.dup(1), 'w', encoding='utf-8')
    sys.stdout.flush()
    os.dup2(2, 1)
    ric.install_determinism()
    outcome = ric.run(
        options.handler,
        options.export,
        event,
        seed=options.seed,
        now_ms=options.now,
        timeout_ms=options.timeout_ms,
        function_name=options.function_name,
        request_id=options.request_id,
    )
    # Expected outcomes hold no stack trace, as node's (which has none) do not: its line:column
    # frames are the interpreter's, and the comparison leaves them out.
    outcome.pop('trace', None)
    out.write(json.dumps(outcome) + '\n')
    out.flush()


if __name__ == '__main__':
    main()
