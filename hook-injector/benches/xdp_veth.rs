//! What rejecting blocked requests costs in user space compared with dropping them at XDP, on a
//! veth pair whose one end sits in a network namespace that the bench creates (and removes,
//! also on panic). The server listens on the root-namespace end; clients run in threads that
//! enter the namespace.
//!
//! Rows: (1) a user-space server decides with [`RuleSet::verdict`] — the decision the function
//! would make — and answers `403` on keep-alive connections; (2) the same rule set's filter is
//! attached with XDP and the same blocked requests arrive as raw frames (AF_PACKET), counted
//! by the program's per-CPU counters; (3) the same raw frames without XDP, which the kernel's
//! TCP stack answers with a reset. Prints a Markdown table. Needs root; otherwise prints
//! `SKIPPED: <reason>`. Run with `cargo bench -p edgeport-hook-injector --bench xdp_veth`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use edgeport_hook_injector::bpf::{Entry, Program};
use edgeport_hook_injector::frame::tcp_frame;
use edgeport_hook_injector::ir::{Action, Predicate, Rule, RuleSet, SourceSpan, TextMatch};
use edgeport_hook_injector::kernel::{self, KernelProgram};
use serde_json::json;

/// How long each row offers load.
const ROW_BUDGET: Duration = Duration::from_secs(3);
/// Keep-alive connections in the user-space row.
const CONNECTIONS: usize = 8;
/// Raw-frame sender threads (one per core: the veth's receive work runs on the sending core).
const SENDERS: usize = 2;
/// Frames handed to the kernel per `sendmmsg` call.
const SEND_BATCH: usize = 64;

/// A browser-sized head (~400 bytes) whose user agent only the last rule matches, so every
/// rule is tried before the verdict.
const BLOCKED_HEAD: &str = "GET /catalogue/shoes?page=3 HTTP/1.1\r\n\
Host: shop.example\r\n\
User-Agent: Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-GB,en;q=0.7\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Referer: https://shop.example/catalogue/\r\n\
Cookie: session=5f2c8e1a9b7d4c3e; consent=1\r\n\
Connection: keep-alive\r\n\
\r\n";

/// The answer of corpus/user-agent-block to a blocked client, kept alive.
const FORBIDDEN: &[u8] = b"HTTP/1.1 403 Forbidden\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 72\r\n\
Connection: keep-alive\r\n\
\r\n\
Automated access is not allowed. Contact api@example.com for an API key.";

/// What the server answers a request no rule blocks (none in this bench).
const PASSED: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";

/// The block list of corpus/user-agent-block as the recogniser emits it: one case-insensitive
/// `contains` on the user agent per pattern.
fn rules() -> RuleSet {
    let agents = ["python-requests", "curl/", "scrapy", "semrushbot", "mj12bot"];
    let rules = agents
        .iter()
        .enumerate()
        .map(|(i, agent)| Rule {
            name: format!("block {agent}"),
            predicates: vec![Predicate::Header {
                name: "user-agent".into(),
                op: TextMatch::Contains,
                value: (*agent).into(),
                case_insensitive: true,
            }],
            action: Action::Respond { response: json!({ "status": 403 }), append_query_to: None },
            source: SourceSpan { file: PathBuf::from("index.js"), span: 0..1, line: i + 4 },
        })
        .collect();
    RuleSet { rules }
}

/// Why this machine cannot run the bench, if it cannot.
fn missing_prerequisite() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (veth pairs, namespaces and AF_PACKET need CAP_NET_ADMIN and CAP_NET_RAW)".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("the `ip` tool (iproute2) is missing".into());
    }
    kernel::probe().err()
}

