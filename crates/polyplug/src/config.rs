//! Runtime configuration and its builder.

use crate::events::{ReloadCallback, ReloadEvent, ReloadSink};
use crate::log::{LogCallback, Sink};
use polyplug_abi::LogLevel;

/// Builds a [`crate::Runtime`] (with `build`).
///
/// ```
/// use polyplug::{LogLevel, Runtime};
/// let rt = Runtime::builder()
///     .max_log_level(LogLevel::Debug)
///     .log_callback(|level, target, message| eprintln!("{level:?} {target}: {message}"))
///     .build()
///     .expect("runtime");
/// assert_eq!(rt.bundle_count(), 0);
/// ```
pub struct RuntimeBuilder {
    pub(crate) max_log_level: LogLevel,
    pub(crate) sink: Sink,
    pub(crate) hot_reload: bool,
    pub(crate) call_arena_size: usize,
    pub(crate) native_loader: bool,
    pub(crate) reload_sink: ReloadSink,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        RuntimeBuilder {
            max_log_level: LogLevel::Info,
            sink: Sink::LogCrate,
            hot_reload: false,
            call_arena_size: polyplug_abi::CallArena::DEFAULT_PRIMARY,
            native_loader: true,
            reload_sink: ReloadSink::None,
        }
    }
}

impl RuntimeBuilder {
    /// A builder with the defaults: level `Info`, records to the `log` crate, reload off,
    /// 4 KiB call arenas, the native loader registered.
    pub fn new() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// The most verbose level delivered; records above it cost one compare.
    pub fn max_log_level(mut self, level: LogLevel) -> Self {
        self.max_log_level = level;
        self
    }

    /// Sends log records to `f` instead of the `log` crate.
    pub fn log_callback(
        mut self,
        f: impl Fn(LogLevel, &str, &str) + Send + Sync + 'static,
    ) -> Self {
        let cb: LogCallback = Box::new(f);
        self.sink = Sink::Rust(cb);
        self
    }

    pub(crate) fn c_log_sink(mut self, sink: Sink) -> Self {
        self.sink = sink;
        self
    }

    /// Allows bundles to be reloaded while the host runs (off by default).
    pub fn hot_reload(mut self, on: bool) -> Self {
        self.hot_reload = on;
        self
    }

    /// Calls `f` with each phase of every reload (preparing, reloaded, failed).
    pub fn on_reload(mut self, f: impl Fn(&ReloadEvent<'_>) + Send + Sync + 'static) -> Self {
        let cb: ReloadCallback = Box::new(f);
        self.reload_sink = ReloadSink::Rust(cb);
        self
    }

    pub(crate) fn c_reload_sink(mut self, sink: ReloadSink) -> Self {
        self.reload_sink = sink;
        self
    }

    /// First-block size of the call arenas the runtime creates.
    pub fn call_arena_size(mut self, bytes: usize) -> Self {
        self.call_arena_size = bytes;
        self
    }

    /// Whether to register the built-in native loader (on by default).
    pub fn native_loader(mut self, on: bool) -> Self {
        self.native_loader = on;
        self
    }
}
