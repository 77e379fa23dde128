//! The host API table handed to plugins and loaders, and the registration transaction.
//!
//! Every function here is `extern "C"`, never unwinds, and validates its pointers: a plugin
//! that passes null or garbage it can be caught at gets a status, not a crash.

use crate::contract::ContractKey;
use crate::error::Error;
use crate::ffi;
use crate::inner::{write_find_all, Inner};
use crate::registry::PendingProvider;
use crossbeam_epoch as epoch;
use polyplug_abi::{
    CallCtx, Capability, Handle, HostApi, Interface, LogLevel, Registrar, Status, Str, Version,
    ABI_VERSION,
};
use polyplug_loader::ffi::view_str;
use std::ffi::c_void;

/// Marks a live [`Transaction`], so a stray registrar pointer is refused instead of trusted.
const TXN_MAGIC: u64 = 0x7070_7478_6e5f_7631; // "pptxn_v1"

/// The providers a bundle registers during its init: committed all at once, or dropped.
#[repr(C)]
pub(crate) struct Transaction {
    magic: u64,
    pub(crate) owner: String,
    pub(crate) pending: Vec<PendingProvider>,
    /// The first failure seen; it fails the whole load even if init returns `Ok`.
    pub(crate) error: Option<Error>,
}

impl Transaction {
    pub(crate) fn new(owner: &str) -> Transaction {
        Transaction {
            magic: TXN_MAGIC,
            owner: owner.to_owned(),
            pending: Vec::new(),
            error: None,
        }
    }

    pub(crate) fn as_registrar(&mut self) -> *mut Registrar {
        self as *mut Transaction as *mut Registrar
    }

    /// The transaction behind a registrar pointer, if it is one of ours and still open.
    ///
    /// # Safety
    /// `reg` must be null or point to readable memory of at least 8 bytes.
    pub(crate) unsafe fn from_registrar<'a>(reg: *mut Registrar) -> Option<&'a mut Transaction> {
        let txn = reg as *mut Transaction;
        // SAFETY: checked for null; the magic is read before anything else is trusted.
        if txn.is_null() || unsafe { (txn as *const u64).read() } != TXN_MAGIC {
            return None;
        }
        // SAFETY: the magic identifies a live transaction made by `Transaction::new`.
        Some(unsafe { &mut *txn })
    }

    /// Records a failure (the first one wins) and returns its status.
    pub(crate) fn fail(&mut self, e: Error) -> u32 {
        let status = e.status().raw();
        self.error.get_or_insert(e);
        status
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.magic = 0;
    }
}

/// Builds the table for a runtime. `context` is the runtime's `Inner`, set once it has an address.
pub(crate) fn table(max_log_level: LogLevel) -> HostApi {
    HostApi {
        struct_size: std::mem::size_of::<HostApi>() as u32,
        abi_version: ABI_VERSION,
        max_log_level: max_log_level as u32,
        flags: 0,
        context: std::ptr::null_mut(),
        capability: Some(host_capability),
        log: Some(host_log),
        register_provider: Some(host_register_provider),
        find: Some(host_find),
        find_all: Some(host_find_all),
        resolve: Some(host_resolve),
        set_error: Some(host_set_error),
        call: Some(host_call),
        guard_enter: Some(host_guard_enter),
        guard_exit: Some(host_guard_exit),
    }
}

/// The runtime behind a host table.
///
/// # Safety
/// `host` must be null or a table made by [`table`] whose runtime is alive.
unsafe fn inner<'a>(host: *const HostApi) -> Option<&'a Inner> {
    // SAFETY: forwarded to the caller; `context` points to the owning runtime's `Inner`.
    unsafe { (host.as_ref()?.context as *const Inner).as_ref() }
}

/// The contract key and minimum version of a lookup from a plugin.
///
/// # Safety
/// The pointers must be null or valid.
unsafe fn lookup_args<'a>(
    contract: *const Str,
    min: *const Version,
) -> Result<(ContractKey<'a>, Version), u32> {
    // SAFETY: forwarded to the caller.
    let (Some(c), Some(min)) = (unsafe { contract.as_ref() }, unsafe { min.as_ref() }) else {
        return Err(Status::NullPointer.raw());
    };
    // SAFETY: a plugin's view of a string it owns.
    let name = unsafe { view_str(c) }.map_err(|_| Status::InvalidArgument.raw())?;
    Ok((ContractKey::new(name, min.major), *min))
}

