//! The host table as a safe handle: what a loader (and the code it runs) uses to log, find and
//! call other providers.

use crate::ffi::set_error;
use polyplug_abi::{
    abi_major_of, CallCtx, Capability, Handle, HostApi, LogLevel, Status, Str, Version, ABI_MAJOR,
};
use std::ffi::c_void;
use std::mem::{offset_of, size_of};

/// The runtime's host table, checked once: valid until the bundle it was handed with is
/// unloaded (the ABI's promise), and usable from any thread.
#[derive(Clone, Copy, Debug)]
pub struct Host {
    api: *const HostApi,
}

// SAFETY: the host table is immutable and its functions are thread-safe (ABI rule).
unsafe impl Send for Host {}
// SAFETY: as above.
unsafe impl Sync for Host {}

/// The first published size of the host table: everything up to `guard_exit`.
const HOST_API_V1: usize = offset_of!(HostApi, guard_exit) + size_of::<usize>();

impl Host {
    /// Checks a host table: non-null, of our ABI major, at least the first published size.
    ///
    /// # Safety
    /// `api` must be null or point to a host table that stays valid while the `Host` is used.
    pub unsafe fn from_raw(api: *const HostApi) -> Result<Host, String> {
        // SAFETY: forwarded to the caller.
        let Some(t) = (unsafe { api.as_ref() }) else {
            return Err("the host table is null".into());
        };
        if abi_major_of(t.abi_version) != ABI_MAJOR {
            return Err(format!(
                "the host speaks ABI {:#x}, this loader ABI major {ABI_MAJOR}",
                t.abi_version
            ));
        }
        if (t.struct_size as usize) < HOST_API_V1 {
            return Err(format!(
                "the host table is {} bytes, smaller than the first published {HOST_API_V1}",
                t.struct_size
            ));
        }
        Ok(Host { api })
    }

    /// The raw table, for code that calls it directly (a native plugin's init).
    pub fn as_raw(&self) -> *const HostApi {
        self.api
    }

    fn table(&self) -> &HostApi {
        // SAFETY: checked in `from_raw`; valid while the bundle is loaded.
        unsafe { &*self.api }
    }

    /// The version of a capability the host offers, or 0.
    pub fn capability(&self, cap: Capability) -> u32 {
        match self.table().capability {
            // SAFETY: the host's own function, called with its own table.
            Some(f) => unsafe { f(self.api, cap as u32) },
            None => 0,
        }
    }

    /// True when a record at `level` would be delivered: check before formatting one.
    #[inline]
    pub fn log_enabled(&self, level: LogLevel) -> bool {
        level != LogLevel::Off && (level as u32) <= self.table().max_log_level
    }

    /// Sends a record through the runtime's log funnel.
    pub fn log(&self, level: LogLevel, target: &str, message: &str) {
        if !self.log_enabled(level) {
            return;
        }
        if let Some(f) = self.table().log {
            let (target, message) = (Str::new(target), Str::new(message));
            // SAFETY: the host's function, with views valid for the call.
            unsafe { f(self.api, level as u32, &target, &message) };
        }
    }

    /// The highest-priority provider of `contract` compatible with `min`.
    pub fn find(&self, contract: &str, min: Version) -> Result<Handle, Status> {
        let f = self.table().find.ok_or(Status::Unsupported)?;
        let name = Str::new(contract);
        let mut out = Handle::NULL;
        // SAFETY: the host's function, with arguments valid for the call.
        match Status::from_raw(unsafe { f(self.api, &name, &min, &mut out) }) {
            Status::Ok => Ok(out),
            s => Err(s),
        }
    }

    /// The guarded call through the host table: resolves `handle`, pins the provider for the
    /// call and calls function `func`.
    ///
    /// # Safety
    /// `args` and `ret` must point to the function's argument and result structs, and `ctx` to
    /// a live call context, as for any contract call.
    pub unsafe fn call(
        &self,
        handle: Handle,
        func: u32,
        args: *const c_void,
        ret: *mut c_void,
        ctx: *mut CallCtx,
    ) -> Status {
        let Some(f) = self.table().call else {
            // SAFETY: the caller's live context.
            unsafe { set_error(ctx, "the host offers no guarded call") };
            return Status::Unsupported;
        };
        // SAFETY: forwarded to the caller.
        Status::from_raw(unsafe { f(self.api, &handle, func, args, ret, ctx) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_tables_are_refused() {
        // SAFETY: null is allowed.
        assert!(unsafe { Host::from_raw(std::ptr::null()) }.is_err());
        let mut t = HostApi {
            struct_size: size_of::<HostApi>() as u32,
            abi_version: polyplug_abi::abi_version(9, 0),
            max_log_level: 0,
            flags: 0,
            context: std::ptr::null_mut(),
            capability: None,
            log: None,
            register_provider: None,
            find: None,
            find_all: None,
            resolve: None,
            set_error: None,
            call: None,
            guard_enter: None,
            guard_exit: None,
        };
        // SAFETY: a live table.
        assert!(unsafe { Host::from_raw(&t) }.unwrap_err().contains("ABI"));
        t.abi_version = polyplug_abi::ABI_VERSION;
        t.struct_size = 8;
        // SAFETY: as above.
        assert!(unsafe { Host::from_raw(&t) }
            .unwrap_err()
            .contains("smaller"));
        t.struct_size = size_of::<HostApi>() as u32;
        // SAFETY: as above.
        let host = unsafe { Host::from_raw(&t) }.expect("valid");
        assert_eq!(host.capability(Capability::Log), 0);
        assert_eq!(
            host.find("a:b/c", Version::new(1, 0, 0)),
            Err(Status::Unsupported)
        );
        assert!(!host.log_enabled(LogLevel::Error));
        host.log(LogLevel::Error, "t", "dropped: level 0 delivers nothing");
    }
}
