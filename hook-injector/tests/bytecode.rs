//! The bytecode against the reference semantics: for a table of rule sets and crafted request
//! heads, rbpf (interpreter and JIT) and the kernel (`BPF_PROG_TEST_RUN`, when this process may
//! load BPF) must give exactly [`RuleSet::verdict`]; then a randomized agreement run and the
//! counters.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use edgeport_hook_injector::bpf::Program;
use edgeport_hook_injector::frame::{tcp_frame, with_vlan};
use edgeport_hook_injector::ir::{Action, Network, Predicate, Rule, RuleSet, SourceSpan, TextMatch};
use edgeport_hook_injector::kernel::{self, KernelProgram};
use edgeport_hook_injector::vm::UserSpaceVm;
use serde_json::json;

const PORT: u16 = 8080;

fn kernel_available() -> bool {
    static PROBE: OnceLock<bool> = OnceLock::new();
    *PROBE.get_or_init(|| match kernel::probe() {
        Ok(()) => true,
        Err(reason) => {
            println!("SKIPPED: kernel verdicts ({reason}); rbpf still runs");
            false
        }
    })
}

fn rule(name: &str, predicates: Vec<Predicate>, block: bool) -> Rule {
    let action = if block {
        Action::Respond { response: json!({ "status": "403" }), append_query_to: None }
    } else {
        Action::RewriteUri { uri: "/elsewhere".into() }
    };
    Rule {
        name: name.into(),
        predicates,
        action,
        source: SourceSpan { file: PathBuf::from("handler.js"), span: 0..1, line: 1 },
    }
}

fn header(name: &str, op: TextMatch, value: &str, case_insensitive: bool) -> Predicate {
    Predicate::Header { name: name.into(), op, value: value.into(), case_insensitive }
}

fn path(op: TextMatch, value: &str, case_insensitive: bool) -> Predicate {
    Predicate::Path { op, value: value.into(), case_insensitive }
}

fn method(value: &str) -> Predicate {
    Predicate::Method { value: value.into() }
}

fn absent(name: &str) -> Predicate {
    Predicate::HeaderAbsent { name: name.into() }
}

fn client(networks: &[(&str, u8)]) -> Predicate {
    Predicate::ClientIp {
        networks: networks
            .iter()
            .map(|(address, prefix)| Network { address: address.parse().expect("test address"), prefix: *prefix })
            .collect(),
    }
}

fn ip(address: &str) -> IpAddr {
    address.parse().expect("test address")
}

/// Every evaluator for one rule set.
struct Evaluators {
    /// Named in failure messages.
    name: &'static str,
    rules: RuleSet,
    jit: UserSpaceVm,
    interpreter: UserSpaceVm,
    kernel: Option<KernelProgram>,
}

impl Evaluators {
    fn new(name: &'static str, rules: RuleSet) -> Evaluators {
        let program = Program::compile(&rules).expect("the rule set compiles");
        let mut jit = UserSpaceVm::new(&program).expect("rbpf JIT");
        let mut interpreter = UserSpaceVm::interpreter(&program).expect("rbpf interpreter");
        jit.set_port(PORT);
        interpreter.set_port(PORT);
        let kernel = kernel_available().then(|| {
            let mut loaded = KernelProgram::load(&program).unwrap_or_else(|error| panic!("kernel load: {error}"));
            loaded.set_port(PORT).expect("config map");
            loaded
        });
        Evaluators { name, rules, jit, interpreter, kernel }
    }

    /// Asserts that every evaluator gives `expected` for `frame`.
    fn assert_frame(&mut self, frame: &[u8], expected: u32, what: &str) {
        let what = format!("{}: {what}", self.name);
        assert_eq!(self.interpreter.verdict(frame), expected, "rbpf interpreter, {what}");
        assert_eq!(self.jit.verdict(frame), expected, "rbpf JIT, {what}");
        if let Some(kernel) = &mut self.kernel {
            assert_eq!(kernel.verdict(frame).expect("test run"), expected, "kernel, {what}");
        }
    }

    /// Asserts the reference verdict for `payload` from `from` (also tagged with a VLAN) and
    /// returns it.
    fn check(&mut self, from: IpAddr, payload: &[u8]) -> u32 {
        let expected = self.rules.verdict(payload, from);
        let server = if from.is_ipv4() { ip("198.51.100.1") } else { ip("2001:db8::1") };
        let frame = tcp_frame(from, server, PORT, payload);
        let what = format!("payload {:?} from {from}", String::from_utf8_lossy(payload));
        self.assert_frame(&frame, expected, &what);
        self.assert_frame(&with_vlan(&frame, 42), expected, &format!("VLAN-tagged {what}"));
        expected
    }
}

