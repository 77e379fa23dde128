//! Dynamic calls: any registered contract, by function name, without generated code.
//!
//! The registry keeps every provider's contract model ([`ContractInfo::model`]), read from its
//! descriptor at registration: parameter and result types, WIT signatures and C layouts.
//! [`Runtime::contract_model`] hands it out; with the `json` feature (on by default)
//! [`Runtime::call_json`] marshals JSON arguments into the function's argument struct, calls it
//! on the guarded path and reads the result back into JSON, checking everything the provider
//! returned (see [`crate::model::json`] for the mapping).
//!
//! [`ContractInfo::model`]: crate::ContractInfo::model

use crate::error::{Error, ErrorKind, Result};
use crate::runtime::Runtime;
use polyplug_abi::Handle;
use polyplug_contract::CompiledContract;
use std::sync::Arc;

impl Runtime {
    /// The contract model of the provider `handle` names: its functions with their WIT types
    /// and signatures, and their C layouts. Shared, not copied.
    pub fn contract_model(&self, handle: Handle) -> Result<Arc<CompiledContract>> {
        let guard = crossbeam_epoch::pin();
        self.inner()
            .registry
            .resolve(handle, &guard)
            .map(|e| Arc::clone(&e.contract.model))
            .ok_or(ErrorKind::StaleHandle { handle }.into())
    }
}

#[cfg(feature = "json")]
mod json {
    use super::*;
    use crate::call::CallContext;
    use crate::guard;
    use polyplug_abi::{CallArena, Status};
    use polyplug_contract::json::{decode_result, encode_args, RetBuffer};
    use serde_json::Value;

    /// First block of the arena that holds a dynamic call's strings and lists.
    const ARGS_ARENA: usize = 1024;

    impl Runtime {
        /// Calls the function named `function` of the provider `handle` names, with JSON
        /// arguments (an array in parameter order, or an object keyed by parameter name), and
        /// returns its result as JSON (`null` for a function without one). The JSON mapping is
        /// [`crate::model::json`]'s.
        ///
        /// The call takes the guarded path, like [`Runtime::call`]: it is safe against a
        /// concurrent reload or unload, and the arguments are marshalled, the function called
        /// and its result read all against the one registration the handle named when the call
        /// began. Arguments live in an arena of their own, so the result, which the provider
        /// writes into `cx`'s arena, never overwrites them.
        ///
        /// Errors: [`ErrorKind::StaleHandle`] for a handle whose provider is gone;
        /// [`ErrorKind::InvalidArgument`] for an unknown function (the message lists the contract's
        /// functions) or arguments that do not fit its parameters (the message names the
        /// parameter path, `r.origin.x`); [`ErrorKind::CallFailed`] with the provider's status and
        /// message when it fails, or with [`Status::ContractMismatch`] when its result is
        /// malformed (invalid UTF-8, a bad tag, an out-of-range enum index...).
        pub fn call_json(
            &self,
            handle: Handle,
            function: &str,
            args: &Value,
            cx: &mut CallContext,
        ) -> Result<Value> {
            // The section keeps the provider's code and table alive through a concurrent
            // unload; the pin keeps the registry entry (and so its model) alive.
            let _section = guard::enter();
            let pin = crossbeam_epoch::pin();
            let e = self
                .inner()
                .registry
                .resolve(handle, &pin)
                .ok_or(ErrorKind::StaleHandle { handle })?;
            let model = &e.contract.model;
            let contract = model.contract();
            let Some((index, func, layout)) = model.find(function) else {
                let names: Vec<&str> = contract.functions.iter().map(|f| f.name.as_str()).collect();
                return Err(ErrorKind::InvalidArgument(format!(
                    "`{contract}` has no function `{function}`; its functions are: {}",
                    names.join(", ")
                ))
                .into());
            };
            let mut arena = CallArena::new(ARGS_ARENA).ok_or(ErrorKind::OutOfMemory)?;
            let args = encode_args(func, layout, args, &mut arena).map_err(|m| {
                ErrorKind::InvalidArgument(format!("{}.{}: {m}", contract.name, func.name))
            })?;
            let mut ret = RetBuffer::new(layout.ret);
            let invalid =
                || ErrorKind::InvalidArgument(format!("`{contract}` has no function {index}"));
            let index = u32::try_from(index).map_err(|_| invalid())?;
            // SAFETY: the runtime's validated copy of the table, alive while `pin` is held.
            let f = unsafe { e.iface.func(index) }.ok_or_else(invalid)?;
            // SAFETY: `args` and `ret` are laid out by the function's layouts, computed from the
            // very descriptor the provider registered; the entry lives while `pin` is held, and
            // the code while the section is open.
            let status = Status::from_raw(unsafe {
                f(
                    e.iface.provider,
                    args.as_ptr(),
                    ret.as_mut_ptr(),
                    cx.begin(),
                )
            });
            let failed = |status: Status, message: String| -> Error {
                ErrorKind::CallFailed {
                    contract: contract.name.clone(),
                    function: func.name.clone(),
                    status,
                    message,
                }
                .into()
            };
            if status != Status::Ok {
                let message = cx
                    .error_message()
                    .unwrap_or_else(|| status.description().to_string_lossy().into_owned());
                return Err(failed(status, message));
            }
            // SAFETY: `ret` holds the result the provider wrote; its views point into `cx`'s
            // arena (not reset since `begin`) or the provider's memory, which the section keeps.
            unsafe { decode_result(func, layout, ret.as_ptr()) }.map_err(|m| {
                failed(
                    Status::ContractMismatch,
                    format!("the provider returned a malformed result: {m}"),
                )
            })
        }
    }
}
