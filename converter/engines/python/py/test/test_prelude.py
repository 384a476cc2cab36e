"""The shim (py/prelude.py) on CPython, where awslambdaric itself runs.

    python3 converter/engines/python/py/test/test_prelude.py

The engine runs the same file under RustPython; converter/tests/python.rs checks the engine end
to end. Here each case is a handler module, an event and the outcome awslambdaric would report.
"""

import importlib.util
import json
import pathlib
import random
import sys
import unittest

PRELUDE = pathlib.Path(__file__).resolve().parent.parent / 'prelude.py'

CONTEXT = {
    'functionName': 'fn',
    'functionVersion': '$LATEST',
    'invokedFunctionArn': 'arn:aws:lambda:us-east-1:123456789012:function:fn',
    'memoryLimitInMB': '128',
    'logGroupName': '/aws/lambda/us-east-1.fn',
    'logStreamName': 'stream',
}

HANDLER = '''
import decimal, random
def handler(event, context):
    kind = event['kind']
    if kind == 'echo':
        return event
    if kind == 'tuple':
        return (1, 'a')
    if kind == 'decimal':
        return {'n': decimal.Decimal('1.5')}
    if kind == 'set':
        return {1}
    if kind == 'nan':
        return float('nan')
    if kind == 'bytes':
        return b'{"a": 1}'
    if kind == 'none':
        return None
    if kind == 'random':
        return random.random()
    if kind == 'context':
        return [context.function_name, context.memory_limit_in_mb, context.aws_request_id,
                context.get_remaining_time_in_millis() >= 0, context.identity.cognito_identity_id]
    if kind == 'raise':
        raise ValueError('bad value')
    if kind == 'exit':
        raise SystemExit(3)
'''


def fresh_shim():
    spec = importlib.util.spec_from_file_location('edgeport_shim', PRELUDE)
    shim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shim)
    return shim


def envelope(event, seed=1, context=True):
    value = {'event': event, 'awsRequestId': 'req-1', 'seed': seed, 'deadlineMs': 2 ** 53}
    if context:
        value['context'] = CONTEXT
    return json.dumps(value)


class Invoke(unittest.TestCase):
    def setUp(self):
        self.shim = fresh_shim()
        self.assertIsNone(self.shim.load('handler', 'lambda_function.py', ['json'], HANDLER))

    def check(self, kind, expected):
        outcome = json.loads(self.shim.invoke(envelope({'kind': kind})))
        outcome.pop('trace', None)
        self.assertEqual(outcome, expected)

    def test_results_are_sent_as_json(self):
        self.check('echo', {'kind': 'result', 'value': {'kind': 'echo'}})
        self.check('tuple', {'kind': 'result', 'value': [1, 'a']})
        self.check('decimal', {'kind': 'result', 'value': {'n': 1.5}})
        self.check('bytes', {'kind': 'result', 'value': {'a': 1}})
        self.check('none', {'kind': 'result', 'value': None})

    def test_what_json_cannot_hold_is_a_marshal_error(self):
        self.check('set', {
            'kind': 'error',
            'errorType': 'Runtime.MarshalError',
            'errorMessage': 'Unable to marshal response: Object of type set is not JSON serializable',
        })
        # Newer CPython versions append the value (": nan"); the prefix is common to all.
        outcome = json.loads(self.shim.invoke(envelope({'kind': 'nan'})))
        self.assertEqual(outcome['errorType'], 'Runtime.MarshalError')
        self.assertTrue(outcome['errorMessage'].startswith(
            'Unable to marshal response: Out of range float values are not JSON compliant'
        ))

    def test_an_exception_reports_its_class_message_and_frames(self):
        outcome = json.loads(self.shim.invoke(envelope({'kind': 'raise'})))
        self.assertEqual((outcome['errorType'], outcome['errorMessage']), ('ValueError', 'bad value'))
        self.assertEqual(outcome['trace'], ['ValueError: bad value', 'lambda_function.py:25:9 in handler'])

    def test_system_exit_is_an_exit_error(self):
        self.check('exit', {
            'kind': 'error',
            'errorType': 'Runtime.ExitError',
            'errorMessage': 'RequestId: req-1 Error: Runtime exited with error: exit status 3',
        })

    def test_random_is_seeded_per_invocation_as_cpython_seeds_it(self):
        random.seed(7)
        expected = random.random()
        for _ in range(2):
            self.assertEqual(json.loads(self.shim.invoke(envelope({'kind': 'random'}, seed=7)))['value'], expected)

    def test_the_context_is_kept_between_invocations(self):
        first = json.loads(self.shim.invoke(envelope({'kind': 'context'})))
        second = json.loads(self.shim.invoke(envelope({'kind': 'context'}, context=False)))
        self.assertEqual(first, {'kind': 'result', 'value': ['fn', '128', 'req-1', True, None]})
        self.assertEqual(second, first)


class Load(unittest.TestCase):
    def check(self, source, error_type, message, trace):
        error = json.loads(fresh_shim().load('handler', 'lambda_function.py', [], source))
        self.assertEqual((error['errorType'], error['errorMessage']), (error_type, message))
        self.assertEqual(error['trace'][1:], trace)

    def test_load_errors_use_awslambdaric_types(self):
        self.check(
            'def handler(event, context)\n    return 1\n',
            'Runtime.UserCodeSyntaxError',
            "Syntax error in module 'lambda_function': expected ':' (lambda_function.py, line 1)",
            ['lambda_function.py:1:28'],
        )
        self.check(
            'import edgeport_no_such_module\n',
            'Runtime.ImportModuleError',
            "Unable to import module 'lambda_function': No module named 'edgeport_no_such_module'",
            ['lambda_function.py:1:1 in <module>'],
        )
        self.check('x = 1\n', 'Runtime.HandlerNotFound', "Handler 'handler' missing on module 'lambda_function'", [])
        self.check("x = {}['k']\n", 'KeyError', "'k'", ['lambda_function.py:1:5 in <module>'])

    def test_preloading_skips_modules_that_do_not_exist(self):
        self.assertIsNone(fresh_shim().load('handler', 'lambda_function.py', ['edgeport_no_such_module'], HANDLER))

    def test_bundled_local_modules_import_like_files_next_to_the_handler(self):
        shim = fresh_shim()
        modules = [
            ('edgeport_helpers.py', 'from edgeport_pkg.rules import RULE\ndef greet():\n    return RULE\n'),
            ('edgeport_pkg/__init__.py', ''),
            ('edgeport_pkg/rules.py', "RULE = 'from a package'\n"),
        ]
        source = 'import edgeport_helpers\ndef handler(event, context):\n    return edgeport_helpers.greet()\n'
        try:
            self.assertIsNone(shim.load('handler', 'lambda_function.py', [], source, None, modules))
            outcome = json.loads(shim.invoke(envelope({})))
        finally:
            for name in ('edgeport_helpers', 'edgeport_pkg', 'edgeport_pkg.rules'):
                sys.modules.pop(name, None)
            sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != '_BundledModules']
        self.assertEqual(outcome, {'kind': 'result', 'value': 'from a package'})


if __name__ == '__main__':
    unittest.main()