fn head(request_line: &str, headers: &[&str]) -> Vec<u8> {
    let mut head = format!("{request_line}\r\n");
    for line in headers {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn get(path: &str, headers: &[&str]) -> Vec<u8> {
    head(&format!("GET {path} HTTP/1.1"), headers)
}

/// One rule set and the payloads (with their clients) every evaluator must agree on.
struct Case {
    name: &'static str,
    rules: Vec<Rule>,
    payloads: Vec<(IpAddr, Vec<u8>)>,
}

fn cases() -> Vec<Case> {
    let v4 = ip("192.0.2.7");
    let v6 = ip("2001:db8::7");
    let mut cases = Vec::new();

    // Text matches on a header, case-sensitive and not.
    for op in [TextMatch::Equals, TextMatch::Prefix, TextMatch::Suffix, TextMatch::Contains] {
        for case_insensitive in [false, true] {
            let values = [
                "curl/8.5", "CURL/8.5", "curl/8.5 ", "xcurl/8.5", "curl/8", "Mozilla curl/8.5 (x)", "", "c", "curl/8.5curl/8.5",
                "cUrL/8.5", "url/8.5", "curl/8.",
            ];
            let mut payloads = Vec::new();
            for value in values {
                payloads.push((v4, get("/", &["Host: a", &format!("User-Agent: {value}")])));
                payloads.push((v4, get("/", &["Host: a", &format!("user-agent:\t  {value}")])));
                payloads.push((v6, get("/", &[&format!("USER-AGENT:{value}"), "Host: a"])));
            }
            cases.push(Case {
                name: "header text matches",
                rules: vec![rule("ua", vec![header("user-agent", op, "curl/8.5", case_insensitive)], true)],
                payloads,
            });
            // The same on the path, with a query string and near misses.
            let paths = ["/admin", "/ADMIN", "/admin/", "/x/admin", "/admin?q=1", "/adm", "/", "/a/admin?admin", "/admin%20"];
            cases.push(Case {
                name: "path text matches",
                rules: vec![rule("admin", vec![path(op, "/admin", case_insensitive)], false)],
                payloads: paths.iter().map(|p| (v4, get(p, &["Host: a"]))).collect(),
            });
        }
    }

    // Literals compared eight lanes at a time: every length around a lane boundary, at every
    // shift, letters next to the non-letters that differ from a letter only in bit 0x20
    // (`@`/`` ` ``, `[`/`{`), and values that end where the window ends.
    for length in [1, 2, 3, 5, 7, 8, 9, 15, 16, 17] {
        let literal: String = "a@Z[b`{y]x^~Q_m}-kR".chars().cycle().take(length).collect();
        let swapped: String = literal.chars().map(|c| if c.is_ascii_alphabetic() { ((c as u8) ^ 0x20) as char } else { c }).collect();
        let toggled: String = literal.chars().map(|c| if c.is_ascii_alphabetic() { c } else { ((c as u8) ^ 0x20) as char }).collect();
        let mut values = vec![
            literal.clone(),
            swapped.clone(),
            toggled,
            format!("{literal}yy"),
            format!("{swapped} tail"),
            literal[..length - 1].to_owned(),
            literal[1..].to_owned(),
            format!("{}{literal}", &literal[..length - 1]),
            format!("{}!", &literal[..length - 1]),
            String::new(),
        ];
        for shift in 1..=9 {
            values.push(format!("{}{literal}q", "p".repeat(shift)));
            values.push(format!("{}{swapped}", "p".repeat(shift)));
        }
        let ops = [TextMatch::Contains, TextMatch::Suffix, TextMatch::Prefix, TextMatch::Equals];
        for case_insensitive in [false, true] {
            let rules = ops
                .iter()
                .enumerate()
                .map(|(i, &op)| rule("lanes", vec![path(TextMatch::Equals, &format!("/{i}"), false), header("x-v", op, &literal, case_insensitive)], true))
                .chain([rule("path lanes", vec![path(TextMatch::Contains, &literal, case_insensitive)], false)])
                .collect();
            let mut payloads = Vec::new();
            for value in &values {
                for i in 0..ops.len() {
                    payloads.push((v4, get(&format!("/{i}"), &["Host: a", &format!("X-V: {value}")])));
                }
                payloads.push((v4, get(&format!("/p{}", value.replace(' ', "_")), &[])));
            }
            // The value (and the path) end where the head must end: the last byte of the
            // window is the blank line's LF.
            for i in 0..ops.len() {
                let short = get(&format!("/{i}"), &["X-V: "]);
                let pad = "p".repeat(1024 - short.len() - length);
                payloads.push((v4, get(&format!("/{i}"), &[&format!("X-V: {pad}{swapped}")])));
                payloads.push((v4, get(&format!("/{i}"), &[&format!("X-V: {pad}p{swapped}")])));
            }
            let short = get("/", &[]);
            let pad = "p".repeat(1024 - short.len() - length);
            payloads.push((v4, get(&format!("/{pad}{swapped}"), &[])));
            cases.push(Case { name: "lane-parallel literals", rules, payloads });
        }
    }

    // First occurrence only, whitespace in values, lines without CR, names with spaces.
    cases.push(Case {
        name: "header lines",
        rules: vec![
            rule("tab", vec![header("x-token", TextMatch::Equals, "a\tb ", false)], true),
            rule("first", vec![header("cookie", TextMatch::Contains, "session=1", false)], true),
            rule("empty", vec![header("x-empty", TextMatch::Equals, "", false)], false),
        ],
        payloads: vec![
            (v4, get("/", &["X-Token: \t a\tb "])),
            (v4, get("/", &["X-Token: a\tb"])),
            (v4, get("/", &["Cookie: other=2", "Cookie: session=1"])),
            (v4, get("/", &["Cookie: session=1", "Cookie: other=2"])),
            (v4, b"GET / HTTP/1.1\r\nCookie: session=1\nCookie: x\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\nCookie : session=1\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\nCookie:session=1\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\nX-Empty:\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\nX-Empty:   \r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\nX-Empty: v\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\nX-Empty\r\nX-Token: a\tb \r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\nX-Token: a\tb \r\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\nX-Token: a\rb\r\n\r\n".to_vec()),
            // Several LFs in one eight-byte chunk: bare LFs, short lines, the head's end.
            (v4, b"GET / HTTP/1.1\r\n\n\n\n\nCookie: session=1\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\na:\r\nb:\r\nX-Token: a\tb \r\nc:\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\n\r\r\n\nX-Token:a\tb \r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\r\nX-Token: a\tb \n\r\nX-Token: a\tb \r\n\r\n".to_vec()),
        ],
    });

    // Header absence, methods, and a rule order where an earlier rule wins.
    cases.push(Case {
        name: "absence, methods and order",
        rules: vec![
            rule("no cookie on POST", vec![method("POST"), absent("cookie")], true),
            rule("any GET", vec![method("GET")], false),
            rule("delete", vec![method("DELETE"), header("host", TextMatch::Equals, "a", false)], true),
        ],
        payloads: vec![
            (v4, head("POST /form HTTP/1.1", &["Host: a"])),
            (v4, head("POST /form HTTP/1.1", &["Host: a", "cookie: x"])),
            (v4, head("post /form HTTP/1.1", &["Host: a"])),
            (v4, head("GET /form HTTP/1.0", &["Host: a"])),
            (v4, head("GETX /form HTTP/1.1", &["Host: a"])),
            (v4, head("DELETE /x HTTP/1.1", &["Host: a"])),
            (v4, head("DELETE /x HTTP/1.1", &["Host: b"])),
            (v4, head("DELETE /x HTTP/1.1", &[])),
            (v6, head("POST / HTTP/1.1", &[])),
        ],
    });

    // Client networks: CIDR boundaries for both families, nested networks.
    cases.push(Case {
        name: "client networks",
        rules: vec![
            rule("blocked range", vec![client(&[("203.0.113.0", 25), ("2001:db8:bad::", 48)])], true),
            rule("admin from office", vec![path(TextMatch::Prefix, "/admin", false), client(&[("203.0.113.64", 26), ("10.0.0.0", 8)])], false),
            rule("host", vec![client(&[("198.51.100.9", 32), ("2001:db8:bad:1::", 64)])], true),
        ],
        payloads: ["203.0.113.0", "203.0.113.127", "203.0.113.128", "203.0.113.64", "10.255.255.255", "11.0.0.0", "198.51.100.9", "198.51.100.8", "2001:db8:bad::1", "2001:db8:bad:ffff::1", "2001:db8:bae::1", "2001:db8:bad:1::9", "::ffff:203.0.113.1"]
            .iter()
            .flat_map(|a| [(ip(a), get("/admin/x", &["Host: a"])), (ip(a), get("/", &[]))])
            .collect(),
    });

    // Heads the programs must pass: incomplete, too long, not HTTP, malformed request lines.
    let long_value = "v".repeat(1000);
    let mut near_window = get("/", &["X-Pad: p"]);
    let pad = 1024 - near_window.len();
    near_window = get("/", &[&format!("X-Pad: {}", "p".repeat(pad + 1))]);
    let exactly_window = get("/", &[&format!("X-Pad: {}", "p".repeat(pad))]);
    cases.push(Case {
        name: "heads that pass",
        rules: vec![rule("everything GET", vec![method("GET")], true)],
        payloads: vec![
            (v4, b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec()),
            (v4, get("/", &[&format!("X-Long: {long_value}")])),
            (v4, exactly_window.clone()),
            (v4, near_window),
            (v4, [exactly_window, b"body after the head".to_vec()].concat()),
            (v4, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec()),
            (v4, b"GET http://a/ HTTP/1.1\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/2.0\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.\r\n\r\n".to_vec()),
            (v4, b"GET /  HTTP/1.1\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1\n\r\n\r\n".to_vec()),
            (v4, b" / HTTP/1.1\r\n\r\n".to_vec()),
            (v4, b"GET\r\n\r\n".to_vec()),
            (v4, b"G / HTTP/1.1\r\n\r\n".to_vec()),
            (v4, b"GET / HTTP/1.1 trailing\r\n\r\n".to_vec()),
            (v4, b"GET /a\rb HTTP/1.1\r\n\r\n".to_vec()),
            (v4, b"\r\n\r\nGET / HTTP/1.1\r\n\r\n".to_vec()),
            (v4, Vec::new()),
            (v4, b"G".to_vec()),
        ],
    });
    cases
}

#[test]
fn table_matches_the_reference() {
    let mut fired = 0;
    let mut total = 0;
    for case in cases() {
        let mut evaluators = Evaluators::new(case.name, RuleSet { rules: case.rules });
        for (from, payload) in &case.payloads {
            total += 1;
            if evaluators.check(*from, payload) != 0 {
                fired += 1;
            }
        }
    }
    assert!(fired > total / 5 && fired < total, "the table exercises both outcomes ({fired} of {total} fired)");
}

/// A rule set with every predicate kind, for the randomized run and the counters.
fn mixed_rules() -> Vec<Rule> {
    vec![
        rule("bad bot", vec![header("user-agent", TextMatch::Contains, "bot", true)], true),
        rule("blocked net", vec![client(&[("203.0.113.0", 24), ("2001:db8:bad::", 48)])], true),
        rule("admin", vec![path(TextMatch::Prefix, "/admin", true), absent("authorization")], true),
        rule("old api", vec![method("POST"), path(TextMatch::Suffix, ".php", false)], false),
        rule("ab cookie", vec![header("cookie", TextMatch::Contains, "ab=b", false), path(TextMatch::Equals, "/", false)], false),
        rule("host", vec![header("host", TextMatch::Equals, "Legacy.Example", true)], false),
    ]
}

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn mutate(rng: &mut Rng, mut head: Vec<u8>) -> Vec<u8> {
    const SPECIAL: &[u8] = b" :\r\n\t?/aZ";
    const PIECES: &[&[u8]] = &[b"bot", b"BOT", b"/admin", b".php", b"ab=b", b"Authorization: x\r\n", b"\r\n", b"POST", b"Cookie: ab=b\r\n", b"legacy.example"];
    for _ in 0..rng.below(4) {
        if head.is_empty() {
            break;
        }
        let at = rng.below(head.len());
        match rng.below(7) {
            0 => head[at] ^= 0x20,
            1 => head[at] = *rng.pick(SPECIAL),
            2 => {
                head.remove(at);
            }
            3 => head.insert(at, *rng.pick(SPECIAL)),
            4 => {
                let piece = rng.pick(PIECES);
                head.splice(at..at, piece.iter().copied());
            }
            5 => head.truncate(at),
            _ => {
                let pad = vec![b'p'; rng.below(1100)];
                head.splice(at..at, pad);
            }
        }
    }
    head
}

#[test]
fn randomized_heads_agree_with_the_reference() {
    let mut evaluators = Evaluators::new("randomized", RuleSet { rules: mixed_rules() });
    let bases: Vec<Vec<u8>> = vec![
        get("/", &["Host: legacy.example", "User-Agent: Googlebot/2.1"]),
        get("/admin/users?x=1", &["Host: a", "Cookie: ab=b; x=1"]),
        head("POST /index.php HTTP/1.1", &["Host: a", "Content-Length: 0"]),
        get("/", &["Cookie: ab=b", "Authorization: Bearer t", "user-agent: curl"]),
        head("GET /ADMIN HTTP/1.0", &["host:\tLEGACY.EXAMPLE"]),
    ];
    let clients = ["192.0.2.1", "203.0.113.9", "203.0.114.9", "2001:db8:bad::5", "2001:db8:bae::5"].map(ip);
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut fired = 0;
    let rounds = 3000;
    for _ in 0..rounds {
        let base = rng.pick(&bases).clone();
        let payload = mutate(&mut rng, base);
        let from = *rng.pick(&clients);
        if evaluators.check(from, &payload) != 0 {
            fired += 1;
        }
    }
    assert!(fired > rounds / 10 && fired < rounds, "mutations keep both outcomes ({fired} of {rounds} fired)");
}

#[test]
fn counters_count_every_verdict() {
    let rules = RuleSet { rules: mixed_rules() };
    let mut evaluators = Evaluators::new("counters", rules.clone());
    let payloads = [
        get("/", &["User-Agent: bot"]),
        get("/admin", &["Host: a"]),
        get("/admin", &["Host: a"]),
        get("/", &["Host: legacy.example"]),
        b"not http".to_vec(),
    ];
    let from = ip("192.0.2.1");
    let mut expected = vec![0u64; rules.rules.len() + 1];
    for payload in &payloads {
        let frame = tcp_frame(from, ip("198.51.100.1"), PORT, payload);
        let verdict = rules.verdict(payload, from);
        expected[verdict as usize] += 1;
        evaluators.assert_frame(&frame, verdict, "counted frame");
    }
    // A frame to another port passes without looking at the payload, and is counted as passed.
    let other_port = tcp_frame(from, ip("198.51.100.1"), PORT + 1, &payloads[0]);
    evaluators.assert_frame(&other_port, 0, "another port");
    expected[0] += 1;
    assert_eq!(evaluators.interpreter.counters(), expected);
    assert_eq!(evaluators.jit.counters(), expected);
    if let Some(kernel) = &evaluators.kernel {
        assert_eq!(kernel.counters().expect("counters map"), expected);
    }
}

#[test]
fn frames_that_are_not_tcp_segments_pass() {
    let rules = RuleSet { rules: vec![rule("every GET", vec![method("GET")], true)] };
    let mut evaluators = Evaluators::new("not TCP", rules);
    let payload = get("/", &["Host: a"]);
    let v4 = tcp_frame(ip("192.0.2.7"), ip("198.51.100.1"), PORT, &payload);
    let v6 = tcp_frame(ip("2001:db8::7"), ip("2001:db8::1"), PORT, &payload);
    evaluators.assert_frame(&v4, 1, "the TCP frame itself");
    evaluators.assert_frame(&v6, 1, "the TCPv6 frame itself");
    let edit = |frame: &[u8], at: usize, byte: u8| {
        let mut frame = frame.to_vec();
        frame[at] = byte;
        frame
    };
    evaluators.assert_frame(&edit(&v4, 14 + 9, 17), 0, "UDP");
    evaluators.assert_frame(&edit(&v6, 14 + 6, 17), 0, "UDP over IPv6");
    evaluators.assert_frame(&edit(&v6, 14 + 6, 0), 0, "an IPv6 extension header");
    evaluators.assert_frame(&edit(&v4, 12, 0x08 + 1), 0, "another ethertype");
    evaluators.assert_frame(&edit(&v4, 14, 0x46), 0, "IPv4 options shift the TCP header");
    evaluators.assert_frame(&edit(&v4, 14 + 6, 0x20), 0, "an IPv4 fragment (more fragments)");
    evaluators.assert_frame(&edit(&v4, 14 + 20 + 12, 0x40), 0, "a TCP data offset below 20 bytes");
    evaluators.assert_frame(&v4[..14 + 20 + 10], 0, "a truncated TCP header");
    // BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header.
    evaluators.assert_frame(&v4[..14], 0, "an Ethernet header alone");
    evaluators.assert_frame(&v4[..v4.len() - 3], 0, "an IP length beyond the frame");
    evaluators.assert_frame(&[v4.clone(), vec![0; 16]].concat(), 1, "trailing padding after the IP packet");
}