unsafe extern "C" fn host_capability(host: *const HostApi, cap: u32) -> u32 {
    // SAFETY: a table the runtime handed out.
    if unsafe { inner(host) }.is_none() {
        return 0;
    }
    match cap {
        c if c == Capability::Log as u32 => 1,
        c if c == Capability::Registry as u32 => 1,
        c if c == Capability::HostContracts as u32 => 1,
        c if c == Capability::CallArena as u32 => 1,
        c if c == Capability::GuardedCall as u32 => 1,
        c if c == Capability::HotReload as u32 => {
            // SAFETY: a table the runtime handed out (checked above).
            unsafe { inner(host) }.map_or(0, |rt| u32::from(rt.hot_reload))
        }
        _ => 0,
    }
}

unsafe extern "C" fn host_log(
    host: *const HostApi,
    level: u32,
    target: *const Str,
    message: *const Str,
) {
    // SAFETY: a table the runtime handed out.
    let Some(rt) = (unsafe { inner(host) }) else {
        return;
    };
    if !rt.log.enabled(level) {
        return;
    }
    ffi::guard(
        || {
            // Borrowed when the text is valid UTF-8 (the usual case): no allocation per record.
            let text = |v: *const Str| -> std::borrow::Cow<'_, str> {
                // SAFETY: the plugin's views are null or valid for this call.
                match unsafe { v.as_ref() } {
                    Some(v) if !v.is_malformed() => {
                        // SAFETY: as above.
                        String::from_utf8_lossy(unsafe { v.as_bytes() })
                    }
                    _ => std::borrow::Cow::Borrowed(""),
                }
            };
            rt.log
                .deliver(LogLevel::from_raw(level), &text(target), &text(message));
            0
        },
        |_| {},
    );
}

unsafe extern "C" fn host_register_provider(
    host: *const HostApi,
    reg: *mut Registrar,
    iface: *const Interface,
) -> u32 {
    // SAFETY: a table the runtime handed out.
    if unsafe { inner(host) }.is_none() {
        return Status::NullPointer.raw();
    }
    // SAFETY: a registrar handed out for this init, or garbage we refuse by its magic.
    let Some(txn) = (unsafe { Transaction::from_registrar(reg) }) else {
        return Status::InvalidArgument.raw();
    };
    ffi::guard(
        || {
            // SAFETY: the plugin's interface is null or valid while its bundle is loaded.
            match unsafe { PendingProvider::from_peer(iface, &txn.owner) } {
                Ok(p) => {
                    txn.pending.push(p);
                    Status::Ok.raw()
                }
                Err(e) => txn.fail(e),
            }
        },
        |_| {},
    )
}

unsafe extern "C" fn host_find(
    host: *const HostApi,
    contract: *const Str,
    min: *const Version,
    out: *mut Handle,
) -> u32 {
    // SAFETY: a table the runtime handed out.
    let Some(rt) = (unsafe { inner(host) }) else {
        return Status::NullPointer.raw();
    };
    if out.is_null() {
        return Status::NullPointer.raw();
    }
    // SAFETY: the plugin's arguments are null or valid.
    let (key, min) = match unsafe { lookup_args(contract, min) } {
        Ok(a) => a,
        Err(code) => return code,
    };
    let guard = epoch::pin();
    match rt.registry.find(key, &min, &guard) {
        Some(h) => {
            // SAFETY: checked non-null above.
            unsafe { out.write(h) };
            Status::Ok.raw()
        }
        None => Status::NotFound.raw(),
    }
}

unsafe extern "C" fn host_find_all(
    host: *const HostApi,
    contract: *const Str,
    min: *const Version,
    out: *mut Handle,
    capacity: usize,
    count: *mut usize,
) -> u32 {
    // SAFETY: a table the runtime handed out.
    let Some(rt) = (unsafe { inner(host) }) else {
        return Status::NullPointer.raw();
    };
    if count.is_null() || (out.is_null() && capacity > 0) {
        return Status::NullPointer.raw();
    }
    // SAFETY: the plugin's arguments are null or valid.
    let (key, min) = match unsafe { lookup_args(contract, min) } {
        Ok(a) => a,
        Err(code) => return code,
    };
    // SAFETY: `out` holds `capacity` handles and `count` is writable, as the caller promised.
    unsafe { write_find_all(rt, key, &min, out, capacity, count) }
}

