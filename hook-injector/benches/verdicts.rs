//! Verdicts per second of the compiled rules — in the kernel (`BPF_PROG_TEST_RUN`), with the
//! rbpf JIT and with the rbpf interpreter — and the cost of loading them (instructions,
//! instructions the verifier processed, load time), for rule sets of 1, 10, 50 and 100 rules.
//! Prints a Markdown table. Run with `cargo bench -p edgeport-hook-injector --bench verdicts`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use edgeport_hook_injector::bpf::{Entry, Program};
use edgeport_hook_injector::frame::tcp_frame;
use edgeport_hook_injector::ir::{Action, Network, Predicate, Rule, RuleSet, SourceSpan, TextMatch};
use edgeport_hook_injector::kernel::{self, KernelProgram};
use edgeport_hook_injector::vm::UserSpaceVm;
use serde_json::json;

/// A redirect table with some blocks, as recognised handlers produce them: mostly paths, a
/// few client networks and header tests, one `contains` in ten.
fn rules(count: usize) -> RuleSet {
    let rules = (0..count)
        .map(|i| {
            let (predicates, block) = match i % 10 {
                0 | 5 => (vec![Predicate::Path { op: TextMatch::Equals, value: format!("/old/{i}"), case_insensitive: false }], false),
                1 | 6 => (vec![Predicate::Path { op: TextMatch::Prefix, value: format!("/legacy{i}/"), case_insensitive: true }], false),
                2 | 7 => (
                    vec![Predicate::ClientIp {
                        networks: vec![Network { address: IpAddr::from([203, 0, (i % 256) as u8, 0]), prefix: 24 }],
                    }],
                    true,
                ),
                3 | 8 => (
                    vec![Predicate::Header {
                        name: "host".into(),
                        op: TextMatch::Equals,
                        value: format!("site{i}.example"),
                        case_insensitive: true,
                    }],
                    false,
                ),
                4 => (
                    vec![Predicate::Header {
                        name: "user-agent".into(),
                        op: TextMatch::Contains,
                        value: format!("bot{i}"),
                        case_insensitive: true,
                    }],
                    true,
                ),
                _ => (
                    vec![
                        Predicate::Method { value: "POST".into() },
                        Predicate::HeaderAbsent { name: "cookie".into() },
                    ],
                    true,
                ),
            };
            let action = if block {
                Action::Respond { response: json!({ "status": "403" }), append_query_to: None }
            } else {
                Action::Respond { response: json!({ "status": "301" }), append_query_to: None }
            };
            Rule {
                name: format!("rule {i}"),
                predicates,
                action,
                source: SourceSpan { file: PathBuf::from("handler.js"), span: 0..1, line: 1 },
            }
        })
        .collect();
    RuleSet { rules }
}

/// A browser request that no rule matches (every rule is tried), and one that the first
/// rule matches.
fn frames() -> Vec<Vec<u8>> {
    let client = IpAddr::from([192, 0, 2, 44]);
    let server = IpAddr::from([198, 51, 100, 1]);
    let miss = "GET /index.html?x=1 HTTP/1.1\r\nHost: www.example\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\nAccept: text/html,*/*;q=0.8\r\nAccept-Language: en\r\nCookie: a=1\r\n\r\n";
    let hit = "GET /old/0 HTTP/1.1\r\nHost: www.example\r\nUser-Agent: curl/8\r\n\r\n";
    vec![tcp_frame(client, server, 80, miss.as_bytes()), tcp_frame(client, server, 80, hit.as_bytes())]
}

/// Verdicts per second of `verdict` over `frames`, measured for about `budget`.
fn rate(frames: &[Vec<u8>], budget: Duration, mut verdict: impl FnMut(&[u8]) -> u32) -> f64 {
    let started = Instant::now();
    let mut runs = 0u64;
    let mut sink = 0u32;
    while started.elapsed() < budget {
        for frame in frames {
            sink = sink.wrapping_add(verdict(frame));
            runs += 1;
        }
    }
    std::hint::black_box(sink);
    runs as f64 / started.elapsed().as_secs_f64()
}

fn millions(rate: f64) -> String {
    format!("{:.2} M/s", rate / 1e6)
}

fn main() {
    let frames = frames();
    let kernel_reason = kernel::probe().err();
    if let Some(reason) = &kernel_reason {
        println!("SKIPPED: kernel columns ({reason})\n");
    }
    println!("| rules | insns | verified insns (verdict / filter) | load + verify | kernel in-kernel | kernel per syscall | rbpf JIT | rbpf interpreter |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for count in [1, 10, 50, 100] {
        let rules = rules(count);
        let program = match Program::compile(&rules) {
            Ok(program) => program,
            Err(error) => {
                println!("| {count} | compile error: {error} | | | | | | |");
                continue;
            }
        };
        let mut kernel_cells = ["n/a".to_owned(), "n/a".to_owned(), "n/a".to_owned(), "n/a".to_owned()];
        if kernel_reason.is_none() {
            match KernelProgram::load(&program) {
                Ok(mut loaded) => {
                    let verified = |entry| loaded.verified_instructions(entry).map_or_else(|e| e.to_string(), |n| n.to_string());
                    kernel_cells[0] = format!("{} / {}", verified(Entry::Verdict), verified(Entry::Filter));
                    kernel_cells[1] = format!("{:.0} ms", loaded.load_time().as_secs_f64() * 1e3);
                    let mut total = Duration::ZERO;
                    let repeat = 200_000;
                    for frame in &frames {
                        if let Ok((_, per_run)) = loaded.run(frame, repeat) {
                            total += per_run;
                        }
                    }
                    let per_run = total / frames.len() as u32;
                    kernel_cells[2] = if per_run.is_zero() {
                        "n/a".into()
                    } else {
                        format!("{} ({} ns)", millions(1e9 / per_run.as_nanos() as f64), per_run.as_nanos())
                    };
                    kernel_cells[3] = millions(rate(&frames, Duration::from_millis(500), |frame| {
                        loaded.verdict(frame).unwrap_or(u32::MAX)
                    }));
                }
                Err(error) => kernel_cells[0] = format!("rejected: {}", error.to_string().lines().next().unwrap_or("")),
            }
        }
        let jit = UserSpaceVm::new(&program).map(|mut vm| millions(rate(&frames, Duration::from_millis(500), |f| vm.verdict(f))));
        let interpreter =
            UserSpaceVm::interpreter(&program).map(|mut vm| millions(rate(&frames, Duration::from_millis(500), |f| vm.verdict(f))));
        println!(
            "| {count} | {} | {} | {} | {} | {} | {} | {} |",
            program.instruction_count(),
            kernel_cells[0],
            kernel_cells[1],
            kernel_cells[2],
            kernel_cells[3],
            jit.unwrap_or_else(|e| e.to_string()),
            interpreter.unwrap_or_else(|e| e.to_string()),
        );
    }
}
