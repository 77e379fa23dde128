//! Providers from Rust values: a compiled contract plus one Rust callable per function becomes a
//! [`polyplug_abi::Interface`] any host calls through the one calling convention.
//!
//! ```
//! use polyplug_loader::provider::{CallError, ProviderBuilder};
//! use polyplug_loader::walk::Value;
//! use polyplug_contract::{Contract, Function, Param, Type, Version};
//! use std::sync::Arc;
//!
//! let contract = Arc::new(
//!     Contract::new(
//!         "demo:math/add",
//!         Version::new(1, 0, 0),
//!         vec![Function::new(
//!             "add",
//!             vec![Param::new("a", Type::U32), Param::new("b", Type::U32)],
//!             Some(Type::U32),
//!         )],
//!     )
//!     .compile()?,
//! );
//! let provider = ProviderBuilder::new(contract)
//!     .func("add", |call| {
//!         let (Value::U32(a), Value::U32(b)) = (call.param(0)?.read()?, call.param(1)?.read()?)
//!         else {
//!             return Err(CallError::new("add takes two u32"));
//!         };
//!         call.result()?.set_int(i128::from(a) + i128::from(b))?;
//!         Ok(())
//!     })?
//!     .build()?;
//! // `provider.interface()` is what a loader registers (`LoadContext::register`), or a host.
//! assert_eq!(unsafe { (*provider.interface()).func_count }, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **How a call finds its closure.** The calling convention carries no function index, so the
//! table holds one distinct C entry point per index (`trampolines`: monomorphised
//! `entry::<I>`, compiled ahead of time for every index a contract may have). The `instance`
//! argument points to a small target record (the provider's own, or one made by
//! `create_instance`) that leads to the provider's function entries and to the state the call
//! sees. `entry::<I>` finds entry `I` and jumps to its shim, which is monomorphised for the
//! closure's type (the closure is inlined into it), catches panics (they become
//! [`Status::Panic`]) and turns an `Err` into its status and the call's error message.

mod trampolines;

use crate::ffi::{panic_message, set_error};
use crate::host::Host;
use crate::walk::{ValueMut, ValueRef, WalkError, WalkErrorKind};
use polyplug_abi::{CallCtx, ContractFn, Interface, Status};
use polyplug_contract::{CompiledContract, Contract, FuncLayout, Function};
use std::any::Any;
use std::ffi::c_void;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A provider function's failure: a status and a message for the caller. One pointer wide, so
/// a closure's `Result<(), CallError>` comes back in a register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError(Box<(Status, String)>);

impl CallError {
    /// A failure the provider reports itself ([`Status::Error`]).
    #[cold]
    pub fn new(message: impl Into<String>) -> CallError {
        CallError::with_status(Status::Error, message)
    }

    /// A failure with a given status.
    #[cold]
    pub fn with_status(status: Status, message: impl Into<String>) -> CallError {
        CallError(Box::new((status, message.into())))
    }

    /// The status the call returns.
    pub fn status(&self) -> Status {
        self.0 .0
    }

    /// The message the caller reads from its call context.
    pub fn message(&self) -> &str {
        &self.0 .1
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.message(), self.status())
    }
}

impl std::error::Error for CallError {}

impl From<WalkError> for CallError {
    /// Malformed arguments are the caller's fault (`InvalidArgument`); a result that does not
    /// fit the contract is the provider's (`ContractMismatch`).
    #[cold]
    fn from(e: WalkError) -> CallError {
        let status = match e.kind() {
            WalkErrorKind::Malformed => Status::InvalidArgument,
            WalkErrorKind::OutOfMemory => Status::OutOfMemory,
            WalkErrorKind::Mismatch | WalkErrorKind::Layout => Status::ContractMismatch,
        };
        CallError::with_status(status, e.to_string())
    }
}

/// State a provider or an instance carries, seen by every call on it.
pub type State = Box<dyn Any + Send + Sync>;

