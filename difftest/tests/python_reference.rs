//! The Python reference on real CPython: the worker reproduces the one-shot harness and the
//! corpus's expected outcomes, pins the clock and the seed as a direct python3 run computes
//! them, starts every event from a fresh module, survives busy loops and exits, reports load
//! errors with awslambdaric's types, and its coverage counts branch arms as CPython ran them.

use std::path::{Path, PathBuf};
use std::process::Command;

use edgeport_difftest::coverage::CoverageTally;
use edgeport_difftest::reference::{
    ReferenceInvocation, ReferenceLanguage, ReferenceWorker, WorkerOptions,
};
use edgeport_difftest::runner::REQUEST_ID;
use edgeport_difftest::FunctionConfig;
use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::{cloudfront, Outcome};
use serde_json::{json, Value};

fn python() -> String {
    std::env::var("EDGEPORT_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Whether python3 can run the tests; prints why not.
fn python_available() -> bool {
    let version = Command::new(python())
        .args(["-c", "import sys; print(sys.version_info >= (3, 11))"])
        .output();
    match version {
        Ok(output) if String::from_utf8_lossy(&output.stdout).trim() == "True" => true,
        Ok(_) => {
            println!("SKIPPED: {} is older than Python 3.11", python());
            false
        }
        Err(error) => {
            println!("SKIPPED: cannot run {}: {error}", python());
            false
        }
    }
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .canonicalize()
        .expect("the corpus exists")
}

fn worker(coverage: bool) -> ReferenceWorker {
    let options = WorkerOptions {
        coverage,
        install_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf()),
    };
    ReferenceWorker::spawn(ReferenceLanguage::Python, options).expect("python3 starts")
}

fn viewer_request(uri: &str) -> Value {
    json!({"Records": [{"cf": {"config": {"eventType": "viewer-request"},
        "request": {"clientIp": "203.0.113.9", "method": "GET", "uri": uri, "querystring": "",
                    "headers": {}}}}]})
}

/// A function directory holding `lambda_function.py` and any other `files`.
fn scratch(handler: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("lambda_function.py");
    std::fs::write(&file, handler).expect("write handler");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write module");
    }
    let file = file.canonicalize().expect("canonical path");
    (dir, file)
}

fn invoke_with(
    worker: &mut ReferenceWorker,
    file: &Path,
    event: &Value,
    seed: u32,
    timeout_ms: u64,
) -> Outcome {
    worker
        .invoke(&ReferenceInvocation {
            file,
            export: "lambda_handler",
            event,
            seed,
            now_ms: DEFAULT_FIXED_NOW_MS,
            timeout_ms,
            function_name: "scratch",
            request_id: REQUEST_ID,
        })
        .expect("the worker answers")
        .outcome
}

fn invoke(worker: &mut ReferenceWorker, file: &Path, event: &Value) -> Outcome {
    invoke_with(worker, file, event, 1, 5000)
}

fn result(value: Value) -> Outcome {
    Outcome::Result { value }
}

