//! `polyplug demo`, the log pipeline, run as the README runs it: the table, the counters, the
//! output lines and the hot reload, checked against what the test computes from the sample log
//! by itself. And every bundle the build made passes `polyplug check`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

const SAMPLE_LOG: &str = include_str!("../../../examples/log-pipeline/data/sample.log");

/// The stages in chain order: bundle, language, priority.
const STAGES: [(&str, &str, u64); 4] = [
    ("redact", "Rust", 40),
    ("levels", "C", 30),
    ("count", "Rust", 20),
    ("drop-debug", "C", 10),
];

fn polyplug(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyplug"))
        .args(args)
        .output()
        .expect("the polyplug binary runs")
}

/// What a run of the demo printed, and every line that came out of the pipeline.
struct Run {
    stdout: String,
    output: String,
}

/// Runs the demo (with few calls per call path) after checking that it succeeded.
fn demo() -> Run {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("out.log");
    let file_arg = file.to_str().expect("a UTF-8 path");
    let out = polyplug(&["demo", "--calls", "1000", "--output", file_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "demo failed with {}:\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let output = std::fs::read_to_string(&file).expect("the demo wrote its output");
    Run { stdout, output }
}

/// The canonical level of a sample line, by the test's own reading of the spellings the
/// generator uses (`scripts/gen_sample_log.py`).
fn level(line: &str) -> &'static str {
    let token = line
        .split_whitespace()
        .nth(1)
        .expect("every line has a level");
    let word = token.trim_start_matches("level=").to_ascii_lowercase();
    match word.as_str() {
        "debug" | "[d]" => "DEBUG",
        "info" | "[i]" => "INFO",
        "warn" | "warning" | "[w]" => "WARN",
        "error" | "[e]" => "ERROR",
        _ => panic!("unexpected level token `{token}` in the sample log"),
    }
}

/// The secret values in the sample log: what follows `password=`, `api_key=`, `token=` and
/// `Bearer `.
fn secrets() -> Vec<&'static str> {
    let mut out = Vec::new();
    for line in SAMPLE_LOG.lines() {
        for key in ["password=", "api_key=", "token=", "Bearer "] {
            for (at, _) in line.match_indices(key) {
                let value = line[at + key.len()..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                if !value.is_empty() {
                    out.push(value);
                }
            }
        }
    }
    out
}

/// The value of `name` in a line `label  a=1 b=2 ...`.
fn counter(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no counter `{name}` in `{line}`"))
        .parse()
        .unwrap_or_else(|e| panic!("counter `{name}` in `{line}`: {e}"))
}

/// The first line of `stdout` that starts (after indentation) with `prefix`.
fn line_starting<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with `{prefix}` in:\n{stdout}"))
}

/// The first line of `stdout` that starts (after indentation) with `prefix` and contains
/// `needle`.
fn line_with<'a>(stdout: &'a str, prefix: &str, needle: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(prefix) && l.contains(needle))
        .unwrap_or_else(|| panic!("no line starting with `{prefix}` with `{needle}` in:\n{stdout}"))
}

/// The number after `label` on its line.
fn figure(stdout: &str, label: &str) -> u64 {
    line_starting(stdout, label)[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after `{label}`"))
}

/// A table row: its columns after `#`, keyed by bundle name.
struct Row {
    language: String,
    priority: u64,
    calls: u64,
    kept: u64,
    dropped: u64,
    rewritten: u64,
    errors: u64,
    ns_per_call: f64,
}

fn rows(stdout: &str) -> Vec<(String, Row)> {
    let header = stdout
        .lines()
        .position(|l| l.starts_with('#') && l.contains("rewritten"))
        .unwrap_or_else(|| panic!("no table header in:\n{stdout}"));
    stdout
        .lines()
        .skip(header + 1)
        .take_while(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(c.len(), 10, "row `{l}`");
            let n = |i: usize| -> u64 { c[i].parse().unwrap_or_else(|e| panic!("`{l}`: {e}")) };
            (
                c[1].to_owned(),
                Row {
                    language: c[2].to_owned(),
                    priority: n(3),
                    calls: n(4),
                    kept: n(5),
                    dropped: n(6),
                    rewritten: n(7),
                    errors: n(8),
                    ns_per_call: c[9].parse().unwrap_or_else(|e| panic!("`{l}`: {e}")),
                },
            )
        })
        .collect()
}

