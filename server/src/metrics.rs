//! Counters and histograms, rendered in the Prometheus text format (docs/serve.md
//! "Observability"). A handful of mutex-guarded maps: a request updates a few entries, far
//! below the cost of one Wasm invocation.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use crate::lock;

/// Labels as `(name, value)` pairs, in a fixed order per metric.
pub type Labels = Vec<(&'static str, String)>;

/// Upper bounds of the latency buckets, in seconds: 50 µs to 30 s.
const BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

/// What each metric means (`# HELP`), and its type.
const FAMILIES: &[(&str, &str, &str)] = &[
    ("edgeport_requests_total", "counter", "Viewer requests answered, by status."),
    ("edgeport_request_duration_seconds", "histogram", "Time from the viewer's request to the response head."),
    ("edgeport_invocations_total", "counter", "Function invocations, by function and trigger."),
    ("edgeport_invocation_errors_total", "counter", "Failed invocations, by kind: validation, execution, timeout, memory, trap, throttled."),
    ("edgeport_invocation_duration_seconds", "histogram", "Time one invocation took, instance included."),
    ("edgeport_fast_path_total", "counter", "Requests answered by a proven hook rule without running the function."),
    ("edgeport_pool_idle_instances", "gauge", "Warm instances waiting in a function's pool."),
    ("edgeport_pool_busy_instances", "gauge", "Instances of a function running now."),
    ("edgeport_instances_started_total", "counter", "Instances started (snapshot copies)."),
    ("edgeport_origin_requests_total", "counter", "Requests sent to origins, by the origin's status."),
    ("edgeport_origin_errors_total", "counter", "Origin requests that failed, by kind."),
    ("edgeport_xdp_verdicts_total", "counter", "Packets the XDP program decided, by rule (kernel map counters)."),
    ("edgeport_reloads_total", "counter", "Configuration reloads, by result."),
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The process's metrics.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, Labels), u64>>,
    histograms: Mutex<BTreeMap<(&'static str, Labels), Histogram>>,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(&self, name: &'static str, labels: Labels, n: u64) {
        *lock(&self.counters).entry((name, labels)).or_default() += n;
    }

    /// Records one observation in a histogram.
    pub fn observe(&self, name: &'static str, labels: Labels, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut histograms = lock(&self.histograms);
        let histogram = histograms.entry((name, labels)).or_default();
        if let Some(bucket) = BUCKETS.iter().position(|&bound| seconds <= bound) {
            histogram.buckets[bucket] += 1;
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// The text format, with `gauges` (sampled by the caller at this moment) and extra
    /// counters (read from elsewhere, such as the kernel's maps).
    pub fn render(&self, gauges: &[(&'static str, Labels, f64)], extra_counters: &[(&'static str, Labels, u64)]) -> String {
        let counters = lock(&self.counters);
        let histograms = lock(&self.histograms);
        let mut text = String::new();
        for &(family, kind, help) in FAMILIES {
            let mut lines = String::new();
            match kind {
                "histogram" => {
                    for ((_, labels), histogram) in histograms.range((family, Vec::new())..).take_while(|((name, _), _)| *name == family) {
                        let mut cumulative = 0;
                        for (bound, count) in BUCKETS.iter().zip(histogram.buckets) {
                            cumulative += count;
                            let le = with(labels, "le", &bound.to_string());
                            let _ = writeln!(lines, "{family}_bucket{le} {cumulative}");
                        }
                        let _ = writeln!(lines, "{family}_bucket{} {}", with(labels, "le", "+Inf"), histogram.count);
                        let _ = writeln!(lines, "{family}_sum{} {}", format_labels(labels), histogram.sum);
                        let _ = writeln!(lines, "{family}_count{} {}", format_labels(labels), histogram.count);
                    }
                }
                "gauge" => {
                    for (_, labels, value) in gauges.iter().filter(|(name, ..)| *name == family) {
                        let _ = writeln!(lines, "{family}{} {value}", format_labels(labels));
                    }
                }
                _ => {
                    for ((_, labels), value) in counters.range((family, Vec::new())..).take_while(|((name, _), _)| *name == family) {
                        let _ = writeln!(lines, "{family}{} {value}", format_labels(labels));
                    }
                    for (_, labels, value) in extra_counters.iter().filter(|(name, ..)| *name == family) {
                        let _ = writeln!(lines, "{family}{} {value}", format_labels(labels));
                    }
                }
            }
            if !lines.is_empty() {
                let _ = writeln!(text, "# HELP {family} {help}\n# TYPE {family} {kind}");
                text.push_str(&lines);
            }
        }
        text
    }

    /// A counter's value.
    #[cfg(test)]
    fn counter(&self, name: &'static str, labels: &Labels) -> u64 {
        lock(&self.counters).get(&(name, labels.clone())).copied().unwrap_or(0)
    }
}

fn with(labels: &Labels, name: &'static str, value: &str) -> String {
    let mut labels = labels.clone();
    labels.push((name, value.to_string()));
    format_labels(&labels)
}

fn format_labels(labels: &Labels) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels
        .iter()
        .map(|(name, value)| {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
            format!("{name}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let metrics = Metrics::default();
        let labels = vec![("function", "f".to_string()), ("trigger", "viewer-request".to_string())];
        metrics.add("edgeport_invocations_total", labels.clone(), 2);
        metrics.observe("edgeport_invocation_duration_seconds", labels.clone(), Duration::from_micros(300));
        metrics.observe("edgeport_invocation_duration_seconds", labels.clone(), Duration::from_secs(2));
        let text = metrics.render(&[("edgeport_pool_idle_instances", vec![("function", "f".into())], 3.0)], &[]);
        assert!(text.contains("# TYPE edgeport_invocations_total counter\nedgeport_invocations_total{function=\"f\",trigger=\"viewer-request\"} 2\n"), "{text}");
        assert!(text.contains("edgeport_invocation_duration_seconds_bucket{function=\"f\",trigger=\"viewer-request\",le=\"0.0005\"} 1\n"), "{text}");
        assert!(text.contains("edgeport_invocation_duration_seconds_bucket{function=\"f\",trigger=\"viewer-request\",le=\"1\"} 1\n"), "{text}");
        assert!(text.contains("edgeport_invocation_duration_seconds_count{function=\"f\",trigger=\"viewer-request\"} 2\n"), "{text}");
        assert!(text.contains("edgeport_pool_idle_instances{function=\"f\"} 3\n"), "{text}");
        assert!(!text.contains("edgeport_origin_errors_total"), "families without samples are left out");
        assert_eq!(metrics.counter("edgeport_invocations_total", &labels), 2);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(format_labels(&vec![("rule", "say \"hi\"\\".to_string())]), "{rule=\"say \\\"hi\\\"\\\\\"}");
    }
}