/// Makes the state of a new instance (stateful providers).
pub type InstanceFn = Box<dyn Fn() -> Result<State, CallError> + Send + Sync>;

/// What every call of a provider shares.
struct Core {
    contract: Arc<CompiledContract>,
    funcs: Box<[Entry]>,
    instances: Option<InstanceFn>,
}

/// One function: its closure, type-erased, with the shim that runs it and what a call checks.
///
/// `shim` is monomorphised for the closure's type, so the closure is inlined into it: a call
/// goes host → entry point `I` (finds entry `I`) → shim, with no dynamic dispatch in between.
struct Entry {
    shim: Shim,
    /// A `Box<F>` for the closure type `F` that `shim` and `drop` were made for.
    data: *mut (),
    drop: unsafe fn(*mut ()),
    index: usize,
    args_size: usize,
    ret_size: usize,
}

/// Runs one call of the closure at `entry.data`.
type Shim = unsafe extern "C" fn(
    entry: *const Entry,
    target: *const Target,
    args: *const c_void,
    ret: *mut c_void,
    ctx: *mut CallCtx,
) -> u32;

impl Drop for Entry {
    fn drop(&mut self) {
        // SAFETY: `data` is the box `drop` was made for, dropped once.
        unsafe { (self.drop)(self.data) }
    }
}

// SAFETY: the closure behind `data` is `Send + Sync` (required by `ProviderBuilder::func_at`).
unsafe impl Send for Entry {}
// SAFETY: as above.
unsafe impl Sync for Entry {}

/// A closure, erased: what the builder keeps until `build` knows its index and sizes.
struct Erased {
    shim: Shim,
    data: *mut (),
    drop: unsafe fn(*mut ()),
}

impl Erased {
    fn new<F>(f: F) -> Erased
    where
        F: Fn(&mut Call<'_>) -> Result<(), CallError> + Send + Sync + 'static,
    {
        Erased {
            shim: shim::<F>,
            data: Box::into_raw(Box::new(f)).cast(),
            drop: drop_box::<F>,
        }
    }
}

impl Drop for Erased {
    fn drop(&mut self) {
        if !self.data.is_null() {
            // SAFETY: the box made in `new`, not yet moved into an `Entry`.
            unsafe { (self.drop)(self.data) }
        }
    }
}

// SAFETY: as for `Entry`.
unsafe impl Send for Erased {}
// SAFETY: as above.
unsafe impl Sync for Erased {}

/// # Safety
/// `data` must be a `Box<F>` from `Box::into_raw`, dropped once.
unsafe fn drop_box<F>(data: *mut ()) {
    // SAFETY: the caller's promise. A panicking destructor must not unwind into C.
    let b = unsafe { Box::from_raw(data.cast::<F>()) };
    if let Err(p) = catch_unwind(AssertUnwindSafe(move || drop(b))) {
        std::mem::forget(p);
    }
}

/// What `instance` points to: the provider's own target, or an instance's.
struct Target {
    core: *const Core,
    state: State,
}

impl Target {
    fn new(core: &Core, state: State) -> Target {
        Target { core, state }
    }
}

/// One call of a provider function, as its closure sees it.
pub struct Call<'a> {
    target: &'a Target,
    entry: &'a Entry,
    args: *const c_void,
    ret: *mut c_void,
    ctx: *mut CallCtx,
}

impl<'a> Call<'a> {
    /// The function's index in the contract's table.
    pub fn index(&self) -> usize {
        self.entry.index
    }