fn run(args: &[&str]) -> Result<String, String> {
    let output = Command::new(args[0]).args(&args[1..]).output().map_err(|error| format!("{args:?}: {error}"))?;
    if !output.status.success() {
        return Err(format!("{args:?}: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A namespace holding one end of a veth pair; the other end stays in the root namespace.
/// Dropping it deletes both, so a panicking row leaves nothing behind.
struct Testbed {
    namespace: String,
    host_end: String,
    client_end: String,
    host_ip: Ipv4Addr,
    client_ip: Ipv4Addr,
    host_mac: [u8; 6],
    client_mac: [u8; 6],
}

impl Testbed {
    fn create() -> Result<Testbed, String> {
        let id = std::process::id() % 10_000;
        // 198.18.0.0/15 is reserved for benchmarks; the upper half keeps clear of the tests,
        // which use 198.18.x.x.
        let subnet = (id % 64 * 4) as u8;
        let testbed = Testbed {
            namespace: format!("epbench{id}"),
            host_end: format!("epbh{id}"),
            client_end: format!("epbc{id}"),
            host_ip: Ipv4Addr::new(198, 19, subnet, 1),
            client_ip: Ipv4Addr::new(198, 19, subnet, 2),
            host_mac: [0x02, 0x65, 0x70, 0, 0, 1],
            client_mac: [0x02, 0x65, 0x70, 0, 0, 2],
        };
        testbed.remove();
        let (host_mac, client_mac) = (mac_text(testbed.host_mac), mac_text(testbed.client_mac));
        let (host, peer, ns) = (testbed.host_end.as_str(), testbed.client_end.as_str(), testbed.namespace.as_str());
        run(&["ip", "netns", "add", ns])?;
        // One queue per core on both ends, as a NIC has: each queue gets its own NAPI
        // instance, so the filter runs on both cores.
        let queues = thread::available_parallelism().map_or(1, |n| n.get()).to_string();
        let queues = ["numtxqueues", queues.as_str(), "numrxqueues", queues.as_str()];
        run(&[
            &["ip", "link", "add", host][..],
            &queues,
            &["address", &host_mac, "type", "veth", "peer", "name", peer],
            &queues,
            &["address", &client_mac],
        ]
        .concat())?;
        run(&["ip", "link", "set", peer, "netns", ns])?;
        run(&["ip", "addr", "add", &format!("{}/30", testbed.host_ip), "dev", host])?;
        run(&["ip", "link", "set", host, "up"])?;
        run(&["ip", "-n", ns, "addr", "add", &format!("{}/30", testbed.client_ip), "dev", peer])?;
        run(&["ip", "-n", ns, "link", "set", peer, "up"])?;
        run(&["ip", "-n", ns, "link", "set", "lo", "up"])?;
        Ok(testbed)
    }

    fn remove(&self) {
        let _ = Command::new("ip").args(["link", "del", &self.host_end]).output();
        let _ = Command::new("ip").args(["netns", "del", &self.namespace]).output();
    }

    /// How the filter is attached to the host end: `native` (veth's driver mode) or `generic`.
    fn xdp_mode(&self) -> &'static str {
        let shown = run(&["ip", "link", "show", "dev", &self.host_end]).unwrap_or_default();
        // `ip` prints `prog/xdp id N` for driver mode and `prog/xdpgeneric id N` for skb mode.
        if shown.contains("prog/xdpgeneric") {
            "generic (skb)"
        } else if shown.contains("prog/xdp") {
            "native (driver)"
        } else {
            "not attached"
        }
    }

    /// Interface counters of both ends.
    fn link_stats(&self) -> LinkStats {
        let read = |namespace: Option<&str>, device: &str| -> serde_json::Value {
            let mut args = vec!["ip"];
            if let Some(namespace) = namespace {
                args.extend(["-n", namespace]);
            }
            args.extend(["-j", "-s", "link", "show", "dev", device]);
            let text = run(&args).unwrap_or_default();
            let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            parsed[0]["stats64"].clone()
        };
        let host = read(None, &self.host_end);
        let client = read(Some(&self.namespace), &self.client_end);
        let number = |value: &serde_json::Value| value.as_u64().unwrap_or(0);
        LinkStats {
            host_rx: number(&host["rx"]["packets"]),
            host_tx: number(&host["tx"]["packets"]),
            client_tx_dropped: number(&client["tx"]["dropped"]),
        }
    }

    /// Moves the calling thread into the namespace; sockets it opens afterwards live there.
    fn enter(&self) -> io::Result<()> {
        let namespace = File::open(format!("/var/run/netns/{}", self.namespace))?;
        // SAFETY: the descriptor is an open namespace file; setns changes only this thread's
        // network namespace, which is allowed in a multi-threaded process.
        if unsafe { libc::setns(namespace.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The blocked head as a frame from the client end to `port` on the host end, with the
    /// real addresses so that the host's stack would accept it.
    fn blocked_frame(&self, port: u16) -> Vec<u8> {
        let mut frame = tcp_frame(IpAddr::V4(self.client_ip), IpAddr::V4(self.host_ip), port, BLOCKED_HEAD.as_bytes());
        frame[..6].copy_from_slice(&self.host_mac);
        frame[6..12].copy_from_slice(&self.client_mac);
        frame
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        self.remove();
    }
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.iter().map(|byte| format!("{byte:02x}")).collect::<Vec<_>>().join(":")
}

#[derive(Clone, Copy)]
struct LinkStats {
    host_rx: u64,
    host_tx: u64,
    client_tx_dropped: u64,
}

/// CPU time (user + system) of the calling thread, or with `RUSAGE_SELF` of the process.
fn cpu_time(who: libc::c_int) -> Duration {
    // SAFETY: rusage is plain data; getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid `who` and pointer are getrusage's only preconditions.
    unsafe { libc::getrusage(who, &mut usage) };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn thread_cpu() -> Duration {
    cpu_time(libc::RUSAGE_THREAD)
}

/// The machine's CPU time so far (`/proc/stat`), to show softirq work and what other
/// processes took from the cores while a row ran.
#[derive(Clone, Copy)]
struct MachineLoad {
    busy: Duration,
    softirq: Duration,
    this_process: Duration,
}

impl MachineLoad {
    fn now() -> MachineLoad {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // `cpu user nice system idle iowait irq softirq steal ...`, in ticks of 10 ms.
        let ticks: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .map(|field| field.parse().unwrap_or(0))
            .collect();
        let tick = |index: usize| Duration::from_millis(ticks.get(index).copied().unwrap_or(0) * 10);
        // Guest time (fields 8 and 9) is already part of user and nice time.
        let total = (0..8).map(tick).sum::<Duration>();
        MachineLoad {
            busy: total.saturating_sub(tick(3) + tick(4)),
            softirq: tick(6),
            this_process: cpu_time(libc::RUSAGE_SELF),
        }
    }

    /// Softirq time, and busy time outside this process, since `before`.
    fn since(&self, before: &MachineLoad) -> String {
        let others = self
            .busy
            .saturating_sub(before.busy)
            .saturating_sub(self.this_process.saturating_sub(before.this_process));
        format!(
            "{:.2} s / {:.2} s",
            self.softirq.saturating_sub(before.softirq).as_secs_f64(),
            others.as_secs_f64()
        )
    }
}

/// What the user-space server has done so far, over every connection.
#[derive(Default)]
struct ServerStats {
    connections: AtomicU64,
    open: AtomicU64,
    requests: AtomicU64,
    blocked: AtomicU64,
    cpu_nanos: AtomicU64,
}

/// Accepts connections on `listener`, one thread each, forever (the process ends it).
fn serve(listener: TcpListener, rules: Arc<RuleSet>, stats: Arc<ServerStats>) {
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            stats.connections.fetch_add(1, Ordering::Relaxed);
            stats.open.fetch_add(1, Ordering::Relaxed);
            let (rules, stats) = (Arc::clone(&rules), Arc::clone(&stats));
            thread::spawn(move || {
                serve_connection(stream, &rules, &stats);
                stats.cpu_nanos.fetch_add(thread_cpu().as_nanos() as u64, Ordering::Relaxed);
                stats.open.fetch_sub(1, Ordering::Relaxed);
            });
        }
    });
}

/// Answers each request head on a keep-alive connection as the function would: `403` when a
/// blocking rule fires.
fn serve_connection(mut stream: TcpStream, rules: &RuleSet, stats: &ServerStats) {
    let Ok(peer) = stream.peer_addr() else { return };
    let _ = stream.set_nodelay(true);
    let mut pending = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = head_end(&pending) {
            let verdict = rules.verdict(&pending[..end], peer.ip());
            let blocks = verdict
                .checked_sub(1)
                .and_then(|index| rules.rules.get(index as usize))
                .is_some_and(|rule| rule.action.is_block());
            if stream.write_all(if blocks { FORBIDDEN } else { PASSED }).is_err() {
                return;
            }
            stats.requests.fetch_add(1, Ordering::Relaxed);
            if blocks {
                stats.blocked.fetch_add(1, Ordering::Relaxed);
            }
            pending.drain(..end);
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The length of the head at the start of `bytes`, blank line included, once it is complete.
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|window| window == b"\r\n\r\n").map(|at| at + 4)
}

/// Reads one response from `stream` (head, then a `Content-Length` body): its status code.
fn read_response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> io::Result<u16> {
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = head_end(pending) {
            break end;
        }
        match stream.read(&mut chunk)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => pending.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&pending[..end]).into_owned();
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while pending.len() < end + body {
        match stream.read(&mut chunk)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => pending.extend_from_slice(&chunk[..n]),
        }
    }
    pending.drain(..end + body);
    Ok(status)
}

/// What one client or sender thread did.
struct Offered {
    count: u64,
    /// Frames the kernel refused (`ENOBUFS`: the veth's queue was full).
    refused: u64,
    elapsed: Duration,
    cpu: Duration,
}

/// Sends the blocked head over one keep-alive connection from inside the namespace, waiting
/// for each answer, until `budget` is over: how many `403` answers came back.
fn keep_alive_client(testbed: &Testbed, port: u16, budget: Duration) -> Result<Offered, String> {
    testbed.enter().map_err(|error| format!("cannot enter the namespace: {error}"))?;
    let mut stream =
        TcpStream::connect((testbed.host_ip, port)).map_err(|error| format!("cannot connect to the server: {error}"))?;
    let _ = stream.set_nodelay(true);
    let mut pending = Vec::new();
    let mut answered = 0;
    let started = Instant::now();
    while started.elapsed() < budget {
        stream.write_all(BLOCKED_HEAD.as_bytes()).map_err(|error| format!("send: {error}"))?;
        match read_response(&mut stream, &mut pending) {
            Ok(403) => answered += 1,
            Ok(status) => return Err(format!("the server answered {status}, not 403")),
            Err(error) => return Err(format!("receive: {error}")),
        }
    }
    Ok(Offered { count: answered, refused: 0, elapsed: started.elapsed(), cpu: thread_cpu() })
}

/// Sends `frame` from the namespace's end of the veth pair with AF_PACKET as fast as
/// `sendmmsg` goes until `budget` is over: how many frames the kernel took.
fn flood(testbed: &Testbed, frame: &[u8], budget: Duration) -> Result<Offered, String> {
    testbed.enter().map_err(|error| format!("cannot enter the namespace: {error}"))?;
    let name = std::ffi::CString::new(testbed.client_end.as_str()).expect("interface names have no NUL");
    // SAFETY: a valid C string.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(format!("no interface {} in the namespace", testbed.client_end));
    }
    // Protocol 0: the socket only sends, so the kernel does not copy every frame back to it.
    // SAFETY: plain socket creation.
    let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
    if raw < 0 {
        return Err(format!("cannot open an AF_PACKET socket: {}", io::Error::last_os_error()));
    }
    // SAFETY: `raw` is a fresh descriptor nobody else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: sockaddr_ll is plain data.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_ifindex = ifindex as i32;
    // SAFETY: the address is a valid sockaddr_ll of the size passed.
    let bound = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            std::ptr::addr_of!(address).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if bound != 0 {
        return Err(format!("cannot bind to {}: {}", testbed.client_end, io::Error::last_os_error()));
    }
    // Skipping the (empty) qdisc layer is what a packet generator does; failure only costs speed.
    let bypass: libc::c_int = 1;
    // SAFETY: the option value is a c_int of the size passed.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_QDISC_BYPASS,
            std::ptr::addr_of!(bypass).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    let mut iov = libc::iovec { iov_base: frame.as_ptr() as *mut libc::c_void, iov_len: frame.len() };
    // SAFETY: mmsghdr is plain data; every message points at the one frame.
    let mut messages: Vec<libc::mmsghdr> = (0..SEND_BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
    for message in &mut messages {
        message.msg_hdr.msg_iov = &mut iov;
        message.msg_hdr.msg_iovlen = 1;
    }
    let (mut sent, mut refused) = (0u64, 0u64);
    let started = Instant::now();
    while started.elapsed() < budget {
        // SAFETY: `messages` holds SEND_BATCH valid headers whose iovec outlives the call.
        let count = unsafe { libc::sendmmsg(socket.as_raw_fd(), messages.as_mut_ptr(), SEND_BATCH as u32, 0) };
        if count < 0 {
            let error = io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::ENOBUFS | libc::EAGAIN) => {
                    refused += 1;
                    continue;
                }
                Some(libc::EINTR) => continue,
                _ => return Err(format!("sendmmsg: {error}")),
            }
        }
        sent += count as u64;
    }
    Ok(Offered { count: sent, refused, elapsed: started.elapsed(), cpu: thread_cpu() })
}

