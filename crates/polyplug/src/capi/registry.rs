//! C API: host contracts, find, find_all and resolve.

use super::{c_str, fail, fail_with, guarded, non_null};
use crate::contract::ContractKey;
use crate::inner::write_find_all;
use crate::runtime::Runtime;
use polyplug_abi::{contract_id, Handle, Interface, Status, Version};
use std::ffi::c_char;

/// The id of contract `name` at major version `major` (FNV-1a 64 of `name@major`); 0 for NULL.
///
/// # Safety
/// `name` null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pp_contract_id(name: *const c_char, major: u32) -> u64 {
    // SAFETY: null or NUL-terminated.
    match unsafe { c_str(name, "name") } {
        Ok(n) => contract_id(n, major),
        Err(_) => 0,
    }
}

/// Registers a host provider that plugins find like any other. The runtime copies `iface` and
/// its function table; the contract description and `iface->provider` must stay valid until
/// the provider is unregistered or the runtime freed.
///
/// # Safety
/// `rt` null or live; `iface` null or valid; `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pp_register_host(
    rt: *const Runtime,
    iface: *const Interface,
    priority: i32,
    out: *mut Handle,
) -> u32 {
    guarded(|| {
        // SAFETY: null or live.
        let Some(rt) = (unsafe { rt.as_ref() }) else {
            return fail_with(Status::NullPointer, "rt is NULL");
        };
        if let Err(code) = non_null(iface, "iface") {
            return code;
        }
        // SAFETY: the host vouches for the interface and its lifetime.
        match unsafe { rt.register_host_providers_raw(&[(iface, priority)]) } {
            Ok(h) => {
                if let (Some(&h), false) = (h.first(), out.is_null()) {
                    // SAFETY: non-null, writable.
                    unsafe { out.write(h) };
                }
                Status::Ok.raw()
            }
            Err(e) => fail(&e),
        }
    })
}

/// Unregisters a host provider; its handles become stale.
///
/// # Safety
/// `rt` null or live; `handle` null or valid.
#[no_mangle]
pub unsafe extern "C" fn pp_unregister_host(rt: *const Runtime, handle: *const Handle) -> u32 {
    guarded(|| {
        // SAFETY: null or live / valid.
        let (Some(rt), Some(h)) = (unsafe { rt.as_ref() }, unsafe { handle.as_ref() }) else {
            return fail_with(Status::NullPointer, "rt or handle is NULL");
        };
        match rt.unregister_host_provider(*h) {
            Ok(()) => Status::Ok.raw(),
            Err(e) => fail(&e),
        }
    })
}

/// # Safety
/// As for the public functions using it.
unsafe fn lookup<'a>(
    rt: *const Runtime,
    contract: *const c_char,
    min: *const Version,
) -> Result<(&'a Runtime, ContractKey<'a>, Version), u32> {
    // SAFETY: null or live.
    let rt = unsafe { rt.as_ref() }.ok_or_else(|| fail_with(Status::NullPointer, "rt is NULL"))?;
    // SAFETY: null or NUL-terminated.
    let name = unsafe { c_str(contract, "contract") }?;
    // SAFETY: null or valid.
    let min = unsafe { non_null(min, "min_version")?.read() };
    Ok((rt, ContractKey::new(name, min.major), min))
}

/// Finds the highest-priority provider of `contract` (`package:interface`) whose version
/// satisfies `*min_version`. Returns `PP_STATUS_NOT_FOUND` when none does.
///
/// # Safety
/// `rt` null or live; `contract` null or NUL-terminated; the others null or valid.
#[no_mangle]
pub unsafe extern "C" fn pp_find(
    rt: *const Runtime,
    contract: *const c_char,
    min_version: *const Version,
    out: *mut Handle,
) -> u32 {
    guarded(|| {
        // SAFETY: forwarded.
        let (rt, key, min) = match unsafe { lookup(rt, contract, min_version) } {
            Ok(x) => x,
            Err(code) => return code,
        };
        if out.is_null() {
            return fail_with(Status::NullPointer, "out is NULL");
        }
        match rt.find(key, &min) {
            Ok(h) => {
                // SAFETY: non-null, writable.
                unsafe { out.write(h) };
                Status::Ok.raw()
            }
            Err(e) => fail(&e),
        }
    })
}

/// Writes up to `capacity` providers of `contract` satisfying `*min_version` to `out`, highest
/// priority first, and their total number to `*count`. Returns `PP_STATUS_BUFFER_TOO_SMALL`
/// when `capacity` was short (the first `capacity` are still written). With `out == NULL` and
/// `capacity == 0` it only counts, and returns `PP_STATUS_OK`.
///
/// # Safety
/// `out` must hold `capacity` handles; the others null or valid.
#[no_mangle]
pub unsafe extern "C" fn pp_find_all(
    rt: *const Runtime,
    contract: *const c_char,
    min_version: *const Version,
    out: *mut Handle,
    capacity: usize,
    count: *mut usize,
) -> u32 {
    guarded(|| {
        // SAFETY: forwarded.
        let (rt, key, min) = match unsafe { lookup(rt, contract, min_version) } {
            Ok(x) => x,
            Err(code) => return code,
        };
        if count.is_null() || (out.is_null() && capacity > 0) {
            return fail_with(
                Status::NullPointer,
                "count is NULL, or out is NULL with a non-zero capacity",
            );
        }
        // SAFETY: `out` holds `capacity` handles and `count` is writable.
        let code = unsafe { write_find_all(rt.inner(), key, &min, out, capacity, count) };
        if code == Status::BufferTooSmall.raw() {
            return fail_with(
                Status::BufferTooSmall,
                "more providers than capacity; *count has the total",
            );
        }
        code
    })
}

/// Resolves a handle to the provider's interface (the runtime's validated copy) and, if
/// `out_revision` is not NULL, to its slot's revision word. The interface stays valid until the
/// provider is unregistered; read the revision with `pp_revision_load` and resolve again when it
/// changes. A stale handle gives `PP_STATUS_STALE_HANDLE`.
///
/// # Safety
/// `rt` null or live; the others null or valid.
#[no_mangle]
pub unsafe extern "C" fn pp_resolve(
    rt: *const Runtime,
    handle: *const Handle,
    out_iface: *mut *const Interface,
    out_revision: *mut *const u32,
) -> u32 {
    guarded(|| {
        // SAFETY: null or live / valid.
        let (Some(rt), Some(h)) = (unsafe { rt.as_ref() }, unsafe { handle.as_ref() }) else {
            return fail_with(Status::NullPointer, "rt or handle is NULL");
        };
        if out_iface.is_null() {
            return fail_with(Status::NullPointer, "out_iface is NULL");
        }
        // SAFETY: `out_iface` checked non-null; `out_revision` null or writable.
        match unsafe { rt.inner().write_cached(*h, out_iface, out_revision) } {
            Status::Ok => Status::Ok.raw(),
            _ => fail(&crate::ErrorKind::StaleHandle { handle: *h }.into()),
        }
    })
}