    fn core(&self) -> &'a Core {
        // SAFETY: a target's core lives as long as its provider, which outlives the call.
        unsafe { &*self.target.core }
    }

    /// The contract.
    pub fn contract(&self) -> &'a Contract {
        self.core().contract.contract()
    }

    /// The function being called.
    pub fn function(&self) -> &'a Function {
        &self.core().contract.contract().functions[self.entry.index]
    }

    /// The function's layouts.
    pub fn layout(&self) -> &'a FuncLayout {
        &self.core().contract.layouts()[self.entry.index]
    }

    /// The provider's or the instance's state, if it is a `T`.
    pub fn state<T: Any>(&self) -> Option<&'a T> {
        self.target.state.downcast_ref()
    }

    /// The host, when the caller's context names one (calls from the runtime always do).
    pub fn host(&self) -> Option<Host> {
        // SAFETY: the caller's live context (the contract-call promise), null or not.
        let host = unsafe { self.ctx.as_ref() }?.host;
        // SAFETY: a context's host table is null or the runtime's, live during the call.
        unsafe { Host::from_raw(host) }.ok()
    }

    /// The raw call context, for code that talks the ABI itself.
    pub fn raw_ctx(&self) -> *mut CallCtx {
        self.ctx
    }

    #[cold]
    fn null(what: &str) -> CallError {
        CallError::with_status(Status::NullPointer, format!("null {what} struct"))
    }

    /// Parameter `i`, to read with [`ValueRef::read`].
    pub fn param(&self, i: usize) -> Result<ValueRef<'a>, CallError> {
        let layout = self.layout();
        let f = self.function();
        let (Some(p), Some(lay), Some(&off)) = (
            f.params.get(i),
            layout.params.get(i),
            layout.param_offsets.get(i),
        ) else {
            return Err(CallError::with_status(
                Status::InvalidArgument,
                format!("`{}` has no parameter {i}", f.name),
            ));
        };
        if self.args.is_null() {
            return Err(Call::null("argument"));
        }
        // SAFETY: `args` points to the function's argument struct (the contract-call promise),
        // whose member `i` is at `off`; views inside are the caller's, live for the call.
        Ok(unsafe { ValueRef::new(&p.ty, lay, self.args.cast::<u8>().add(off as usize)) })
    }

    /// Every parameter with its name, in order.
    pub fn params(&self) -> Result<Vec<(&'a str, ValueRef<'a>)>, CallError> {
        let f = self.function();
        (0..f.params.len())
            .map(|i| Ok((f.params[i].name.as_str(), self.param(i)?)))
            .collect()
    }

    /// The slot of the function's result, writing into the caller's `ret` and its arena.
    pub fn result(&mut self) -> Result<ValueMut<'_>, CallError> {
        let layout = self.layout();
        let f = self.function();
        let (Some(ty), Some(lay)) = (&f.result, &layout.result) else {
            return Err(CallError::with_status(
                Status::ContractMismatch,
                format!("`{}` returns nothing", f.name),
            ));
        };
        if self.ret.is_null() {
            return Err(Call::null("result"));
        }
        // SAFETY: the caller's live context and arena (the contract-call promise).
        let arena =
            unsafe { self.ctx.as_mut().and_then(|c| c.arena.as_mut()) }.ok_or_else(|| {
                CallError::with_status(Status::OutOfMemory, "the caller passed no call arena")
            })?;
        // SAFETY: `ret` points to room for the result (the contract-call promise).
        let out = unsafe {
            std::slice::from_raw_parts_mut(self.ret.cast::<u8>(), lay.layout.size as usize)
        };
        // SAFETY: the arena is the caller's, live for this call.
        Ok(unsafe { ValueMut::with_arena(ty, lay, out, arena) }?)
    }

    /// The argument struct read as an `A`, checked to have the layout's size: the fast path of a
    /// provider that knows its contract's types.
    ///
    /// # Safety
    /// `A` must be a raw ABI type (scalars, views, raw structs) matching the argument struct
    /// field by field; the check catches only a size mismatch.
    #[inline]
    pub unsafe fn args_as<A: Copy>(&self) -> Result<A, CallError> {
        if size_of::<A>() != self.entry.args_size {
            return Err(self.size_mismatch("argument", size_of::<A>(), self.entry.args_size));
        }
        if self.args.is_null() {
            return Err(Call::null("argument"));
        }
        // SAFETY: the argument struct has `A`'s size and fields (the caller's promise).
        Ok(unsafe { self.args.cast::<A>().read_unaligned() })
    }

    /// Writes the result struct as an `R`, checked to have the layout's size.
    ///
    /// # Safety
    /// As for [`Call::args_as`], for the result.
    #[inline]
    pub unsafe fn set_result<R: Copy>(&mut self, value: R) -> Result<(), CallError> {
        if size_of::<R>() != self.entry.ret_size {
            return Err(self.size_mismatch("result", size_of::<R>(), self.entry.ret_size));
        }
        if self.ret.is_null() {
            return Err(Call::null("result"));
        }
        // SAFETY: `ret` has room for the result, which has `R`'s size (the caller's promise).
        unsafe { self.ret.cast::<R>().write_unaligned(value) };
        Ok(())
    }

    #[cold]
    fn size_mismatch(&self, what: &str, rust: usize, layout: usize) -> CallError {
        CallError::with_status(
            Status::ContractMismatch,
            format!(
                "`{}`: a {rust}-byte {what} type for a {layout}-byte {what}",
                self.function().name
            ),
        )
    }
}