/// Runs `work` in a scoped thread per `threads` and waits for all of them.
fn in_namespace_threads(
    threads: usize,
    work: impl Fn() -> Result<Offered, String> + Sync,
) -> Result<Vec<Offered>, String> {
    thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(&work)).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|_| Err("a client thread panicked".into())))
            .collect()
    })
}

/// One line of the table.
struct Row {
    path: String,
    measured: String,
    offered: String,
    server_saw: String,
    server_cpu: String,
    client_cpu: String,
    machine: String,
}

impl Row {
    fn failed(path: &str, error: &str) -> Row {
        Row {
            path: path.into(),
            measured: format!("failed: {error}"),
            offered: String::new(),
            server_saw: String::new(),
            server_cpu: String::new(),
            client_cpu: String::new(),
            machine: String::new(),
        }
    }
}

fn per_second(count: u64, elapsed: Duration) -> String {
    let rate = count as f64 / elapsed.as_secs_f64().max(1e-9);
    if rate >= 1e6 {
        format!("{:.2} M/s", rate / 1e6)
    } else {
        format!("{:.0} k/s", rate / 1e3)
    }
}

/// CPU time as cores busy over `elapsed` and nanoseconds per item.
fn cpu_cell(cpu: Duration, elapsed: Duration, items: u64) -> String {
    let cores = cpu.as_secs_f64() / elapsed.as_secs_f64().max(1e-9);
    if items == 0 {
        return format!("{:.2} s ({cores:.2} cores)", cpu.as_secs_f64());
    }
    let per_item = cpu.as_nanos() as f64 / items as f64;
    format!("{:.2} s ({cores:.2} cores, {per_item:.0} ns each)", cpu.as_secs_f64())
}