/// The outcome of the one-shot harness on `event`, in a fresh python3.
fn harness(file: &Path, event: &Value, seed: u32) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let event_file = dir.path().join("event.json");
    std::fs::write(&event_file, event.to_string()).expect("write event");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/python/harness.py");
    let output = Command::new(python())
        .args(["-B", "-s", "-u"])
        .arg(script)
        .arg("--handler")
        .arg(file)
        .arg("--event")
        .arg(&event_file)
        .args(["--seed", &seed.to_string(), "--function-name", "scratch"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PYTHONHASHSEED", "0")
        .env("TZ", "UTC")
        .output()
        .expect("the harness runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one outcome")
}

/// Drops stack traces, which are not compared.
fn normalized(outcome: Outcome) -> Outcome {
    outcome.normalized()
}

#[test]
fn the_worker_reproduces_the_harness_and_the_corpus() {
    if !python_available() {
        return;
    }
    let mut worker = worker(false);

    let handlers = [
        "def lambda_handler(event, context):\n    return event['Records'][0]['cf']['request']\n",
        "import random, time\n\
         def lambda_handler(event, context):\n    \
             return {'r': random.random(), 't': time.time(), 'left': context.get_remaining_time_in_millis(),\n            \
                     'name': context.function_name, 'set': list({'a', 'b', 'c', 'd'})}\n",
        "def lambda_handler(event, context):\n    raise KeyError('uri')\n",
        "def lambda_handler(event, context):\n    return {1, 2}\n",
        "def lambda_handler(event, context):\n    print('hello')\n    import sys\n    sys.exit(3)\n",
    ];
    let event = viewer_request("/a");
    for handler in handlers {
        let (_dir, file) = scratch(handler, &[]);
        assert_eq!(
            normalized(invoke_with(&mut worker, &file, &event, 7, 5000)),
            normalized(harness(&file, &event, 7)),
            "{handler}"
        );
    }

    let mut checked = 0;
    for entry in std::fs::read_dir(corpus()).expect("corpus").flatten() {
        let dir = entry.path();
        let file = dir.join("lambda_function.py");
        if !file.is_file() || !dir.join("expected").is_dir() {
            continue;
        }
        let config = FunctionConfig::read(&dir).expect("case.json");
        let name = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        for event_entry in std::fs::read_dir(dir.join("events"))
            .expect("events")
            .flatten()
        {
            let event: Value =
                serde_json::from_str(&std::fs::read_to_string(event_entry.path()).expect("event"))
                    .expect("JSON");
            let expected: Outcome = serde_json::from_str(
                &std::fs::read_to_string(dir.join("expected").join(event_entry.file_name()))
                    .expect("expected outcome (node corpus/reference/bless.js)"),
            )
            .expect("an outcome");
            let event_type = cloudfront::event_type_of(&event).expect("event type");
            let run = worker
                .invoke(&ReferenceInvocation {
                    file: &file,
                    export: config.export.as_deref().unwrap_or("lambda_handler"),
                    event: &event,
                    seed: config.seed,
                    now_ms: DEFAULT_FIXED_NOW_MS,
                    timeout_ms: event_type.timeout_ms(),
                    function_name: &name,
                    request_id: REQUEST_ID,
                })
                .expect("the worker answers");
            assert_eq!(
                normalized(run.outcome),
                normalized(expected),
                "{}",
                event_entry.path().display()
            );
            checked += 1;
        }
    }
    println!("{checked} corpus events");
}

#[test]
fn the_clock_and_the_seed_are_pinned_as_python_computes_them() {
    if !python_available() {
        return;
    }
    let readings = "\
import datetime, time, random
def lambda_handler(event, context):
    return [
        time.time(), time.time_ns(), time.gmtime()[:6], time.localtime()[:6],
        time.strftime('%Y-%m-%d %H:%M:%S %Z'), time.ctime(),
        datetime.datetime.now().isoformat(), datetime.datetime.utcnow().isoformat(),
        datetime.datetime.now(datetime.timezone.utc).isoformat(), datetime.datetime.today().isoformat(),
        datetime.date.today().isoformat(), repr(datetime.datetime.now()),
        isinstance(datetime.datetime.fromtimestamp(0), datetime.datetime),
        random.random(), random.randint(1, 10 ** 9), random.choice('abcdefgh'),
        time.monotonic() > 0,
    ]
";
    // What those readings are at the frozen instant, computed by python3 directly.
    let direct = format!(
        "import datetime, json, random, time\n\
         now = {DEFAULT_FIXED_NOW_MS} / 1000\n\
         utc = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)\n\
         naive = utc.replace(tzinfo=None)\n\
         random.seed(42)\n\
         print(json.dumps([now, {DEFAULT_FIXED_NOW_MS} * 1000000, list(time.gmtime(now)[:6]), list(time.gmtime(now)[:6]),\n\
             naive.strftime('%Y-%m-%d %H:%M:%S') + ' UTC', time.asctime(time.gmtime(now)),\n\
             naive.isoformat(), naive.isoformat(), utc.isoformat(), naive.isoformat(),\n\
             naive.date().isoformat(), repr(naive), True,\n\
             random.random(), random.randint(1, 10 ** 9), random.choice('abcdefgh'), True]))\n"
    );
    let output = Command::new(python())
        .args(["-c", &direct])
        .env("TZ", "UTC")
        .output()
        .expect("python3 runs");
    let expected: Value = serde_json::from_slice(&output.stdout).expect("JSON");

    let (_dir, file) = scratch(readings, &[]);
    let mut worker = worker(false);
    for _ in 0..2 {
        assert_eq!(
            invoke_with(&mut worker, &file, &viewer_request("/"), 42, 5000),
            result(expected.clone())
        );
    }
}

#[test]
fn every_event_starts_from_a_fresh_module() {
    if !python_available() {
        return;
    }
    let helper =
        "state = []\n\ndef remember(value):\n    state.append(value)\n    return len(state)\n";
    let handler = "\
import builtins, json, os, sys
import helpers
calls = 0
def lambda_handler(event, context):
    global calls
    calls += 1
    seen = [calls, helpers.remember(event['Records'][0]['cf']['request']['uri']),
            hasattr(builtins, 'leaked'), os.environ.get('LEAKED'), 'edgeport_leak' in sys.modules,
            getattr(json, 'leaked', None), sorted(os.environ)]
    builtins.leaked = True
    os.environ['LEAKED'] = '1'
    sys.modules['edgeport_leak'] = sys
    json.leaked = 'yes'
    return seen
";
    let (_dir, file) = scratch(handler, &[("helpers.py", helper)]);
    let mut worker = worker(false);
    for uri in ["/a", "/b", "/c"] {
        assert_eq!(
            invoke(&mut worker, &file, &viewer_request(uri)),
            result(json!([1, 1, false, null, false, null, []]))
        );
    }
    let run = worker
        .invoke(&ReferenceInvocation {
            file: &file,
            export: "lambda_handler",
            event: &viewer_request("/"),
            seed: 1,
            now_ms: DEFAULT_FIXED_NOW_MS,
            timeout_ms: 5000,
            function_name: "scratch",
            request_id: REQUEST_ID,
        })
        .expect("answers");
    assert_eq!(run.logs, "", "nothing printed");
    let (_print_dir, printing) = scratch(
        "import os, sys\ndef lambda_handler(event, context):\n    print('out')\n    print('err', file=sys.stderr)\n    os.write(1, b'fd\\n')\n    return 1\n",
        &[],
    );
    let run = worker
        .invoke(&ReferenceInvocation {
            file: &printing,
            export: "lambda_handler",
            event: &viewer_request("/"),
            seed: 1,
            now_ms: DEFAULT_FIXED_NOW_MS,
            timeout_ms: 5000,
            function_name: "scratch",
            request_id: REQUEST_ID,
        })
        .expect("answers");
    assert_eq!(run.outcome, result(json!(1)));
    assert_eq!(run.logs, "out\nerr\nfd\n");
}

#[test]
fn busy_loops_time_out_and_exits_are_exit_errors() {
    if !python_available() {
        return;
    }
    let mut worker = worker(false);
    let event = viewer_request("/");
    let (_ok_dir, ok) = scratch(
        "def lambda_handler(event, context):\n    return 'ok'\n",
        &[],
    );
    let timeout = Outcome::Timeout {
        reason: "task timed out after 300 ms".into(),
    };

    // Interrupted inside the worker.
    let (_busy_dir, busy) = scratch(
        "def lambda_handler(event, context):\n    while True:\n        pass\n",
        &[],
    );
    assert_eq!(invoke_with(&mut worker, &busy, &event, 1, 300), timeout);
    assert_eq!(invoke(&mut worker, &ok, &event), result(json!("ok")));

    // A loop that swallows the interruption is killed with its worker, which restarts.
    let (_stubborn_dir, stubborn) = scratch(
        "def lambda_handler(event, context):\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n",
        &[],
    );
    assert_eq!(invoke_with(&mut worker, &stubborn, &event, 1, 300), timeout);
    assert_eq!(invoke(&mut worker, &ok, &event), result(json!("ok")));

    // sys.exit is reported as the prelude (and Lambda) reports it; os._exit ends the worker.
    let (_exit_dir, exits) = scratch(
        "import sys\ndef lambda_handler(event, context):\n    sys.exit(3)\n",
        &[],
    );
    let (_hard_dir, hard_exit) = scratch(
        "import os\ndef lambda_handler(event, context):\n    os._exit(4)\n",
        &[],
    );
    for (file, status) in [(&exits, 3), (&hard_exit, 4)] {
        let Outcome::Error {
            error_type,
            error_message,
            ..
        } = invoke(&mut worker, file, &event)
        else {
            panic!("an exit is an error")
        };
        assert_eq!(error_type, "Runtime.ExitError");
        assert_eq!(
            error_message,
            format!(
                "RequestId: {REQUEST_ID} Error: Runtime exited with error: exit status {status}"
            )
        );
        assert_eq!(invoke(&mut worker, &ok, &event), result(json!("ok")));
    }
}

#[test]
fn load_errors_use_awslambdaric_types() {
    if !python_available() {
        return;
    }
    let mut worker = worker(false);
    let event = viewer_request("/");
    let cases = [
        (
            "def lambda_handler(event, context)\n    return 1\n",
            "Runtime.UserCodeSyntaxError",
        ),
        (
            "def handler(event, context):\n    return 1\n",
            "Runtime.HandlerNotFound",
        ),
        (
            "import edgeport_no_such_module\n",
            "Runtime.ImportModuleError",
        ),
        ("x = {}['k']\n", "KeyError"),
    ];
    for (source, expected_type) in cases {
        let (_dir, file) = scratch(source, &[]);
        let outcome = invoke(&mut worker, &file, &event);
        let Outcome::Error { error_type, .. } = &outcome else {
            panic!("{source}: {outcome:?}")
        };
        assert_eq!(error_type, expected_type, "{source}");
        assert_eq!(
            normalized(outcome),
            normalized(harness(&file, &event, 1)),
            "{source}"
        );
    }
}

#[test]
fn coverage_counts_each_arm_as_cpython_ran_it() {
    if !python_available() {
        return;
    }
    let handler = "\
def lambda_handler(event, context):
    x = event['x']
    if x:
        a = 1
    if x == 1:
        b = 'one'
    elif x == 2:
        b = 'two'
    else:
        b = 'other'
    c = 'yes' if x else 'no'
    d = x or 'default'
    for i in range(x):
        if i == 5:
            break
    else:
        e = 1
    try:
        f = 10 // x
    except ZeroDivisionError:
        f = 0
    match x:
        case 1:
            g = 1
        case 2 | 3:
            g = 2
    if x == 99:
        return 'never'
    return [a if x else None, b, c, d, f]
";
    let (_dir, file) = scratch(handler, &[]);
    let mut worker = worker(true);
    for x in [0, 1, 2, 2, 7] {
        invoke(&mut worker, &file, &json!({"x": x}));
    }
    let mut tally = CoverageTally::new(&file);
    tally.add(
        &worker
            .take_coverage(file.parent().expect("dir"))
            .expect("coverage"),
    );
    assert_eq!(
        tally.branch_counts(),
        vec![
            (3, vec![4, 1]),     // if x: (an if without else; x == 0 once)
            (5, vec![1, 4]),     // if x == 1 / the elif chain
            (7, vec![2, 2]),     // elif x == 2 / else
            (11, vec![4, 1]),    // 'yes' if x else 'no'
            (12, vec![1, 4]),    // x or 'default': 'default' once, short circuit four times
            (13, vec![11, 4]),   // for ... else: 1 + 2 + 2 + 6 iterations; no else after a break
            (14, vec![1, 10]),   // if i == 5 (break) without else
            (18, vec![1, 4]),    // except ZeroDivisionError / no handler ran
            (22, vec![1, 2, 2]), // case 1, case 2 | 3, nothing matched
            (27, vec![0, 5]),    // if x == 99 without else
            (29, vec![4, 1]),    // a if x else None
        ]
    );
    assert_eq!(tally.uncovered_lines(), vec![28]);
    assert_eq!(tally.partial_branch_lines(), vec![27]);

    // Nothing is counted twice: the next take starts afresh.
    assert!(worker
        .take_coverage(file.parent().expect("dir"))
        .expect("coverage")
        .is_empty());
}
