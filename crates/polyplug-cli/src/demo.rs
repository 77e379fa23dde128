//! `polyplug demo`: the log pipeline of `examples/log-pipeline`.
//!
//! Four bundles provide the contract `demo:logs/filter@1.0.0`, each with its own priority:
//! `redact` (Rust, 40) hides secrets, `levels` (C, 30) normalises the level spelling, `count`
//! (Rust, 20) counts lines per level, `drop-debug` (C, 10) drops DEBUG lines. The build script
//! builds them (see `build.rs`) into bundle directories whose location is compiled in.
//!
//! The demo loads them into a runtime built with hot reload on, finds every provider of the
//! contract in priority order (`find_all`), and makes a generated typed caller for each, on the
//! guarded path (plus an instance of its own for a stateful provider). It streams every line of
//! the sample log (compiled in) through the chain, in batches of 100 lines: each stage sees a
//! line as the previous one left it; `rewrite` replaces the line, `drop` ends the chain for it.
//! Between two batches halfway through, it reloads `drop-debug` from disk and goes on with the
//! same handle and caller. Then it prints a
//! table (lines in and out; per stage: bundle, language, priority, calls, kept, dropped,
//! rewritten, errors, mean ns per call), each provider's own counters (`counters()`), a few
//! output lines, and the cost of one call through each call path (`--calls` per path; 0 skips
//! it). `--output <file>` writes every output line to a file.
//!
//! Everything printed is deterministic except the timings.

mod pipeline;
mod report;

use crate::CliResult;
use pipeline::{run_batch, show_handle, Stage};
use polyplug::{CallContext, LogLevel, ReloadPhase, Runtime};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The typed host caller polyplugc generated from `examples/log-pipeline/wit/filter.wit`.
#[allow(dead_code)] // a host uses only part of what is generated
pub(crate) mod filter {
    polyplug::include_caller!("demo_logs_filter");
}

use filter::{Action, FilterCachedCaller, FilterCaller};

/// The sample log: 5000 lines made by `scripts/gen_sample_log.py`.
const SAMPLE_LOG: &str = include_str!("../../../examples/log-pipeline/data/sample.log");

/// Where the build script put the four bundles.
const BUNDLES: &str = env!("POLYPLUG_DEMO_BUNDLES");

/// The bundle reloaded halfway through the stream.
const RELOADED: &str = "drop-debug";

/// The host streams the log in batches of this many lines (the reload happens between two).
const BATCH: usize = 100;

/// How many sample lines to print.
const SAMPLES: usize = 5;

/// Runs the demo; `calls` per measured call path (0 skips them); every output line of the
/// pipeline also goes to `output` if given.
pub(crate) fn run(calls: u32, output: Option<&Path>) -> CliResult {
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&events);
    let rt = Runtime::builder()
        .hot_reload(true)
        .max_log_level(LogLevel::Warn)
        .log_callback(|level, target, message| eprintln!("[{level:?}] {target}: {message}"))
        .on_reload(move |e| {
            let phase = match e.phase {
                ReloadPhase::Preparing => "preparing".to_owned(),
                ReloadPhase::Reloaded => "reloaded".to_owned(),
                ReloadPhase::Failed => format!(
                    "failed: {}",
                    e.error.map_or_else(String::new, ToString::to_string)
                ),
            };
            if let Ok(mut v) = sink.lock() {
                v.push(phase);
            }
        })
        .build()?;

    for dir in bundle_dirs(Path::new(BUNDLES))? {
        rt.load_bundle(&dir)
            .map_err(|e| format!("loading the bundle {}: {e}", dir.display()))?;
    }
    let handles = rt.find_all(filter::KEY, &filter::VERSION);
    if handles.is_empty() {
        return Err(format!("no provider of {} in {BUNDLES}", filter::NAME).into());
    }
    let mut cx = rt.call_context()?;
    let mut stages = handles
        .into_iter()
        .map(|h| Stage::new(&rt, h, &mut cx))
        .collect::<CliResult<Vec<_>>>()?;

    println!(
        "log pipeline: {} stages of {}@{}, highest priority first (bundles in {BUNDLES})",
        stages.len(),
        filter::NAME,
        filter::VERSION
    );
    for s in &stages {
        let instance = if s.instance.is_some() {
            ", stateful: an instance for this run"
        } else {
            ""
        };
        println!(
            "  {:<12} {:<5} priority {:>3}  handle {}{instance}",
            s.bundle,
            s.language,
            s.priority,
            show_handle(s.caller.handle())
        );
    }

    let lines: Vec<&str> = SAMPLE_LOG.lines().collect();
    let batches = lines.len().div_ceil(BATCH);
    let reload_before = batches / 2;
    let mut out = Vec::with_capacity(lines.len());
    println!();
    println!(
        "streaming {} lines of the sample log in batches of {BATCH}",
        lines.len()
    );
    for (i, batch) in lines.chunks(BATCH).enumerate() {
        if i == reload_before {
            hot_reload(&rt, &mut stages, &mut cx, i * BATCH, &events)?;
        }
        out.extend(run_batch(&mut stages, &mut cx, batch));
    }

    report::table(&stages, lines.len(), out.len());
    if let Some(path) = output {
        let mut text = out.join("\n");
        text.push('\n');
        std::fs::write(path, text)
            .map_err(|e| format!("cannot write the output to {}: {e}", path.display()))?;
        println!("every output line is in {}", path.display());
    }
    println!();
    println!("counters (each provider's counters()):");
    for s in &mut stages {
        let counters = s.counters(&mut cx)?;
        let note = if s.bundle == RELOADED {
            "  (its code since the reload)"
        } else {
            ""
        };
        println!(
            "  {:<12} {}{note}",
            s.bundle,
            report::counters_line(&counters)
        );
    }
    report::samples(&out, SAMPLES);

    if calls > 0 {
        call_paths(&rt, &mut stages, &mut cx, calls)?;
    }
    Ok(())
}