/// Row 1: the blocked requests over keep-alive connections, rejected by the server.
fn user_space_row(testbed: &Testbed, port: u16, server: &ServerStats) -> Result<Row, String> {
    let (requests_before, blocked_before, cpu_before) = (
        server.requests.load(Ordering::Relaxed),
        server.blocked.load(Ordering::Relaxed),
        server.cpu_nanos.load(Ordering::Relaxed),
    );
    let machine_before = MachineLoad::now();
    let clients = in_namespace_threads(CONNECTIONS, || keep_alive_client(testbed, port, ROW_BUDGET))?;
    let machine = MachineLoad::now().since(&machine_before);
    // The server adds a connection's CPU time when the client has closed it.
    let waited = Instant::now();
    while server.open.load(Ordering::Relaxed) > 0 && waited.elapsed() < Duration::from_secs(2) {
        thread::sleep(Duration::from_millis(5));
    }
    let elapsed = clients.iter().map(|c| c.elapsed).max().unwrap_or_default();
    let answered: u64 = clients.iter().map(|c| c.count).sum();
    let client_cpu: Duration = clients.iter().map(|c| c.cpu).sum();
    let requests = server.requests.load(Ordering::Relaxed) - requests_before;
    let blocked = server.blocked.load(Ordering::Relaxed) - blocked_before;
    let server_cpu = Duration::from_nanos(server.cpu_nanos.load(Ordering::Relaxed) - cpu_before);
    Ok(Row {
        path: "user space: `RuleSet::verdict` + `403` (keep-alive)".into(),
        measured: format!("{} answered `403`", per_second(answered, elapsed)),
        offered: format!("{CONNECTIONS} connections, one request in flight each"),
        server_saw: format!("{requests} requests ({blocked} blocked)"),
        server_cpu: cpu_cell(server_cpu, elapsed, requests),
        client_cpu: cpu_cell(client_cpu, elapsed, answered),
        machine,
    })
}

