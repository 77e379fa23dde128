//! What `polyplug demo` prints after the run: the table, each provider's counters, sample
//! output lines.

use super::filter::Counter;
use super::pipeline::Stage;

/// `name=value name=value ...`
pub(crate) fn counters_line(counters: &[Counter]) -> String {
    let parts: Vec<String> = counters
        .iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect();
    parts.join(" ")
}

/// Lines in and out, then one row per stage in chain order.
pub(crate) fn table(stages: &[Stage<'_>], lines_in: usize, lines_out: usize) {
    println!();
    println!("lines in   {lines_in:>6}");
    println!(
        "lines out  {lines_out:>6}  ({} dropped)",
        lines_in - lines_out
    );
    println!();
    println!(
        "{:<3} {:<12} {:<8} {:>8} {:>6} {:>6} {:>7} {:>9} {:>6} {:>9}",
        "#",
        "bundle",
        "language",
        "priority",
        "calls",
        "kept",
        "dropped",
        "rewritten",
        "errors",
        "ns/call"
    );
    for (i, s) in stages.iter().enumerate() {
        let st = &s.stats;
        let mean = if st.calls == 0 {
            0.0
        } else {
            st.nanos as f64 / st.calls as f64
        };
        println!(
            "{:<3} {:<12} {:<8} {:>8} {:>6} {:>6} {:>7} {:>9} {:>6} {:>9.1}",
            i + 1,
            s.bundle,
            s.language,
            s.priority,
            st.calls,
            st.kept,
            st.dropped,
            st.rewritten,
            st.errors,
            mean
        );
    }
    println!(
        "ns/call: mean time of one guarded typed call, converting the argument and the result \
         included"
    );
    for s in stages {
        if let Some(e) = &s.stats.first_error {
            println!("{}: first error: {e}", s.bundle);
        }
    }
}

/// The first `n` output lines, and the first `n` that a stage redacted.
pub(crate) fn samples(out: &[String], n: usize) {
    println!();
    println!("first output lines:");
    for line in out.iter().take(n) {
        println!("  {line}");
    }
    println!("first redacted output lines:");
    for line in out.iter().filter(|l| l.contains("***")).take(n) {
        println!("  {line}");
    }
}