#[test]
fn the_pipeline_filters_the_sample_log() {
    let Run { stdout, output } = demo();
    let lines: Vec<&str> = SAMPLE_LOG.lines().collect();
    assert_eq!(lines.len(), 5000);
    let mut per_level = BTreeMap::new();
    for l in &lines {
        *per_level.entry(level(l)).or_insert(0u64) += 1;
    }
    let debug = per_level["DEBUG"];
    let lines_out = lines.len() as u64 - debug;
    assert!(debug > 1000, "the sample log has DEBUG lines to drop");

    assert_eq!(figure(&stdout, "lines in"), 5000, "{stdout}");
    assert_eq!(figure(&stdout, "lines out"), lines_out, "{stdout}");

    // Every stage, in priority order, with what it did to the stream.
    let rows = rows(&stdout);
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, STAGES.map(|s| s.0), "{stdout}");
    let canonical = lines
        .iter()
        .filter(|l| l.split_whitespace().nth(1) == Some(level(l)))
        .count() as u64;
    let secret_lines = lines
        .iter()
        .filter(|l| {
            ["password=", "api_key=", "token=", "Bearer "]
                .iter()
                .any(|k| l.contains(k))
        })
        .count() as u64;
    for ((name, row), (_, language, priority)) in rows.iter().zip(STAGES) {
        assert_eq!(row.language, language, "{name}");
        assert_eq!(row.priority, priority, "{name}");
        assert_eq!(row.errors, 0, "{name}");
        // Nothing is dropped before the last stage, so every stage sees every line.
        assert_eq!(row.calls, 5000, "{name}");
        assert_eq!(row.kept + row.dropped + row.rewritten, row.calls, "{name}");
        assert!(row.ns_per_call.is_finite(), "{name}");
        let (kept, dropped, rewritten) = match name.as_str() {
            "redact" => (5000 - secret_lines, 0, secret_lines),
            "levels" => (canonical, 0, 5000 - canonical),
            "count" => (5000, 0, 0),
            _ => (lines_out, debug, 0),
        };
        assert_eq!(
            (row.kept, row.dropped, row.rewritten),
            (kept, dropped, rewritten),
            "{name}: kept, dropped, rewritten"
        );
    }

    // Each provider's own counters agree.
    let redact = line_with(&stdout, "redact ", "lines=");
    assert_eq!(counter(redact, "lines"), 5000);
    assert_eq!(counter(redact, "redacted"), secret_lines);
    assert_eq!(counter(redact, "secrets"), secrets().len() as u64);
    for stage in ["levels ", "count "] {
        let line = line_with(&stdout, stage, "debug=");
        for (level, n) in &per_level {
            assert_eq!(counter(line, &level.to_ascii_lowercase()), *n, "{line}");
        }
    }
    assert_eq!(
        counter(line_with(&stdout, "levels ", "debug="), "unknown"),
        0
    );
    let count = line_with(&stdout, "count ", "debug=");
    assert_eq!(counter(count, "lines"), 5000);
    assert_eq!(counter(count, "other"), 0);

    // Every output line is its input line with the level token made canonical (and secrets
    // masked), in input order, and no DEBUG line comes out; the printed samples are the first.
    let expected: Vec<String> = lines
        .iter()
        .filter(|l| level(l) != "DEBUG")
        .map(|l| {
            let (time, rest) = l.split_once(' ').expect("a timestamp");
            let (_, rest) = rest.split_once(' ').expect("a level");
            format!("{time} {} {rest}", level(l))
        })
        .collect();
    let got: Vec<&str> = output.lines().collect();
    assert_eq!(got.len(), expected.len());
    let secrets = secrets();
    for (got, expected) in got.iter().zip(&expected) {
        if secrets.iter().any(|s| expected.contains(s)) {
            let masked = secrets
                .iter()
                .fold(expected.clone(), |line, s| line.replace(s, "***"));
            assert_eq!(*got, masked);
        } else {
            assert_eq!(got, expected);
        }
    }
    let samples: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("first output lines"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    assert_eq!(samples, got[..5], "{stdout}");
    assert!(stdout.contains("password=***"), "{stdout}");
    assert!(stdout.contains("Bearer ***"), "{stdout}");
}

