//! The chain: one stage per provider of `demo:logs/filter`, each called through the generated
//! typed caller on the guarded path, and what the host tallies per stage.

use super::filter::{Action, Counter, FilterCaller, FilterInstance, Verdict};
use crate::CliResult;
use polyplug::{BundleId, CallContext, Handle, Runtime};
use std::borrow::Cow;
use std::time::Instant;

/// What the host counted for one stage.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) calls: u64,
    pub(crate) kept: u64,
    pub(crate) dropped: u64,
    pub(crate) rewritten: u64,
    pub(crate) errors: u64,
    /// The first failure's message.
    pub(crate) first_error: Option<String>,
    /// Wall time of the calls (batched: see [`run_batch`]).
    pub(crate) nanos: u128,
}

/// One provider of the chain.
pub(crate) struct Stage<'rt> {
    /// Its bundle's name and id.
    pub(crate) bundle: String,
    pub(crate) bundle_id: BundleId,
    /// The `language` option of its `bundle.toml` (`?` without one).
    pub(crate) language: String,
    pub(crate) priority: i32,
    /// The guarded typed caller: follows a reload of the bundle with the same handle.
    pub(crate) caller: FilterCaller<'rt>,
    /// For a stateful provider, the instance this run calls (its own counts); `None` for a
    /// stateless one, which the caller calls directly.
    pub(crate) instance: Option<FilterInstance<'rt>>,
    pub(crate) stats: Stats,
}

/// `#index.generation`.
pub(crate) fn show_handle(h: Handle) -> String {
    format!("#{}.{}", h.index, h.generation)
}

impl<'rt> Stage<'rt> {
    /// The stage of the provider `handle` names: its bundle's details, a guarded typed caller,
    /// and an instance of its own if the provider is stateful.
    pub(crate) fn new(rt: &'rt Runtime, handle: Handle, cx: &mut CallContext) -> CliResult<Self> {
        let summary = rt
            .providers()
            .into_iter()
            .find(|p| p.handle == handle)
            .ok_or_else(|| format!("provider {} is gone", show_handle(handle)))?;
        let bundle_id = summary
            .bundle
            .ok_or("a host provider of demo:logs/filter is not a pipeline stage")?;
        let bundle = rt
            .bundles()
            .into_iter()
            .find(|b| b.id == bundle_id)
            .ok_or_else(|| format!("bundle {bundle_id} is gone"))?;
        let language = bundle
            .manifest
            .options
            .get("language")
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_owned();
        let mut caller = FilterCaller::from_handle(rt, handle)?;
        let stateful = rt.resolve(handle)?.interface().create_instance.is_some();
        let instance = if stateful {
            Some(caller.create_instance(cx)?)
        } else {
            None
        };
        Ok(Stage {
            bundle: bundle.manifest.name,
            bundle_id,
            language,
            priority: summary.priority,
            caller,
            instance,
            stats: Stats::default(),
        })
    }

    /// `process(line)` on the stage's instance, or through its caller.
    pub(crate) fn process(
        &mut self,
        cx: &mut CallContext,
        line: &str,
    ) -> polyplug::Result<Verdict> {
        match &mut self.instance {
            Some(instance) => instance.process(cx, line),
            None => self.caller.process(cx, line),
        }
    }

    /// `counters()` on the stage's instance, or through its caller.
    pub(crate) fn counters(&mut self, cx: &mut CallContext) -> polyplug::Result<Vec<Counter>> {
        match &mut self.instance {
            Some(instance) => instance.counters(cx),
            None => self.caller.counters(cx),
        }
    }

    /// After a reload of the stage's bundle: an instance belongs to the code that made it, so a
    /// stateful stage makes a new one (the caller itself follows the new code).
    pub(crate) fn renew_instance(&mut self, cx: &mut CallContext) -> CliResult {
        if self.instance.is_some() {
            self.instance = Some(self.caller.create_instance(cx)?);
        }
        Ok(())
    }
}

/// Runs a batch of lines through `stages` in order, stage by stage: each stage sees every line
/// of the batch as the previous stage left it; `rewrite` replaces a line, `drop` ends the chain
/// for it. Returns the lines that come out, in order. A stage that fails on a line is counted and
/// skipped: the line goes on as it was.
///
/// Each stage's calls on the batch are timed together, so the clock is read twice per stage
/// and batch rather than per call.
pub(crate) fn run_batch(
    stages: &mut [Stage<'_>],
    cx: &mut CallContext,
    batch: &[&str],
) -> Vec<String> {
    let mut lines: Vec<Cow<'_, str>> = batch.iter().map(|&l| Cow::Borrowed(l)).collect();
    for stage in stages.iter_mut() {
        let mut next = Vec::with_capacity(lines.len());
        let start = Instant::now();
        for line in lines {
            let result = stage.process(cx, &line);
            let stats = &mut stage.stats;
            stats.calls += 1;
            match result {
                Ok(v) => match v.action {
                    Action::Keep => {
                        stats.kept += 1;
                        next.push(line);
                    }
                    Action::Drop => stats.dropped += 1,
                    Action::Rewrite => {
                        stats.rewritten += 1;
                        next.push(Cow::Owned(v.line));
                    }
                },
                Err(e) => {
                    stats.errors += 1;
                    stats.first_error.get_or_insert_with(|| e.to_string());
                    next.push(line);
                }
            }
        }
        stage.stats.nanos += start.elapsed().as_nanos();
        lines = next;
    }
    lines.into_iter().map(Cow::into_owned).collect()
}
