//! Branch and line coverage of an original handler, from the counters its reference worker
//! recorded: V8's block counters for JavaScript, the steps between CPython's instructions for
//! Python.
//!
//! Branches are found statically in the text that ran (the frontend's branch map: `if`, `?:`,
//! `&&`/`||`/`??`, `switch` cases; Python's `if`/`elif`/`else`, conditional expressions,
//! `and`/`or`, `match` cases, loops with `else`, `except` handlers).
//!
//! JavaScript: an arm's count is the count of the innermost V8 range holding its first
//! character — V8 nests ranges and a nested range overrides its parent — and an arm without
//! code of its own (an `if` without `else`) is the branch's count minus its other arms'. Each
//! load of the module is a script of its own, so counts are summed over every script of the
//! same file. TypeScript runs as tsc's output: its branches are found in that output and its
//! lines mapped back through the source map.
//!
//! Python: an arm's count is the number of steps into its code from outside it (an instruction is
//! inside a range when its whole source position is: the jump of `a if t else b` spans the
//! whole expression, so it is in no arm); an implicit arm's, the steps from outside the
//! construct to an instruction of it starting in its head (its start up to its first arm),
//! minus the other arms' (see `edgeport_frontends::python::branches`). A statement ran as often
//! as steps landed on an instruction starting between its start and the next statement's.

use std::ops::Range;
use std::path::{Path, PathBuf};

use edgeport_frontends::branches::{Arm, Branch, BranchMap};
use edgeport_frontends::{javascript, python};

use crate::reference::{ReferenceLanguage, ScriptCoverage};
use crate::report::Share;

/// Counts for one handler file, accumulated over any number of coverage takes.
#[derive(Debug)]
pub struct CoverageTally {
    file: PathBuf,
    /// The text V8 ran, as gathered from the first script seen (the file, or compiled
    /// TypeScript); `None` until then.
    ran: Option<RanText>,
    arm_counts: Vec<u64>,
    statement_counts: Vec<u64>,
}

#[derive(Debug)]
struct RanText {
    language: ReferenceLanguage,
    map: BranchMap,
    utf16: Utf16Offsets,
    /// 1-based line of every byte offset's line start, as offsets.
    line_starts: Vec<usize>,
    /// For compiled text: the original line of each generated line.
    original_lines: Option<Vec<Option<u32>>>,
}

impl CoverageTally {
    /// A tally for the handler `file`.
    pub fn new(file: &Path) -> Self {
        CoverageTally {
            file: file.to_path_buf(),
            ran: None,
            arm_counts: Vec::new(),
            statement_counts: Vec::new(),
        }
    }

    /// Adds the counts of the scripts of this tally's file among `scripts`.
    pub fn add(&mut self, scripts: &[ScriptCoverage]) {
        for script in scripts.iter().filter(|s| s.path == self.file) {
            if self.ran.is_none() {
                let Some(ran) = RanText::read(script) else {
                    continue;
                };
                self.arm_counts = vec![0; ran.map.branches.iter().map(|b| b.arms.len()).sum()];
                self.statement_counts = vec![0; ran.map.statements.len()];
                self.ran = Some(ran);
            }
            let Some(ran) = &self.ran else { continue };
            let counter = match ran.language {
                ReferenceLanguage::Node => Counter::Blocks(Ranges::new(&script.ranges), &ran.utf16),
                ReferenceLanguage::Python => Counter::Steps(&script.steps),
            };
            let arm_counts = ran
                .map
                .branches
                .iter()
                .flat_map(|branch| counter.arms(branch));
            for (total, count) in self.arm_counts.iter_mut().zip(arm_counts) {
                *total += count;
            }
            let statements = &ran.map.statements;
            for (index, total) in self.statement_counts.iter_mut().enumerate() {
                *total += counter.statement(statements, index);
            }
        }
    }

    /// Whether any script of the file has been seen.
    pub fn has_data(&self) -> bool {
        self.ran.is_some()
    }

    /// Every branch point's line and its arms' counts so far, in source order.
    pub fn branch_counts(&self) -> Vec<(u32, Vec<u64>)> {
        let Some(ran) = &self.ran else {
            return Vec::new();
        };
        let mut counts = self.arm_counts.iter().copied();
        ran.map
            .branches
            .iter()
            .map(|branch| {
                let arms = counts.by_ref().take(branch.arms.len()).collect();
                (ran.original_line(branch.start).unwrap_or(branch.line), arms)
            })
            .collect()
    }

