//! The log funnel: every record from plugins, loaders and the runtime goes through here.
//!
//! A record above the configured level costs one integer compare, checked before any
//! formatting; plugins read the same level from `HostApi::max_log_level` and skip formatting too.
//! The default sink is the `log` crate; a Rust closure or a C callback can replace it.

use polyplug_abi::{LogFn, LogLevel, Str};
use std::ffi::c_void;

/// A Rust log sink: `(level, target, message)`.
pub type LogCallback = Box<dyn Fn(LogLevel, &str, &str) + Send + Sync>;

pub(crate) enum Sink {
    /// Forward to the `log` crate.
    LogCrate,
    /// A Rust closure.
    Rust(LogCallback),
    /// A C callback with its user pointer and optional finaliser.
    C {
        f: LogFn,
        user: *mut c_void,
        free: Option<unsafe extern "C" fn(*mut c_void)>,
    },
}

pub(crate) struct LogFunnel {
    max: u32,
    sink: Sink,
}

// SAFETY: the C sink's contract (docs/ABI.md) is that the callback and its user pointer may
// be used from any thread; the other sinks are Send + Sync.
unsafe impl Send for LogFunnel {}
// SAFETY: as above.
unsafe impl Sync for LogFunnel {}

impl LogFunnel {
    pub(crate) fn new(max: LogLevel, sink: Sink) -> LogFunnel {
        LogFunnel {
            max: max as u32,
            sink,
        }
    }

    pub(crate) fn max_level(&self) -> LogLevel {
        LogLevel::from_raw(self.max)
    }

    /// True when a record at `level` would be delivered.
    #[inline]
    pub(crate) fn enabled(&self, level: u32) -> bool {
        level != 0 && level <= self.max
    }

    /// Delivers a record if its level is enabled.
    #[inline]
    pub(crate) fn log(&self, level: LogLevel, target: &str, message: &str) {
        if self.enabled(level as u32) {
            self.deliver(level, target, message);
        }
    }

    /// Delivers a record without checking its level (the caller did).
    pub(crate) fn deliver(&self, level: LogLevel, target: &str, message: &str) {
        match &self.sink {
            Sink::LogCrate => {
                let lvl = match level {
                    LogLevel::Off => return,
                    LogLevel::Error => log::Level::Error,
                    LogLevel::Warn => log::Level::Warn,
                    LogLevel::Info => log::Level::Info,
                    LogLevel::Debug => log::Level::Debug,
                    LogLevel::Trace => log::Level::Trace,
                };
                log::log!(target: "polyplug", lvl, "[{target}] {message}");
            }
            Sink::Rust(f) => f(level, target, message),
            Sink::C { f, user, .. } => {
                let (t, m) = (Str::new(target), Str::new(message));
                // SAFETY: the views borrow live strings for the duration of the call, and the
                // host promised the callback accepts its own user pointer.
                unsafe { f(*user, level as u32, &t, &m) };
            }
        }
    }
}

impl Drop for LogFunnel {
    fn drop(&mut self) {
        if let Sink::C {
            user,
            free: Some(free),
            ..
        } = self.sink
        {
            // SAFETY: the host asked for `free` to be called once with its user pointer when
            // the runtime is destroyed.
            unsafe { free(user) };
        }
    }
}