/// Builds a [`Provider`] from a compiled contract and one closure per function.
pub struct ProviderBuilder {
    contract: Arc<CompiledContract>,
    funcs: Vec<Option<Erased>>,
    state: State,
    instances: Option<InstanceFn>,
}

/// Why a provider could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A closure for a function the contract does not have.
    #[error("`{contract}` has no function {function}")]
    NoSuchFunction {
        /// The contract, `name@version`.
        contract: String,
        /// The name or index given.
        function: String,
    },
    /// Functions left without a closure.
    #[error("`{contract}`: no implementation for {}", missing.join(", "))]
    Missing {
        /// The contract, `name@version`.
        contract: String,
        /// The functions without one.
        missing: Vec<String>,
    },
}

impl fmt::Debug for ProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderBuilder")
            .field("contract", &self.contract.contract().to_string())
            .finish()
    }
}

impl ProviderBuilder {
    /// A builder for a provider of `contract`; every function needs a closure before
    /// [`ProviderBuilder::build`].
    pub fn new(contract: Arc<CompiledContract>) -> ProviderBuilder {
        let n = contract.contract().functions.len();
        ProviderBuilder {
            contract,
            funcs: (0..n).map(|_| None).collect(),
            state: Box::new(()),
            instances: None,
        }
    }