    /// Branch arms taken at least once, out of all arms.
    pub fn branches(&self) -> Share {
        let covered = self.arm_counts.iter().filter(|&&c| c > 0).count();
        Share {
            covered: to_u32(covered),
            total: to_u32(self.arm_counts.len()),
        }
    }

    /// Lines of the original file with a branch point some arm of which was never taken,
    /// sorted.
    pub fn partial_branch_lines(&self) -> Vec<u32> {
        let Some(ran) = &self.ran else {
            return Vec::new();
        };
        let mut counts = self.arm_counts.iter();
        let mut lines: Vec<u32> = ran
            .map
            .branches
            .iter()
            .filter(|branch| {
                counts
                    .by_ref()
                    .take(branch.arms.len())
                    .fold(false, |untaken, &count| untaken | (count == 0))
            })
            .filter_map(|branch| ran.original_line(branch.start))
            .collect();
        lines.sort_unstable();
        lines.dedup();
        lines
    }

    /// Lines of the original file holding a statement that never ran, sorted.
    pub fn uncovered_lines(&self) -> Vec<u32> {
        let Some(ran) = &self.ran else {
            return Vec::new();
        };
        let mut lines: Vec<u32> = ran
            .map
            .statements
            .iter()
            .zip(&self.statement_counts)
            .filter(|(_, &count)| count == 0)
            .filter_map(|(&offset, _)| ran.original_line(offset))
            .collect();
        lines.sort_unstable();
        lines.dedup();
        lines
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl RanText {
    fn read(script: &ScriptCoverage) -> Option<RanText> {
        let text = match &script.source {
            Some(source) => source.clone(),
            None => std::fs::read_to_string(&script.path).ok()?,
        };
        let language = ReferenceLanguage::of_file(&script.path);
        let (text, map) = match language {
            ReferenceLanguage::Node => {
                // node drops a byte-order mark before compiling.
                let text = text
                    .strip_prefix('\u{feff}')
                    .map(str::to_string)
                    .unwrap_or(text);
                let map = javascript::branches::branch_map(&text)?;
                (text, map)
            }
            // CPython's offsets, like the Python branch map's, count the mark.
            ReferenceLanguage::Python => {
                let map = python::branches::branch_map(&text)?;
                (text, map)
            }
        };
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let original_lines = script.mappings.as_deref().map(original_lines);
        Some(RanText {
            language,
            map,
            utf16: Utf16Offsets::new(&text),
            line_starts,
            original_lines,
        })
    }

    /// The 1-based line of the original file that the byte `offset` of the ran text is on.
    fn original_line(&self, offset: usize) -> Option<u32> {
        let line = self.line_starts.partition_point(|&start| start <= offset); // 1-based
        match &self.original_lines {
            None => Some(to_u32(line)),
            Some(lines) => lines.get(line - 1).copied().flatten(),
        }
    }
}

/// One of CPython's steps: from an instruction (none for a frame's first) to the next, by
/// their source positions, and how often.
type Step = (Option<[u64; 2]>, [u64; 2], u64);

/// What one script's counters say, per language.
enum Counter<'a> {
    /// V8's block ranges, and the text's UTF-16 offsets they are in.
    Blocks(Ranges<'a>, &'a Utf16Offsets),
    /// CPython's steps between instructions, as byte ranges.
    Steps(&'a [Step]),
}

impl Counter<'_> {
    /// The count of each arm of `branch`.
    fn arms(&self, branch: &Branch) -> Vec<u64> {
        let (code, whole): (Vec<Option<u64>>, u64) = match self {
            Counter::Blocks(ranges, utf16) => {
                let count_at = |offset: usize| ranges.count_at(utf16.at(offset));
                let code = branch.arms.iter().map(|arm| match *arm {
                    Arm::Code { start } | Arm::Span { start, .. } => Some(count_at(start)),
                    Arm::Implicit => None,
                });
                (code.collect(), count_at(branch.start))
            }
            Counter::Steps(steps) => {
                let spans: Vec<Range<usize>> = branch
                    .arms
                    .iter()
                    .filter_map(|arm| match *arm {
                        Arm::Code { start } => Some(start..start + 1),
                        Arm::Span { start, end } => Some(start..end),
                        Arm::Implicit => None,
                    })
                    .collect();
                let code = branch.arms.iter().scan(spans.iter(), |spans, arm| {
                    Some(match arm {
                        Arm::Implicit => None,
                        _ => spans.next().map(|span| entries(steps, span, span)),
                    })
                });
                // Control comes into the construct through its head, once each time it runs.
                let head_end = spans
                    .iter()
                    .map(|span| span.start)
                    .min()
                    .unwrap_or(branch.start);
                let end = spans.iter().map(|span| span.end).max().unwrap_or(head_end);
                let whole = entries(steps, &(branch.start..end), &(branch.start..head_end));
                (code.collect(), whole)
            }
        };
        let taken: u64 = code.iter().flatten().sum();
        code.into_iter()
            .map(|count| count.unwrap_or_else(|| whole.saturating_sub(taken)))
            .collect()
    }

    /// How often the statement `statements[index]` ran.
    fn statement(&self, statements: &[usize], index: usize) -> u64 {
        let start = statements[index];
        match self {
            Counter::Blocks(ranges, utf16) => ranges.count_at(utf16.at(start)),
            Counter::Steps(steps) => {
                let end = statements
                    .get(index + 1)
                    .map_or(u64::MAX, |&end| end as u64);
                steps
                    .iter()
                    .filter(|(_, to, _)| (start as u64..end).contains(&to[0]))
                    .map(|(_, _, count)| count)
                    .sum()
            }
        }
    }
}

/// The steps from outside `range` to an instruction inside it (its whole source position)
/// that starts in `starting`; a frame's first step comes from outside everything.
fn entries(steps: &[Step], range: &Range<usize>, starting: &Range<usize>) -> u64 {
    let inside = |[start, end]: [u64; 2]| range.start as u64 <= start && end <= range.end as u64;
    steps
        .iter()
        .filter(|(from, to, _)| {
            inside(*to)
                && (starting.start as u64..starting.end as u64).contains(&to[0])
                && !from.is_some_and(inside)
        })
        .map(|(_, _, count)| count)
        .sum()
}

/// V8's ranges of one script, for "innermost range holding this offset" lookups.
struct Ranges<'a> {
    ranges: &'a [[u64; 3]],
}

