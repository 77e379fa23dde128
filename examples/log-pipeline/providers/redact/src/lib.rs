//! `redact`, the first stage of the log pipeline (priority 40): a provider of
//! `demo:logs/filter@1.0.0` written in Rust with `polyplug-guest`.
//!
//! It hides the value of every secret it recognises and rewrites the line:
//!
//! | in the line | becomes |
//! |---|---|
//! | `password=hunter2` | `password=***` |
//! | `api_key=sk_live_123` | `api_key=***` |
//! | `token=abc` (also `reset_token=abc`) | `token=***` |
//! | `Authorization: Bearer abc` | `Authorization: Bearer ***` |
//!
//! Keys match without regard to ASCII case and must start a word (`mytoken=x` is left alone;
//! `_` and punctuation start a word). A value runs to the next whitespace. A line without a
//! secret is kept as it is. Counters: `lines` (seen), `redacted` (lines rewritten), `secrets`
//! (values hidden).

use polyplug_guest::{Error, Registrar};
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

/// The generated guest glue of `demo:logs/filter` (public: a plugin uses only part of it).
pub mod filter {
    polyplug_guest::include_contract!("demo_logs_filter");
}

use filter::{Action, Counter, Filter, Verdict};

/// What replaces a secret.
pub const MASK: &str = "***";

/// Keys whose value is a secret, lowercase; the value follows the key directly.
const KEYS: [&str; 3] = ["password=", "api_key=", "token="];
/// The HTTP authorization scheme whose credential is a secret, lowercase; the credential
/// follows after spaces.
const BEARER: &str = "bearer ";

/// Whether `line` has `key` (lowercase ASCII) at byte `at`, in any ASCII case.
fn has_key(line: &[u8], at: usize, key: &str) -> bool {
    line.get(at..at + key.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(key.as_bytes()))
}

/// The end of the value starting at byte `from`: the next ASCII whitespace, or the end.
fn value_end(line: &[u8], from: usize) -> usize {
    line[from..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(line.len(), |n| from + n)
}

/// `line` with every secret value replaced by [`MASK`], and how many were replaced. Borrows
/// `line` when there was none.
pub fn redact(line: &str) -> (Cow<'_, str>, u64) {
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut copied = 0; // bytes of `line` already in `out`
    let mut hidden = 0;
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        // Every key is ASCII, so a match starts and ends on character boundaries.
        let value_start = if !starts_word {
            None
        } else if let Some(key) = KEYS.iter().find(|k| has_key(bytes, i, k)) {
            Some(i + key.len())
        } else if has_key(bytes, i, BEARER) {
            let after = i + BEARER.len();
            Some(after + bytes[after..].iter().take_while(|&&b| b == b' ').count())
        } else {
            None
        };
        let Some(start) = value_start else {
            i += 1;
            continue;
        };
        let end = value_end(bytes, start);
        let value = &line[start..end];
        if !value.is_empty() && value != MASK {
            out.push_str(&line[copied..start]);
            out.push_str(MASK);
            copied = end;
            hidden += 1;
        }
        i = end.max(i + 1);
    }
    if hidden == 0 {
        return (Cow::Borrowed(line), 0);
    }
    out.push_str(&line[copied..]);
    (Cow::Owned(out), hidden)
}

/// The stage: one for every caller (the counters are the provider's).
#[derive(Default)]
struct Redact {
    lines: AtomicU64,
    redacted: AtomicU64,
    secrets: AtomicU64,
}

impl Filter for Redact {
    fn process(&self, line: &str) -> Result<Verdict, Error> {
        self.lines.fetch_add(1, Ordering::Relaxed);
        match redact(line) {
            (Cow::Borrowed(_), _) => Ok(Verdict {
                action: Action::Keep,
                line: String::new(),
            }),
            (Cow::Owned(new), hidden) => {
                self.redacted.fetch_add(1, Ordering::Relaxed);
                self.secrets.fetch_add(hidden, Ordering::Relaxed);
                Ok(Verdict {
                    action: Action::Rewrite,
                    line: new,
                })
            }
        }
    }

    fn counters(&self) -> Result<Vec<Counter>, Error> {
        Ok([
            ("lines", &self.lines),
            ("redacted", &self.redacted),
            ("secrets", &self.secrets),
        ]
        .into_iter()
        .map(|(name, v)| Counter {
            name: name.to_owned(),
            value: v.load(Ordering::Relaxed),
        })
        .collect())
    }
}

/// Registers the stateless redaction provider.
fn init(reg: &mut Registrar) -> Result<(), Error> {
    reg.register(filter::provider(Redact::default()))
}

polyplug_guest::export_plugin!(init);

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(line: &str) -> (String, u64) {
        let (out, n) = redact(line);
        (out.into_owned(), n)
    }

    #[test]
    fn every_kind_of_secret_is_hidden() {
        assert_eq!(
            hidden("login ok user=u1 password=hunter2"),
            ("login ok user=u1 password=***".into(), 1)
        );
        assert_eq!(
            hidden("calling partner api_key=sk_abc123 region=eu"),
            ("calling partner api_key=*** region=eu".into(), 1)
        );
        assert_eq!(
            hidden("forwarding header Authorization: Bearer abc.def"),
            ("forwarding header Authorization: Bearer ***".into(), 1)
        );
        assert_eq!(
            hidden("reset link sent token=xyz user=u2"),
            ("reset link sent token=*** user=u2".into(), 1)
        );
        assert_eq!(
            hidden("PASSWORD=a reset_token=b bearer  c"),
            ("PASSWORD=*** reset_token=*** bearer  ***".into(), 3)
        );
    }

    #[test]
    fn other_lines_are_kept() {
        for line in [
            "",
            "cache hit key=user:1",
            "mytoken=abc",
            "password= empty",
            "token=*** already hidden",
            "Bearer",
            "ünïcødé token",
        ] {
            let (out, n) = redact(line);
            assert!(matches!(out, Cow::Borrowed(_)), "{line:?} -> {out:?}");
            assert_eq!(n, 0);
        }
    }

    #[test]
    fn the_stage_rewrites_and_counts() {
        let stage = Redact::default();
        let v = stage.process("x password=p token=t").expect("succeeds");
        assert_eq!(v.action, Action::Rewrite);
        assert_eq!(v.line, "x password=*** token=***");
        assert_eq!(
            stage.process("nothing here").expect("succeeds").action,
            Action::Keep
        );
        let counters: Vec<(String, u64)> = stage
            .counters()
            .expect("succeeds")
            .into_iter()
            .map(|c| (c.name, c.value))
            .collect();
        assert_eq!(
            counters,
            [
                ("lines".to_owned(), 2),
                ("redacted".to_owned(), 1),
                ("secrets".to_owned(), 2)
            ]
        );
    }
}