    /// Sets the closure of function `name`.
    pub fn func(
        self,
        name: &str,
        f: impl Fn(&mut Call<'_>) -> Result<(), CallError> + Send + Sync + 'static,
    ) -> Result<ProviderBuilder, BuildError> {
        let Some((index, _)) = self.contract.contract().function(name) else {
            return Err(BuildError::NoSuchFunction {
                contract: self.contract.contract().to_string(),
                function: format!("`{name}`"),
            });
        };
        self.func_at(index, f)
    }

    /// Sets the closure of function `index`.
    pub fn func_at(
        mut self,
        index: usize,
        f: impl Fn(&mut Call<'_>) -> Result<(), CallError> + Send + Sync + 'static,
    ) -> Result<ProviderBuilder, BuildError> {
        let Some(slot) = self.funcs.get_mut(index) else {
            return Err(BuildError::NoSuchFunction {
                contract: self.contract.contract().to_string(),
                function: index.to_string(),
            });
        };
        *slot = Some(Erased::new(f));
        Ok(self)
    }

    /// The state stateless calls see ([`Call::state`]); `()` by default.
    pub fn state(mut self, state: impl Any + Send + Sync) -> ProviderBuilder {
        self.state = Box::new(state);
        self
    }

    /// Makes the provider stateful: `create_instance` calls `f` for each instance's state, and
    /// calls on an instance see that state.
    pub fn instances(
        mut self,
        f: impl Fn() -> Result<State, CallError> + Send + Sync + 'static,
    ) -> ProviderBuilder {
        self.instances = Some(Box::new(f));
        self
    }

    /// The provider, once every function has its closure.
    pub fn build(self) -> Result<Provider, BuildError> {
        let c = self.contract.contract();
        let missing: Vec<String> = self
            .funcs
            .iter()
            .zip(&c.functions)
            .filter(|(f, _)| f.is_none())
            .map(|(_, f)| format!("`{}`", f.name))
            .collect();
        if !missing.is_empty() {
            return Err(BuildError::Missing {
                contract: c.to_string(),
                missing,
            });
        }
        let funcs: Box<[Entry]> = self
            .funcs
            .into_iter()
            .flatten()
            .zip(self.contract.layouts())
            .enumerate()
            .map(|(index, (mut f, l))| {
                // The box moves into the entry, which drops it.
                let data = std::mem::replace(&mut f.data, std::ptr::null_mut());
                Entry {
                    shim: f.shim,
                    data,
                    drop: f.drop,
                    index,
                    args_size: l.args.size as usize,
                    ret_size: l.ret.size as usize,
                }
            })
            .collect();
        // A compiled contract has at most `MAX_FUNCTIONS` functions, each with an entry.
        let table: Box<[Option<ContractFn>]> =
            (0..funcs.len()).map(trampolines::entry_for).collect();
        let stateful = self.instances.is_some();
        let core = Box::new(Core {
            contract: self.contract,
            funcs,
            instances: self.instances,
        });
        let target = Box::new(Target::new(&core, self.state));
        let iface = Interface {
            struct_size: size_of::<Interface>() as u32,
            func_count: table.len() as u32,
            contract: core.contract.desc(),
            funcs: table.as_ptr(),
            provider: &*target as *const Target as *mut c_void,
            create_instance: stateful.then_some(create_instance as _),
            destroy_instance: stateful.then_some(destroy_instance as _),
        };
        Ok(Provider {
            iface,
            _table: table,
            _target: target,
            _core: core,
        })
    }
}

/// A provider built from Rust closures. Its [`Provider::interface`] is valid while it lives, so
/// keep it alive while it is registered (a loader hands it to
/// [`crate::LoadContext::register`], which keeps it until the bundle is unloaded).
pub struct Provider {
    iface: Interface,
    // Declared in drop order after `iface` points into them; the target points into the core.
    _table: Box<[Option<ContractFn>]>,
    _target: Box<Target>,
    _core: Box<Core>,
}

// SAFETY: the closures and states are `Send + Sync`; the raw pointers point into boxes this
// value owns, which never move.
unsafe impl Send for Provider {}
// SAFETY: as above; nothing is mutated after `build`.
unsafe impl Sync for Provider {}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("contract", &self._core.contract.contract().to_string())
            .finish()
    }
}

impl Provider {
    /// The provider's interface, valid while `self` lives.
    pub fn interface(&self) -> *const Interface {
        &self.iface
    }

    /// The contract it provides.
    pub fn contract(&self) -> &Arc<CompiledContract> {
        &self._core.contract
    }
}

/// Finds the entry of function `index` for a call on `instance`: what entry point `index`
/// does before it jumps to the entry's shim. Inlined into each entry point.
///
/// # Safety
/// `instance` must be null or a target of a live provider.
#[inline(always)]
unsafe fn find(index: usize, instance: *mut c_void) -> Result<(*const Entry, *const Target), u32> {
    let target = instance.cast::<Target>().cast_const();
    if target.is_null() {
        return Err(Status::NullPointer.raw());
    }
    // SAFETY: a live target (the caller's promise), whose core lives as long as its provider.
    let core = unsafe { &*(*target).core };
    if index >= core.funcs.len() {
        // Another provider's instance, with fewer functions: the host broke the convention.
        return Err(Status::InvalidArgument.raw());
    }
    // SAFETY: in range.
    Ok((unsafe { core.funcs.as_ptr().add(index) }, target))
}

