//! `polyplug demo`: a C plugin loaded as a bundle and called through every path.

use polyplug::abi::{Bytes, Str};
use polyplug::{ContractKey, Error, Handle, LogLevel, Runtime, Version};
use std::ffi::c_void;
use std::time::Instant;

const COUNTER: ContractKey<'static> = ContractKey::new("test:counter/counter", 1);
const RELAY: ContractKey<'static> = ContractKey::new("test:relay/relay", 1);
const V1: Version = Version::new(1, 0, 0);
const INC: u32 = 0;

type DemoResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Writes the bundle (manifest plus a copy of the plugin) into a temporary directory.
fn make_bundle() -> DemoResult<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::copy(
        env!("POLYPLUG_DEMO_PLUGIN"),
        dir.path().join("libdemo_counter.so"),
    )?;
    std::fs::write(
        dir.path().join("bundle.toml"),
        r#"name = "demo-counter"
version = "1.0.0"
loader = "native"
library = "libdemo_counter.so"
description = "A counter and a relay written in C against the raw ABI"
provides = ["test:counter/counter@1.2.0", "test:relay/relay@1.0.0"]
"#,
    )?;
    Ok(dir)
}

/// Runs `calls` dependent increments through `f` and returns (final value, ns per call).
fn measure(calls: u32, mut f: impl FnMut(u32) -> Result<u32, Error>) -> DemoResult<(u32, f64)> {
    let start = Instant::now();
    let mut x = 0u32;
    for _ in 0..calls {
        x = f(x)?;
    }
    Ok((x, start.elapsed().as_nanos() as f64 / calls.max(1) as f64))
}

pub(crate) fn run(calls: u32) -> DemoResult<()> {
    let rt = Runtime::builder()
        .max_log_level(LogLevel::Info)
        .log_callback(|level, target, message| eprintln!("[{level:?}] {target}: {message}"))
        .build()?;
    let bundle = make_bundle()?;
    rt.load_bundle(bundle.path())?;
    for b in rt.bundles() {
        let provides: Vec<String> = b
            .manifest
            .provides
            .iter()
            .map(ToString::to_string)
            .collect();
        println!(
            "bundle {} {} (loader {}): {}",
            b.manifest.name,
            b.manifest.version,
            b.manifest.loader,
            provides.join(", ")
        );
    }
    let counter = rt.find(COUNTER, &V1)?;
    let relay = rt.find(RELAY, &V1)?;
    let mut cx = rt.call_context()?;

    let cached = rt.resolve(counter)?;
    let inc = cached.func(INC).ok_or("the counter has no inc")?;
    let provider = cached.interface().provider;
    let (cached_result, cached_ns) = measure(calls, |x| {
        let mut out = 0u32;
        // SAFETY: `inc` takes a `u32` argument struct and returns a `u32`.
        let status = unsafe {
            inc(
                provider,
                &x as *const u32 as *const c_void,
                &mut out as *mut u32 as *mut c_void,
                cx.begin(),
            )
        };
        match status {
            0 => Ok(out),
            s => Err(Error::InvalidArgument(format!(
                "inc failed with status {s}"
            ))),
        }
    })?;
    let call = |h: Handle, cx: &mut polyplug::CallContext, x: u32| -> Result<u32, Error> {
        let mut out = 0u32;
        // SAFETY: both functions take a `u32` argument struct and return a `u32`.
        unsafe { rt.call_typed(h, INC, &x, &mut out, cx) }?;
        Ok(out)
    };
    let (call_result, call_ns) = measure(calls, |x| call(counter, &mut cx, x))?;
    let (relay_result, relay_ns) = measure(calls / 10, |x| call(relay, &mut cx, x))?;

    println!();
    println!(
        "{:<52} {:>10} {:>10} {:>10}",
        "path", "calls", "ns/call", "result"
    );
    for (path, n, ns, result) in [
        (
            "cached interface (resolved once, direct call)",
            calls,
            cached_ns,
            cached_result,
        ),
        (
            "Runtime::call (resolve + size check every call)",
            calls,
            call_ns,
            call_result,
        ),
        (
            "C relay -> host find + resolve -> C counter",
            calls / 10,
            relay_ns,
            relay_result,
        ),
    ] {
        println!("{path:<52} {n:>10} {ns:>10.1} {result:>10}");
    }

    let mut greeting = Str::EMPTY;
    // SAFETY: greet takes a string view and returns one, living in `cx`'s arena.
    unsafe { rt.call_typed(counter, 4, &Str::new("demo"), &mut greeting, &mut cx) }?;
    // SAFETY: the view is valid until the next call on `cx`.
    println!("\ngreet(\"demo\") -> {:?}", unsafe { greeting.to_str() }?);
    let data = [3u8; 4096];
    let mut len = 0u64;
    // SAFETY: sum-len takes a byte view and returns a u64.
    unsafe { rt.call_typed(counter, 2, &Bytes::new(&data), &mut len, &mut cx) }?;
    println!("sum-len(4096 bytes) -> {len}");
    for (name, index) in [("fail", 5), ("boom", 7)] {
        // SAFETY: both take and return nothing.
        match unsafe { rt.call_typed(counter, index, &(), &mut (), &mut cx) } {
            Err(e) => println!("{name}() -> error, the host lives on: {e}"),
            Ok(()) => println!("{name}() -> unexpectedly succeeded"),
        }
    }
    Ok(())
}
