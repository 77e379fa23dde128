//! `count`, the third stage of the log pipeline (priority 20): a provider of
//! `demo:logs/filter@1.0.0` written in Rust with `polyplug-guest`.
//!
//! It keeps every line and counts what passes: `lines`, `bytes` (UTF-8, without the line
//! break), and lines per level: `debug`, `info`, `warn`, `error`, and `other` for a level
//! token that is not one of the canonical `DEBUG|INFO|WARN|ERROR`. It runs after `levels`,
//! which normalises the spelling, so on the sample log `other` stays 0.
//!
//! The provider is **stateful**: each instance a host creates counts on its own (one per log
//! stream, say), and calls without an instance count on the provider's default one.

use polyplug_guest::{Error, Registrar};
use std::sync::atomic::{AtomicU64, Ordering};

/// The generated guest glue of `demo:logs/filter` (public: a plugin uses only part of it).
pub mod filter {
    polyplug_guest::include_contract!("demo_logs_filter");
}

use filter::{Action, Counter, Filter, Verdict};

/// The canonical level tokens, in counter order (the `other` counter follows).
pub const LEVELS: [&str; 4] = ["DEBUG", "INFO", "WARN", "ERROR"];

/// The level token of a line `<timestamp> <level> <service>: <message>`: its second
/// whitespace-separated word.
pub fn level_token(line: &str) -> Option<&str> {
    line.split_ascii_whitespace().nth(1)
}

/// One instance's counts.
#[derive(Default)]
struct Count {
    lines: AtomicU64,
    bytes: AtomicU64,
    /// Per entry of [`LEVELS`], then `other`.
    levels: [AtomicU64; 5],
}

impl Filter for Count {
    fn process(&self, line: &str) -> Result<Verdict, Error> {
        self.lines.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(line.len() as u64, Ordering::Relaxed);
        let level = level_token(line);
        let at = LEVELS
            .iter()
            .position(|&l| Some(l) == level)
            .unwrap_or(LEVELS.len());
        self.levels[at].fetch_add(1, Ordering::Relaxed);
        Ok(Verdict {
            action: Action::Keep,
            line: String::new(),
        })
    }

    fn counters(&self) -> Result<Vec<Counter>, Error> {
        let names = ["lines", "bytes", "debug", "info", "warn", "error", "other"];
        let values = [&self.lines, &self.bytes].into_iter().chain(&self.levels);
        Ok(names
            .into_iter()
            .zip(values)
            .map(|(name, v)| Counter {
                name: name.to_owned(),
                value: v.load(Ordering::Relaxed),
            })
            .collect())
    }
}

/// Registers the stateful counting provider: a fresh `Count` per instance.
fn init(reg: &mut Registrar) -> Result<(), Error> {
    reg.register(filter::stateful_provider(Count::default))
}

polyplug_guest::export_plugin!(init);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_bytes_and_levels_and_keeps_everything() {
        let c = Count::default();
        for line in [
            "t0 INFO api: a",
            "t1 DEBUG db: bb",
            "t2 INFO api: ccc",
            "t3 level=warn x: y",
            "",
        ] {
            assert_eq!(c.process(line).expect("succeeds").action, Action::Keep);
        }
        let counters: Vec<(String, u64)> = c
            .counters()
            .expect("succeeds")
            .into_iter()
            .map(|c| (c.name, c.value))
            .collect();
        let expect = [
            ("lines", 5),
            ("bytes", 14 + 15 + 16 + 18),
            ("debug", 1),
            ("info", 2),
            ("warn", 0),
            ("error", 0),
            ("other", 2),
        ];
        assert_eq!(
            counters,
            expect.map(|(n, v)| (n.to_owned(), v)).to_vec(),
            "{counters:?}"
        );
    }
}
