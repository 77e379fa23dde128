//! The panic guard of every `extern "C"` function of the runtime: the loader kit's, so the
//! runtime and every loader catch panics the same way.

pub(crate) use polyplug_loader::ffi::guard;
