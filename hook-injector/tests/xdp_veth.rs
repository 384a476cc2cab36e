//! The filter entry attached with XDP to a veth pair the test creates: one end in the root
//! namespace (where the program and a tiny HTTP server run), the other in a fresh network
//! namespace (where the client runs). A request whose head hits a block rule gets no answer
//! (dropped at XDP); a good request gets 200. Everything is removed afterwards, also on failure.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread;

use edgeport_hook_injector::bpf::Program;
use edgeport_hook_injector::ir::{Action, Predicate, Rule, RuleSet, SourceSpan, TextMatch};
use edgeport_hook_injector::kernel::{self, KernelProgram};
use serde_json::json;

/// Why this machine cannot run the test, if it cannot.
fn missing_prerequisite() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (veth pairs and namespaces need CAP_NET_ADMIN)".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("the `ip` tool (iproute2) is missing".into());
    }
    if Command::new("python3").arg("-V").output().is_err() {
        return Some("python3 (the client in the namespace) is missing".into());
    }
    kernel::probe().err()
}

fn run(args: &[&str]) -> Output {
    Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|error| panic!("{args:?}: {error}"))
}

fn run_ok(args: &[&str]) {
    let output = run(args);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A namespace with one end of a veth pair; the other end stays in the root namespace.
/// Dropping it deletes both.
struct Testbed {
    namespace: String,
    host_end: String,
    host_ip: Ipv4Addr,
    client_ip: Ipv4Addr,
}

impl Testbed {
    /// `tag` keeps the tests of one process apart (they run in parallel).
    fn create(tag: u8) -> Testbed {
        let id = std::process::id() % 10_000;
        // 198.18.0.0/15 is reserved for benchmarks: no real host uses it.
        let subnet = (id % 100) as u8 * 2 + tag;
        let testbed = Testbed {
            namespace: format!("epxdp{id}{tag}"),
            host_end: format!("epxh{id}{tag}"),
            host_ip: Ipv4Addr::new(198, 18, subnet, 1),
            client_ip: Ipv4Addr::new(198, 18, subnet, 2),
        };
        testbed.remove();
        let peer = format!("epxc{id}{tag}");
        run_ok(&["ip", "netns", "add", &testbed.namespace]);
        run_ok(&["ip", "link", "add", &testbed.host_end, "type", "veth", "peer", "name", &peer]);
        run_ok(&["ip", "link", "set", &peer, "netns", &testbed.namespace]);
        run_ok(&["ip", "addr", "add", &format!("{}/30", testbed.host_ip), "dev", &testbed.host_end]);
        run_ok(&["ip", "link", "set", &testbed.host_end, "up"]);
        let ns = ["ip", "netns", "exec", &testbed.namespace];
        run_ok(&[&ns[..], &["ip", "addr", "add", &format!("{}/30", testbed.client_ip), "dev", &peer]].concat());
        run_ok(&[&ns[..], &["ip", "link", "set", &peer, "up"]].concat());
        run_ok(&[&ns[..], &["ip", "link", "set", "lo", "up"]].concat());
        testbed
    }

    fn remove(&self) {
        let _ = Command::new("ip").args(["link", "del", &self.host_end]).output();
        let _ = Command::new("ip").args(["netns", "del", &self.namespace]).output();
    }

    /// Whether the host end has an XDP program attached.
    fn has_xdp(&self) -> bool {
        let output = run(&["ip", "link", "show", "dev", &self.host_end]);
        // `ip` prints `prog/xdp id N` (or `prog/xdpgeneric`) for an attached program.
        String::from_utf8_lossy(&output.stdout).contains("prog/xdp")
    }

    /// Sends `head` from the namespace to `host_ip:port`: the status line, or `TIMEOUT`.
    fn request(&self, port: u16, head: &str) -> String {
        let script = format!(
            "import socket,sys\ns=socket.create_connection(('{}',{}),timeout=3)\ns.sendall({:?}.encode())\ntry:\n    print(s.recv(4096).decode().split('\\r\\n')[0])\nexcept socket.timeout:\n    print('TIMEOUT')\n",
            self.host_ip, port, head
        );
        let output = run(&["ip", "netns", "exec", &self.namespace, "python3", "-c", &script]);
        assert!(output.status.success(), "client: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        self.remove();
    }
}

fn rules() -> RuleSet {
    RuleSet {
        rules: vec![Rule {
            name: "block bots".into(),
            predicates: vec![Predicate::Header {
                name: "user-agent".into(),
                op: TextMatch::Contains,
                value: "badbot".into(),
                case_insensitive: true,
            }],
            action: Action::Respond { response: json!({ "status": "403" }), append_query_to: None },
            source: SourceSpan { file: PathBuf::from("handler.js"), span: 0..1, line: 1 },
        }],
    }
}

/// Answers every connection with `200 OK` once it has read a complete head.
fn serve(listener: TcpListener) {
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            });
        }
    });
}

#[test]
fn attach_xdp_and_detach_on_drop() {
    if let Some(reason) = missing_prerequisite() {
        println!("SKIPPED: attach_xdp on a veth pair: {reason}");
        return;
    }
    let testbed = Testbed::create(0);
    let program = Program::compile(&rules()).expect("the rules compile");
    let mut loaded = KernelProgram::load(&program).unwrap_or_else(|error| panic!("{error}"));
    let attachment = loaded.attach_xdp(&testbed.host_end).unwrap_or_else(|error| panic!("{error}"));
    assert!(testbed.has_xdp(), "the filter is attached");
    drop(attachment);
    assert!(!testbed.has_xdp(), "dropping the attachment detaches the filter");
}

#[test]
fn blocked_heads_are_dropped_and_good_ones_answered() {
    if let Some(reason) = missing_prerequisite() {
        println!("SKIPPED: XDP end-to-end on a veth pair: {reason}");
        return;
    }
    let testbed = Testbed::create(1);
    let listener = TcpListener::bind((IpAddr::V4(testbed.host_ip), 0)).expect("bind on the test address");
    let port = listener.local_addr().expect("bound").port();
    serve(listener);

    let program = Program::compile(&rules()).expect("the rules compile");
    let mut loaded = KernelProgram::load(&program).unwrap_or_else(|error| panic!("{error}"));
    loaded.set_port(port).expect("config map");
    let _attachment = loaded.attach_xdp(&testbed.host_end).unwrap_or_else(|error| panic!("{error}"));

    let good = "GET / HTTP/1.1\r\nHost: test\r\nUser-Agent: Mozilla/5.0\r\n\r\n";
    assert_eq!(testbed.request(port, good), "HTTP/1.1 200 OK");
    let bad = "GET / HTTP/1.1\r\nHost: test\r\nUser-Agent: BadBot/1.0\r\n\r\n";
    assert_eq!(testbed.request(port, bad), "TIMEOUT", "the blocked head is dropped at XDP");
    assert_eq!(testbed.request(port, good), "HTTP/1.1 200 OK", "other connections still work");

    let counters = loaded.counters().expect("counters");
    assert!(counters[1] >= 1, "the block rule counted its drops: {counters:?}");
    assert!(counters[0] >= 2, "passed packets are counted: {counters:?}");
}