/// The message of a call refused before it reached its closure.
#[cold]
#[inline(never)]
fn refused(ctx: *mut CallCtx, status: u32) -> u32 {
    let message = if status == Status::NullPointer.raw() {
        "null instance: pass the interface's `provider` or a created instance"
    } else {
        "the instance belongs to another provider"
    };
    // SAFETY: the caller's context, live for the call (or null).
    unsafe { set_error(ctx, message) };
    status
}

/// Runs one call of the closure of type `F` that `entry` holds. `extern "C"` (it never
/// unwinds: panics are caught here), so an entry point reaches it with a jump.
///
/// # Safety
/// `entry` and `target` from [`find`]; `args`, `ret` and `ctx` as for any call of the function.
unsafe extern "C" fn shim<F>(
    entry: *const Entry,
    target: *const Target,
    args: *const c_void,
    ret: *mut c_void,
    ctx: *mut CallCtx,
) -> u32
where
    F: Fn(&mut Call<'_>) -> Result<(), CallError> + Send + Sync + 'static,
{
    // SAFETY: the entry made for a closure of type `F`, and a live target (the caller's).
    let (entry, target) = unsafe { (&*entry, &*target) };
    // SAFETY: `data` is a `Box<F>` (see `Erased::new`), alive while the provider is.
    let f = unsafe { &*entry.data.cast::<F>() };
    let mut call = Call {
        target,
        entry,
        args,
        ret,
        ctx,
    };
    match catch_unwind(AssertUnwindSafe(|| f(&mut call))) {
        Ok(Ok(())) => Status::Ok.raw(),
        Ok(Err(e)) => failed(ctx, e),
        Err(payload) => panicked(ctx, payload),
    }
}

#[cold]
#[inline(never)]
fn failed(ctx: *mut CallCtx, e: CallError) -> u32 {
    // SAFETY: the caller's context, live for the call.
    unsafe { set_error(ctx, e.message()) };
    e.status().raw()
}

#[cold]
#[inline(never)]
fn panicked(ctx: *mut CallCtx, payload: Box<dyn Any + Send>) -> u32 {
    // SAFETY: as above.
    unsafe { set_error(ctx, panic_message(&*payload)) };
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
    Status::Panic.raw()
}

unsafe extern "C" fn create_instance(
    provider: *mut c_void,
    out: *mut *mut c_void,
    ctx: *mut CallCtx,
) -> u32 {
    if out.is_null() {
        return Status::NullPointer.raw();
    }
    // SAFETY: the provider's own target, which the host passes as `provider`.
    let Some(target) = (unsafe { provider.cast::<Target>().cast_const().as_ref() }) else {
        return Status::NullPointer.raw();
    };
    // SAFETY: a target's core lives as long as its provider.
    let core = unsafe { &*target.core };
    let Some(make) = &core.instances else {
        return Status::Unsupported.raw();
    };
    match catch_unwind(AssertUnwindSafe(make)) {
        Ok(Ok(state)) => {
            let instance = Box::new(Target::new(core, state));
            // SAFETY: checked non-null.
            unsafe { out.write(Box::into_raw(instance).cast()) };
            Status::Ok.raw()
        }
        Ok(Err(e)) => failed(ctx, e),
        Err(payload) => panicked(ctx, payload),
    }
}

unsafe extern "C" fn destroy_instance(_provider: *mut c_void, instance: *mut c_void) {
    if instance.is_null() {
        return;
    }
    // SAFETY: an instance `create_instance` made, destroyed once (the ABI's rule). A panic in
    // the state's destructor must not cross the boundary.
    let instance = unsafe { Box::from_raw(instance.cast::<Target>()) };
    if let Err(p) = catch_unwind(AssertUnwindSafe(move || drop(instance))) {
        std::mem::forget(p);
    }
}

#[cfg(test)]
mod tests;