/// The bundle directories under `root`, by name.
fn bundle_dirs(root: &Path) -> CliResult<Vec<PathBuf>> {
    let entries = std::fs::read_dir(root).map_err(|e| {
        format!(
            "the demo's bundles are not in {} ({e}); rebuild polyplug-cli",
            root.display()
        )
    })?;
    let mut dirs = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.join(polyplug::manifest::MANIFEST_FILE).is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Reloads the [`RELOADED`] bundle after the first `at` lines and shows that its stage goes on
/// with the same handle and caller, now running the new code.
fn hot_reload(
    rt: &Runtime,
    stages: &mut [Stage<'_>],
    cx: &mut CallContext,
    at: usize,
    events: &Mutex<Vec<String>>,
) -> CliResult {
    let Some(stage) = stages.iter_mut().find(|s| s.bundle == RELOADED) else {
        println!("  (no `{RELOADED}` stage to reload)");
        return Ok(());
    };
    let handle = stage.caller.handle();
    let before = stage.counters(cx)?;
    let start = Instant::now();
    let result = rt.reload_bundle(stage.bundle_id);
    let took = start.elapsed();
    let phases = events.lock().map(|v| v.join(", ")).unwrap_or_default();
    println!(
        "  after line {at}: hot reload of `{RELOADED}` from disk (observer: {phases}) in {:.2} ms",
        took.as_secs_f64() * 1e3
    );
    match result {
        Ok(()) => {
            stage.renew_instance(cx)?;
            let after = stage.counters(cx)?;
            let current = rt.resolve(handle).is_ok();
            println!(
                "    same handle {} ({}), same caller",
                show_handle(handle),
                if current { "still valid" } else { "STALE" },
            );
            println!(
                "    counters of the old code: {}",
                report::counters_line(&before)
            );
            println!(
                "    counters of the new code: {}  (a fresh copy of the library)",
                report::counters_line(&after)
            );
        }
        // The old code keeps serving: the pipeline goes on.
        Err(e) => println!("    reload failed, the old code keeps serving: {e}"),
    }
    Ok(())
}

/// Times `calls` calls of the last stage's `process` through each call path.
fn call_paths(
    rt: &Runtime,
    stages: &mut [Stage<'_>],
    cx: &mut CallContext,
    calls: u32,
) -> CliResult {
    const LINE: &str = "2026-11-25T00:00:00Z INFO api: cache hit key=user:1";
    let Some(stage) = stages.last_mut() else {
        return Ok(());
    };
    let handle = stage.caller.handle();
    println!();
    println!(
        "call paths: `{}` process() on one line, {calls} calls each",
        stage.bundle
    );
    let mut time = |label: &str, f: &mut dyn FnMut(&mut CallContext) -> polyplug::Result<u32>| {
        let start = Instant::now();
        let mut check = 0u64;
        for _ in 0..calls {
            check += u64::from(black_box(f(cx)?));
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(calls);
        black_box(check);
        println!("  {label:<62} {ns:>7.1} ns/call");
        CliResult::Ok(())
    };
    time(
        "by handle (Runtime::call_typed: resolve and checks per call)",
        &mut |cx| {
            let args = filter::raw::ProcessArgs {
                line: polyplug::abi::Str::new(LINE),
            };
            // SAFETY: every raw ABI type is valid when all-zero.
            let mut ret: filter::raw::Verdict = unsafe { std::mem::zeroed() };
            // SAFETY: `process` takes `ProcessArgs` and returns a `Verdict`, in the C layouts
            // the generated module declares; `LINE` outlives the call.
            unsafe { rt.call_typed(handle, filter::func::PROCESS, &args, &mut ret, cx) }?;
            Ok(ret.action)
        },
    )?;
    let mut guarded = FilterCaller::from_handle(rt, handle)?;
    time(
        "guarded typed caller (FilterCaller, the default)",
        &mut |cx| Ok(guarded.process(cx, LINE)?.action.raw()),
    )?;
    let mut cached = FilterCachedCaller::from_handle(rt, handle)?;
    time(
        "cached typed caller (FilterCachedCaller, opt-in)",
        &mut |cx| Ok(cached.process(cx, LINE)?.action.raw()),
    )?;
    debug_assert_eq!(
        guarded.process(cx, LINE).map(|v| v.action).ok(),
        Some(Action::Keep)
    );
    Ok(())
}