/// Rows 2 and 3: the blocked head as raw frames from the namespace, with or without the
/// filter attached (`loaded` says which, for its counters).
fn raw_frames_row(
    testbed: &Testbed,
    port: u16,
    server: &ServerStats,
    loaded: Option<&KernelProgram>,
) -> Result<Row, String> {
    let frame = testbed.blocked_frame(port);
    let block_drops = |program: &KernelProgram| -> Result<u64, String> {
        let counters = program.counters().map_err(|error| error.to_string())?;
        Ok(counters.iter().skip(1).sum())
    };
    let drops_before = loaded.map(block_drops).transpose()?;
    let (requests_before, connections_before) =
        (server.requests.load(Ordering::Relaxed), server.connections.load(Ordering::Relaxed));
    let links_before = testbed.link_stats();
    let machine_before = MachineLoad::now();
    let senders = in_namespace_threads(SENDERS, || flood(testbed, &frame, ROW_BUDGET))?;
    let sender = Offered {
        count: senders.iter().map(|s| s.count).sum(),
        refused: senders.iter().map(|s| s.refused).sum(),
        elapsed: senders.iter().map(|s| s.elapsed).max().unwrap_or_default(),
        cpu: senders.iter().map(|s| s.cpu).sum(),
    };
    // Let the receiving side drain what is still queued before reading counters.
    thread::sleep(Duration::from_millis(200));
    let machine = MachineLoad::now().since(&machine_before);
    let links = testbed.link_stats();
    let ring_lost = links.client_tx_dropped - links_before.client_tx_dropped;
    let requests = server.requests.load(Ordering::Relaxed) - requests_before;
    let connections = server.connections.load(Ordering::Relaxed) - connections_before;
    let offered = format!(
        "{SENDERS} senders: {} ({} frames; {} refused, {ring_lost} dropped by the veth)",
        per_second(sender.count, sender.elapsed),
        sender.count,
        sender.refused,
    );
    let (path, measured) = match (loaded, drops_before) {
        (Some(program), Some(before)) => {
            let dropped = block_drops(program)? - before;
            (
                format!("XDP filter, {}", testbed.xdp_mode()),
                format!("{} dropped (counters: {dropped})", per_second(dropped, sender.elapsed)),
            )
        }
        _ => {
            let received = links.host_rx - links_before.host_rx;
            let resets = links.host_tx - links_before.host_tx;
            (
                "no XDP: kernel TCP stack".into(),
                format!("{} received, {resets} resets sent", per_second(received, sender.elapsed)),
            )
        }
    };
    Ok(Row {
        path,
        measured,
        offered,
        server_saw: format!("{requests} requests, {connections} connections"),
        server_cpu: "0 (idle)".into(),
        client_cpu: cpu_cell(sender.cpu, sender.elapsed, sender.count),
        machine,
    })
}