impl<'a> Ranges<'a> {
    fn new(ranges: &'a [[u64; 3]]) -> Self {
        Ranges { ranges }
    }

    fn count_at(&self, offset: u64) -> u64 {
        self.ranges
            .iter()
            .filter(|[start, end, _]| *start <= offset && offset < *end)
            .min_by_key(|[start, end, _]| end - start)
            .map_or(0, |[_, _, count]| *count)
    }
}

/// Byte offset to UTF-16 offset (V8 counts UTF-16 code units).
#[derive(Debug)]
struct Utf16Offsets {
    /// `(byte offset, UTF-16 offset)` just after every non-ASCII character; empty for ASCII
    /// text, whose two offsets agree.
    after_wide: Vec<(usize, u64)>,
}

impl Utf16Offsets {
    fn new(text: &str) -> Self {
        let mut after_wide = Vec::new();
        let mut utf16 = 0u64;
        for (byte, ch) in text.char_indices() {
            utf16 += ch.len_utf16() as u64;
            if !ch.is_ascii() {
                after_wide.push((byte + ch.len_utf8(), utf16));
            }
        }
        Utf16Offsets { after_wide }
    }

    fn at(&self, byte: usize) -> u64 {
        // Everything between the last non-ASCII character before `byte` and `byte` is ASCII.
        let index = self.after_wide.partition_point(|&(b, _)| b <= byte);
        match index.checked_sub(1).map(|i| self.after_wide[i]) {
            None => byte as u64,
            Some((b, u)) => u + (byte - b) as u64,
        }
    }
}

/// The original line (1-based) of each generated line of a source map's `mappings`: the line
/// of the first segment on it that names a source position.
fn original_lines(mappings: &str) -> Vec<Option<u32>> {
    let mut lines = Vec::new();
    let mut source_line: i64 = 0;
    for generated in mappings.split(';') {
        let mut first = None;
        for segment in generated.split(',').filter(|s| !s.is_empty()) {
            let fields = decode_vlq(segment);
            if let Some(delta) = fields.get(2) {
                source_line += delta;
                if first.is_none() {
                    first = u32::try_from(source_line + 1).ok();
                }
            }
        }
        lines.push(first);
    }
    lines
}