unsafe extern "C" fn host_resolve(
    host: *const HostApi,
    handle: *const Handle,
    out_iface: *mut *const Interface,
    out_revision: *mut *const u32,
) -> u32 {
    // SAFETY: a table the runtime handed out.
    let Some(rt) = (unsafe { inner(host) }) else {
        return Status::NullPointer.raw();
    };
    // SAFETY: the plugin's pointers are null or valid.
    let Some(h) = (unsafe { handle.as_ref() }) else {
        return Status::NullPointer.raw();
    };
    if out_iface.is_null() {
        return Status::NullPointer.raw();
    }
    // SAFETY: `out_iface` checked non-null; `out_revision` null or writable.
    unsafe { rt.write_cached(*h, out_iface, out_revision) }.raw()
}

unsafe extern "C" fn host_call(
    host: *const HostApi,
    handle: *const Handle,
    func: u32,
    args: *const c_void,
    ret: *mut c_void,
    ctx: *mut CallCtx,
) -> u32 {
    // SAFETY: a table the runtime handed out.
    let Some(rt) = (unsafe { inner(host) }) else {
        return Status::NullPointer.raw();
    };
    // SAFETY: the plugin's pointer is null or valid.
    let Some(h) = (unsafe { handle.as_ref() }) else {
        return Status::NullPointer.raw();
    };
    // SAFETY: argument and result pointers are the caller's promise, as for any contract call.
    unsafe { rt.call_guarded(*h, func, args, ret, ctx) }
}

unsafe extern "C" fn host_guard_enter() {
    crate::guard::enter_raw();
}

unsafe extern "C" fn host_guard_exit() {
    crate::guard::exit_raw();
}

unsafe extern "C" fn host_set_error(ctx: *mut CallCtx, message: *const u8, len: usize) {
    // SAFETY: the plugin passes the context of its current call (or null).
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return;
    };
    let bytes = if message.is_null() || len == 0 {
        &[][..]
    } else {
        // SAFETY: the plugin promises `len` readable bytes.
        unsafe { std::slice::from_raw_parts(message, len) }
    };
    // SAFETY: the context's arena is null or live for the current call.
    unsafe { ctx.set_error(bytes) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_layout_puts_the_magic_first() {
        // `from_registrar` reads the magic at offset 0 before trusting anything else.
        assert_eq!(std::mem::offset_of!(Transaction, magic), 0);
        assert_eq!(
            std::mem::align_of::<Transaction>(),
            std::mem::align_of::<u64>().max(std::mem::align_of::<usize>())
        );
        let mut t = Transaction::new("x");
        let reg = t.as_registrar();
        // SAFETY: `reg` points to a live transaction.
        assert!(unsafe { Transaction::from_registrar(reg) }.is_some());
        let bogus = [0u64; 4];
        // SAFETY: 32 readable bytes without the magic.
        assert!(unsafe { Transaction::from_registrar(bogus.as_ptr() as *mut Registrar) }.is_none());
        // SAFETY: null is allowed.
        assert!(unsafe { Transaction::from_registrar(std::ptr::null_mut()) }.is_none());
    }

    #[test]
    fn table_offers_its_capabilities() {
        let rt = crate::Runtime::new().expect("runtime");
        let host = rt.host_api();
        // SAFETY: the runtime's own table.
        let cap = unsafe { (*host).capability }.expect("capability entry");
        for c in [
            Capability::Log,
            Capability::Registry,
            Capability::HostContracts,
            Capability::CallArena,
        ] {
            // SAFETY: as above.
            assert_eq!(unsafe { cap(host, c as u32) }, 1, "{c:?}");
        }
        // SAFETY: as above.
        assert_eq!(unsafe { cap(host, Capability::GuardedCall as u32) }, 1);
        // Reload is off unless configured.
        // SAFETY: as above.
        assert_eq!(unsafe { cap(host, Capability::HotReload as u32) }, 0);
        let hot = crate::Runtime::builder()
            .hot_reload(true)
            .build()
            .expect("runtime");
        assert_eq!(
            // SAFETY: that runtime's own table.
            unsafe { cap(hot.host_api(), Capability::HotReload as u32) },
            1
        );
        // SAFETY: as above.
        assert_eq!(unsafe { cap(host, 999) }, 0);
        // SAFETY: a null table answers 0 instead of crashing.
        assert_eq!(unsafe { cap(std::ptr::null(), 1) }, 0);
    }
}