fn main() {
    if let Some(reason) = missing_prerequisite() {
        println!("SKIPPED: XDP on a veth pair: {reason}");
        return;
    }
    let rules = rules();
    let program = match Program::compile(&rules) {
        Ok(program) => program,
        Err(error) => {
            println!("the rule set does not compile: {error}");
            std::process::exit(2);
        }
    };
    // Declared first so that it is dropped last, after the filter is detached.
    let testbed = match Testbed::create() {
        Ok(testbed) => testbed,
        Err(error) => {
            println!("SKIPPED: cannot create the veth pair and namespace: {error}");
            return;
        }
    };
    let mut loaded = match KernelProgram::load(&program) {
        Ok(loaded) => loaded,
        Err(error) => {
            println!("SKIPPED: the kernel refuses the filter: {}", error.to_string().lines().next().unwrap_or(""));
            return;
        }
    };
    let listener = match TcpListener::bind((testbed.host_ip, 0)) {
        Ok(listener) => listener,
        Err(error) => {
            println!("SKIPPED: cannot listen on {}: {error}", testbed.host_ip);
            return;
        }
    };
    let port = listener.local_addr().expect("a bound listener has an address").port();
    let server = Arc::new(ServerStats::default());
    serve(listener, Arc::new(rules.clone()), Arc::clone(&server));

    // The reference and the kernel must agree that the head is blocked, else the rows compare
    // different work.
    let frame = testbed.blocked_frame(port);
    let reference = rules.verdict(BLOCKED_HEAD.as_bytes(), IpAddr::V4(testbed.client_ip));
    let in_kernel = loaded.verdict(&frame).map_err(|error| error.to_string());
    if reference != rules.rules.len() as u32 || in_kernel.as_ref() != Ok(&reference) {
        println!("the blocked head is not blocked by the last rule: reference {reference}, kernel {in_kernel:?}");
        std::process::exit(2);
    }

    // What the program alone costs per frame, to tell whether the senders or XDP limit row 2.
    let in_kernel_run = match loaded.run(&frame, 100_000) {
        Ok((_, per_run)) => format!("{} ns", per_run.as_nanos()),
        Err(error) => error.to_string(),
    };
    let kernel_release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let verified = loaded.verified_instructions(Entry::Filter).map_or_else(|e| e.to_string(), |n| n.to_string());
    println!("kernel {}, {} CPUs", kernel_release.trim(), thread::available_parallelism().map_or(0, |n| n.get()));
    println!(
        "rule set: {} `user-agent contains` rules (case-insensitive), {} instructions, {verified} verified; \
         {in_kernel_run} per verdict in the kernel (`BPF_PROG_TEST_RUN`); blocked head: {} bytes (frame {} bytes), \
         matched by the last rule; {:.0?} per row\n",
        rules.rules.len(),
        program.instruction_count(),
        BLOCKED_HEAD.len(),
        frame.len(),
        ROW_BUDGET,
    );

    let user_space = user_space_row(&testbed, port, &server).unwrap_or_else(|error| Row::failed("user space", &error));
    let no_xdp = raw_frames_row(&testbed, port, &server, None).unwrap_or_else(|error| Row::failed("no XDP", &error));
    let xdp = match loaded.set_port(port).map_err(|error| error.to_string()).and_then(|()| {
        loaded.attach_xdp(&testbed.host_end).map_err(|error| error.to_string())
    }) {
        Ok(attachment) => {
            let row = raw_frames_row(&testbed, port, &server, Some(&loaded))
                .unwrap_or_else(|error| Row::failed("XDP filter", &error));
            drop(attachment);
            row
        }
        Err(error) => Row::failed("XDP filter", &error),
    };

    println!("| path | rate | offered | server user space saw | server CPU | client / sender CPU | machine: softirq / other processes |");
    println!("|---|---:|---|---|---|---|---:|");
    for row in [user_space, xdp, no_xdp] {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.path, row.measured, row.offered, row.server_saw, row.server_cpu, row.client_cpu, row.machine
        );
    }
    println!(
        "\nCPU is getrusage per thread (clients and senders run in this process too, on the same cores). \
         Without CONFIG_IRQ_TIME_ACCOUNTING, softirq work (TCP, the veth's NAPI and XDP) is charged to \
         whichever thread it interrupted and also counted in the machine's softirq column; \
         other processes' time on the shared cores makes a row slower."
    );
}