/// The base64 VLQ numbers of one source-map segment.
fn decode_vlq(segment: &str) -> Vec<i64> {
    let mut values = Vec::new();
    let (mut value, mut shift) = (0i64, 0u32);
    for byte in segment.bytes() {
        let Some(digit) = BASE64.iter().position(|&b| b == byte) else {
            break;
        };
        let digit = digit as i64;
        value += (digit & 31) << shift;
        if digit & 32 != 0 {
            shift += 5;
            continue;
        }
        values.push(if value & 1 == 1 {
            -(value >> 1)
        } else {
            value >> 1
        });
        value = 0;
        shift = 0;
    }
    values
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_offsets_count_wide_characters() {
        let text = "a\u{e9}b\u{1f600}c";
        let offsets = Utf16Offsets::new(text);
        assert_eq!(offsets.at(0), 0);
        assert_eq!(offsets.at(1), 1); // before é
        assert_eq!(offsets.at(3), 2); // b: é is 2 bytes, 1 unit
        assert_eq!(offsets.at(4), 3); // the emoji
        assert_eq!(offsets.at(8), 5); // c: the emoji is 4 bytes, 2 units
    }

    #[test]
    fn innermost_range_wins() {
        let ranges = [[0, 100, 1], [10, 50, 0], [20, 30, 7]];
        let ranges = Ranges::new(&ranges);
        assert_eq!(ranges.count_at(5), 1);
        assert_eq!(ranges.count_at(15), 0);
        assert_eq!(ranges.count_at(25), 7);
        assert_eq!(ranges.count_at(30), 0);
        assert_eq!(ranges.count_at(100), 0);
    }

    #[test]
    fn a_tally_counts_arms_lines_and_sums_loads() {
        let source = "function f(x) {\n  if (x) {\n    return 1;\n  }\n  return 2;\n}\nf(true);\n";
        let at = |needle: &str| source.find(needle).expect("in source") as u64;
        let (f_start, f_end) = (at("function"), at("\nf(true)"));
        // What V8 reports for one load: the script, f called once, and the code after the
        // `if` never reached.
        let load = ScriptCoverage {
            path: PathBuf::from("/fn/index.js"),
            ranges: vec![
                [0, source.len() as u64, 1],
                [f_start, f_end, 1],
                [at("\n  return 2"), f_end - 1, 0],
            ],
            steps: Vec::new(),
            source: Some(source.to_string()),
            mappings: None,
        };
        let other_file = ScriptCoverage {
            path: PathBuf::from("/fn/lib.js"),
            ..load.clone()
        };

        let mut tally = CoverageTally::new(Path::new("/fn/index.js"));
        tally.add(&[load.clone(), other_file]);
        assert_eq!(
            tally.branches(),
            Share {
                covered: 1,
                total: 2
            },
            "the implicit else was never taken"
        );
        assert_eq!(tally.partial_branch_lines(), vec![2]);
        assert_eq!(tally.uncovered_lines(), vec![5]);

        // A second load in which the else path ran: counts add up across loads.
        let mut else_load = load;
        else_load.ranges = vec![
            [0, source.len() as u64, 1],
            [f_start, f_end, 1],
            [at("{\n    return 1"), at("\n  return 2"), 0],
        ];
        tally.add(&[else_load]);
        assert_eq!(
            tally.branches(),
            Share {
                covered: 2,
                total: 2
            }
        );
        assert!(tally.partial_branch_lines().is_empty());
        assert!(
            tally.uncovered_lines().is_empty(),
            "{:?}",
            tally.uncovered_lines()
        );
    }

    #[test]
    fn source_map_lines_follow_the_first_segment() {
        // tsc's map for a 3-line output: line 1 has no mapping, line 2 maps to original line
        // 21 (AoBA: source line +20), line 3 to line 15 (delta -6 is "N").
        assert_eq!(decode_vlq("AoBA"), vec![0, 20, 0]);
        assert_eq!(
            original_lines(";AAoBA;AANA"),
            vec![None, Some(21), Some(15)]
        );
    }
}