#[test]
fn no_secret_survives() {
    let Run { stdout, output } = demo();
    let secrets = secrets();
    assert!(secrets.len() > 100, "the sample log has secrets");
    for text in [&stdout, &output] {
        for s in &secrets {
            assert!(!text.contains(s), "the secret `{s}` is in the output");
        }
        assert!(!text.contains("sk_"), "an API key is in the output");
        for key in ["password=", "api_key=", "token=", "Bearer "] {
            for (at, _) in text.match_indices(key) {
                let rest = &text[at + key.len()..];
                assert!(
                    rest.starts_with("***"),
                    "`{key}` is followed by `{rest:.20}`"
                );
            }
        }
    }
    assert!(output.contains("password=***"));
    assert!(output.contains("api_key=***"));
    assert!(output.contains("token=***"));
    assert!(output.contains("Bearer ***"));
}

#[test]
fn drop_debug_is_reloaded_mid_stream_and_keeps_its_handle() {
    let Run { stdout, .. } = demo();
    let reload = line_starting(&stdout, "after line 2500: hot reload of `drop-debug`");
    assert!(reload.contains("observer: preparing, reloaded"), "{reload}");
    let same = line_starting(&stdout, "same handle");
    assert!(same.ends_with("(still valid), same caller"), "{same}");
    // The handle is the one the stage was listed with.
    let handle = same.split_whitespace().nth(2).expect("a handle");
    let listed = line_with(&stdout, "drop-debug", "priority");
    assert!(listed.contains(&format!("handle {handle}")), "{listed}");
    // The new code started from zero: the old code's counts and the new code's add up to the
    // host's tallies.
    let old = line_starting(&stdout, "counters of the old code:");
    let new = line_starting(&stdout, "counters of the new code:");
    assert_eq!(counter(new, "dropped"), 0, "{new}");
    assert_eq!(counter(new, "kept"), 0, "{new}");
    let now = line_with(&stdout, "drop-debug", "(its code since the reload)");
    let debug = SAMPLE_LOG.lines().filter(|l| level(l) == "DEBUG").count() as u64;
    assert_eq!(counter(old, "dropped") + counter(now, "dropped"), debug);
    assert_eq!(
        counter(old, "kept") + counter(now, "kept"),
        5000 - debug,
        "{stdout}"
    );
    // Half the lines went through each version.
    assert_eq!(
        counter(old, "dropped") + counter(old, "kept"),
        2500,
        "{old}"
    );
    assert!(counter(old, "dropped") > 0 && counter(now, "dropped") > 0);
}

#[test]
fn every_call_path_is_timed() {
    let Run { stdout, .. } = demo();
    for label in ["by handle", "guarded typed caller", "cached typed caller"] {
        let line = line_starting(&stdout, label);
        assert!(line.ends_with("ns/call"), "{line}");
    }
}

#[test]
fn every_bundle_passes_check() {
    let root = Path::new(env!("POLYPLUG_DEMO_BUNDLES"));
    for (name, _, _) in STAGES {
        let dir = root.join(name);
        let out = polyplug(&["check", dir.to_str().expect("a UTF-8 path")]);
        assert!(
            out.status.success(),
            "polyplug check {}: {}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
