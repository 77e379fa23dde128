//! What the host callers `polyplugc` generates build on: a call path ([`Invoke`]) per way of
//! calling (guarded, cached, per instance), and the call site a failure reports.

use super::{codec, CallContext};
use crate::error::{Error, ErrorKind, Result};
use polyplug_abi::Interface;
use std::ffi::c_void;

/// The contract and function a typed call is for: what a failure reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallSite {
    /// The contract's name (`test:shapes/geometry`).
    pub contract: &'static str,
    /// The function's name (`parse-point`).
    pub function: &'static str,
}

impl CallSite {
    /// `Ok` for a call that returned status 0, else [`CallSite::failed`].
    #[inline(always)]
    pub(super) fn check(&self, status: u32, cx: &CallContext) -> Result<()> {
        if status == 0 {
            Ok(())
        } else {
            Err(self.failed(status, cx))
        }
    }

    /// The failure of a call that returned `status`, with the message it left in `cx`.
    #[cold]
    #[inline(never)]
    pub fn failed(&self, status: u32, cx: &CallContext) -> Error {
        let status = polyplug_abi::Status::from_raw(status);
        ErrorKind::CallFailed {
            contract: self.contract.to_owned(),
            function: self.function.to_owned(),
            status,
            message: cx
                .error_message()
                .unwrap_or_else(|| status.description().to_string_lossy().into_owned()),
        }
        .into()
    }

    /// The failure of a call whose result broke the contract (a bad tag, `char`, view...).
    #[cold]
    #[inline(never)]
    pub fn malformed(&self, e: codec::Malformed) -> Error {
        ErrorKind::CallFailed {
            contract: self.contract.to_owned(),
            function: self.function.to_owned(),
            status: polyplug_abi::Status::InvalidArgument,
            message: format!("malformed result: {e}"),
        }
        .into()
    }
}

/// A way of calling a provider's functions by index: what a generated typed caller is generic
/// over. Implemented by [`super::GuardedProvider`] (the default), [`super::ResolvedProvider`] (cached, opt-in)
/// and [`super::ProviderInstance`] (a stateful provider's instance, guarded).
pub trait Invoke {
    /// Calls function `index` with the context `cx` as it is: the caller started the call with
    /// [`CallContext::begin`] and may have encoded arguments into `cx`'s arena since. A failure
    /// status becomes [`ErrorKind::CallFailed`] with the provider's message; a provider that is gone
    /// is [`ErrorKind::StaleHandle`].
    ///
    /// # Safety
    /// `index` must be below the contract's function count (the generated caller checked the
    /// contract when it was made), and `args`/`ret` must point to that function's argument and
    /// result structs, laid out by the contract's C layout.
    unsafe fn invoke(
        &mut self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        cx: &mut CallContext,
        site: &CallSite,
    ) -> Result<()>;
}

/// The error of a call through a provider that is gone. Out of line: it allocates.
#[cold]
#[inline(never)]
pub(super) fn stale(handle: polyplug_abi::Handle) -> Error {
    ErrorKind::StaleHandle { handle }.into()
}

/// Calls `f` of `iface` and maps its status.
///
/// # Safety
/// `iface` is live for the call; `index`, `args` and `ret` as for [`Invoke::invoke`].
#[inline(always)]
pub(super) unsafe fn invoke_on(
    iface: &Interface,
    instance: *mut c_void,
    index: u32,
    args: *const c_void,
    ret: *mut c_void,
    cx: &mut CallContext,
) -> u32 {
    // SAFETY: `index < func_count` (the caller's promise); the runtime's copy of the table holds
    // no null entry.
    unsafe {
        let f = (*iface.funcs.add(index as usize)).unwrap_unchecked();
        f(instance, args, ret, cx.current())
    }
}

/// Includes the host caller that `polyplugc::build::rust_host` generated for a contract, by
/// its file stem: `include_caller!("test_shapes_geometry")` includes
/// `$OUT_DIR/polyplug/test_shapes_geometry_host.rs`. Use it inside a module of its own.
#[macro_export]
macro_rules! include_caller {
    ($stem:literal) => {
        include!(concat!(env!("OUT_DIR"), "/polyplug/", $stem, "_host.rs"));
    };
}
