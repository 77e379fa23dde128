//! Call contexts and cached providers: the host's side of a contract call.

use crate::error::{Error, ErrorKind, Result};
use polyplug_abi::{CallArena, CallCtx, ContractFn, Interface, Str};
use std::ffi::c_void;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};

/// A caller's call context: the arena for variable-size results, plus the error slot.
///
/// Each call through [`CallContext::begin`] resets the arena, so results of a call stay valid
/// until the next call on the same context (the ABI's one lifetime rule). Keep one context per
/// thread; it is `Send` but not `Sync`.
pub struct CallContext {
    ctx: CallCtx,
    arena: CallArena,
}

impl CallContext {
    /// A context whose arena's first block holds `arena_size` bytes. `host` may be null.
    pub fn new(arena_size: usize, host: *const polyplug_abi::HostApi) -> Result<CallContext> {
        let mut arena = CallArena::new(arena_size).ok_or(ErrorKind::OutOfMemory)?;
        let ctx = CallCtx::new(arena.as_raw(), host);
        Ok(CallContext { ctx, arena })
    }

    /// Starts a call: resets the arena, clears the error, and returns the raw context.
    #[inline(always)]
    pub fn begin(&mut self) -> *mut CallCtx {
        // A context the last call did not touch (no allocation, no error: every call with a
        // plain-data result that succeeded) is already what a reset makes. Checking costs a
        // few loads and well-predicted branches; rewriting would put six stores right before
        // the call, which delay the caller's read of the callee's result.
        if !self.is_fresh() {
            let raw = self.arena.as_raw();
            self.arena.reset();
            self.ctx.arena = raw;
            self.ctx.error = Str::EMPTY;
        }
        &mut self.ctx
    }

    /// True when the context is exactly what [`CallContext::begin`] makes of it.
    #[inline(always)]
    fn is_fresh(&self) -> bool {
        std::ptr::eq(self.ctx.arena, self.arena.as_raw_const())
            && self.ctx.error.len == 0
            && self.arena.is_reset()
    }

    /// The error message the last call left, if any.
    pub fn error_message(&self) -> Option<String> {
        // SAFETY: the message lives in this context's arena (not reset since) or static memory.
        unsafe { self.ctx.error_bytes() }.map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// The raw view of the last call's error message (empty if none), valid until the next call.
    pub fn error_view(&self) -> Str {
        self.ctx.error
    }

    /// The arena, e.g. to build arguments that the callee reads.
    pub fn arena(&mut self) -> &mut CallArena {
        &mut self.arena
    }
}

/// A provider resolved once for repeated calls: the fastest path.
///
/// It holds the provider's interface and the revision its slot had when resolved. While the
/// provider stays registered, calls go straight through the interface; after an unload or
/// reload [`CachedProvider::is_current`] turns false and the caller resolves again. The host must
/// not call through a stale cache (it quiesces such callers before unloading).
#[derive(Clone, Copy, Debug)]
pub struct CachedProvider<'rt> {
    pub(crate) iface: *const Interface,
    pub(crate) revision: *const AtomicU32,
    pub(crate) seen: u32,
    pub(crate) _rt: PhantomData<&'rt crate::Runtime>,
}

// SAFETY: the interface and revision word live in the runtime, which outlives `'rt`, and
// providers promise thread-safe functions.
unsafe impl Send for CachedProvider<'_> {}
// SAFETY: as above.
unsafe impl Sync for CachedProvider<'_> {}

impl CachedProvider<'_> {
    /// True while the provider this was resolved from is still the slot's occupant:
    /// one acquire load and a compare.
    #[inline]
    pub fn is_current(&self) -> bool {
        // SAFETY: the revision word lives in the runtime's slot table for its whole life.
        unsafe { &*self.revision }.load(Ordering::Acquire) == self.seen
    }

    /// The provider's interface (the runtime's validated copy).
    #[inline]
    pub fn interface(&self) -> &Interface {
        // SAFETY: the copy lives as long as the registration, which the caller keeps alive.
        unsafe { &*self.iface }
    }

    /// Function `index`, or `None` past the end.
    #[inline]
    pub fn func(&self, index: u32) -> Option<ContractFn> {
        // SAFETY: the runtime's copy has `func_count` non-null entries.
        unsafe { self.interface().func(index) }
    }

    /// Calls function `index` without the range check of [`CachedProvider::call_raw`]: what a
    /// generated caller does, since the contract fixes its indices. Still one load of the
    /// function pointer from the interface per call, so it follows the table it resolved.
    ///
    /// # Safety
    /// `index` must be below the contract's function count; otherwise as for `call_raw`.
    #[inline(always)]
    pub unsafe fn call_unchecked(
        &self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        ctx: *mut CallCtx,
    ) -> u32 {
        let iface = self.interface();
        // SAFETY: `index < func_count` (the caller's promise) and the runtime's copy of the
        // table holds no null entry.
        unsafe {
            let f = (*iface.funcs.add(index as usize)).unwrap_unchecked();
            f(iface.provider, args, ret, ctx)
        }
    }

    /// Calls function `index` with the provider's default instance.
    ///
    /// # Safety
    /// `args` and `ret` must point to the argument and result structs of that function, laid
    /// out by the contract's C layout, and `ctx` must be a live call context.
    #[inline]
    pub unsafe fn call_raw(
        &self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        ctx: *mut CallCtx,
    ) -> u32 {
        match self.func(index) {
            // SAFETY: forwarded to the caller.
            Some(f) => unsafe { f(self.interface().provider, args, ret, ctx) },
            None => polyplug_abi::Status::InvalidArgument.raw(),
        }
    }
}

/// An open guarded section (see [`crate::Runtime::call_guard`]). Not `Send`: a section belongs
/// to the thread that opened it.
pub struct CallGuard {
    _section: crate::guard::ReadSection,
}

impl CallGuard {
    #[inline]
    pub(crate) fn new() -> CallGuard {
        CallGuard {
            _section: crate::guard::enter(),
        }
    }
}

impl std::fmt::Debug for CallGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallGuard")
    }
}

/// A provider called through the guarded path: every call pins the provider for its duration,
/// so a reload or unload on another thread can never free the code or table it is running.
///
/// It caches the interface and its slot's revision like [`CachedProvider`]; a call first
/// opens a guarded section, then compares the revision word (one acquire load). After a reload
/// it follows the new code transparently; after an unload calls return
/// [`polyplug_abi::Status::StaleHandle`].
pub struct GuardedProvider<'rt> {
    handle: polyplug_abi::Handle,
    cached: CachedProvider<'rt>,
    registry: &'rt crate::registry::Registry,
}

impl std::fmt::Debug for GuardedProvider<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedProvider")
            .field("handle", &self.handle)
            .field("revision", &self.cached.seen)
            .finish()
    }
}

// SAFETY: as for `CachedProvider`; the registry is `Sync`.
unsafe impl Send for GuardedProvider<'_> {}

impl<'rt> GuardedProvider<'rt> {
    pub(crate) fn new(
        handle: polyplug_abi::Handle,
        cached: CachedProvider<'rt>,
        registry: &'rt crate::registry::Registry,
    ) -> GuardedProvider<'rt> {
        GuardedProvider {
            handle,
            cached,
            registry,
        }
    }

    /// The handle this provider was resolved from.
    pub fn handle(&self) -> polyplug_abi::Handle {
        self.handle
    }

    /// True when the cached interface is the current occupant's, re-resolving it if the
    /// revision moved; false once the provider is gone. Must be called inside a guarded
    /// section. (A `bool` rather than an `Option<&Interface>`: the caller then reads the
    /// interface without a null test.)
    #[inline(always)]
    fn is_live(&mut self) -> bool {
        self.cached.is_current() || self.follow()
    }

    /// Re-resolves after the revision moved (a reload: follow the new code); false once the
    /// provider is gone. Out of line: it runs once per reload, not per call.
    #[cold]
    #[inline(never)]
    fn follow(&mut self) -> bool {
        let Some((iface, revision, seen)) = self.registry.resolve_cached(self.handle) else {
            return false;
        };
        self.cached.iface = iface;
        self.cached.revision = revision;
        self.cached.seen = seen;
        true
    }

    /// Calls function `index` without a range check: what a generated caller does (a reload
    /// may only append functions, so a valid index stays valid).
    ///
    /// # Safety
    /// `index` must be below the contract's function count; `args`, `ret` and `ctx` as for
    /// [`CachedProvider::call_raw`].
    #[inline(always)]
    pub unsafe fn call_unchecked(
        &mut self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        ctx: *mut CallCtx,
    ) -> u32 {
        let _section = crate::guard::enter();
        if !self.is_live() {
            return polyplug_abi::Status::StaleHandle.raw();
        }
        let iface = self.cached.interface();
        // SAFETY: `index < func_count` (the caller's promise); the runtime's copy holds no null
        // entry, and the section keeps it alive for the call.
        unsafe {
            let f = (*iface.funcs.add(index as usize)).unwrap_unchecked();
            f(iface.provider, args, ret, ctx)
        }
    }

    /// Calls function `index`; an index past the end returns `InvalidArgument`.
    ///
    /// # Safety
    /// As for [`CachedProvider::call_raw`].
    #[inline]
    pub unsafe fn call_raw(
        &mut self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        ctx: *mut CallCtx,
    ) -> u32 {
        let _section = crate::guard::enter();
        if !self.is_live() {
            return polyplug_abi::Status::StaleHandle.raw();
        }
        let iface = self.cached.interface();
        // SAFETY: the runtime's validated copy, alive for the section.
        match unsafe { iface.func(index) } {
            // SAFETY: forwarded to the caller.
            Some(f) => unsafe { f(iface.provider, args, ret, ctx) },
            None => polyplug_abi::Status::InvalidArgument.raw(),
        }
    }
}

// ---- typed callers ----------------------------------------------------------------------------
//
// What the host callers `polyplugc` generates build on: a call path ([`Invoke`]) per way of
// calling (guarded, cached, per instance), and the codec for arguments and results ([`codec`]).

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
    fn check(&self, status: u32, cx: &CallContext) -> Result<()> {
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
/// over. Implemented by [`GuardedProvider`] (the default), [`ResolvedProvider`] (cached, opt-in)
/// and [`ProviderInstance`] (a stateful provider's instance, guarded).
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

impl CallContext {
    /// The raw context for a call already started with [`CallContext::begin`].
    #[inline(always)]
    fn current(&mut self) -> *mut CallCtx {
        &mut self.ctx
    }
}

/// The error of a call through a provider that is gone. Out of line: it allocates.
#[cold]
#[inline(never)]
fn stale(handle: polyplug_abi::Handle) -> Error {
    ErrorKind::StaleHandle { handle }.into()
}

/// Calls `f` of `iface` and maps its status.
///
/// # Safety
/// `iface` is live for the call; `index`, `args` and `ret` as for [`Invoke::invoke`].
#[inline(always)]
unsafe fn invoke_on(
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

impl Invoke for GuardedProvider<'_> {
    #[inline(always)]
    unsafe fn invoke(
        &mut self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        cx: &mut CallContext,
        site: &CallSite,
    ) -> Result<()> {
        let status = {
            let _section = crate::guard::enter();
            if !self.is_live() {
                return Err(stale(self.handle));
            }
            let iface = self.cached.interface();
            let provider = iface.provider;
            // SAFETY: the section keeps the current table alive; the rest is the caller's promise.
            unsafe { invoke_on(iface, provider, index, args, ret, cx) }
        };
        site.check(status, cx)
    }
}

impl<'rt> GuardedProvider<'rt> {
    /// Makes an instance of a stateful provider (`create_instance`); for a stateless provider,
    /// an instance that is simply the provider. Calls through it are guarded like the
    /// provider's.
    pub fn create_instance(&mut self, cx: &mut CallContext) -> Result<ProviderInstance<'rt>> {
        let _section = crate::guard::enter();
        if !self.is_live() {
            return Err(stale(self.handle));
        }
        let iface = self.cached.interface();
        let (provider, create) = (iface.provider, iface.create_instance);
        let contract = contract_name(iface);
        let instance = match create {
            None => provider,
            Some(create) => {
                let mut out = std::ptr::null_mut();
                // SAFETY: the runtime's validated table, kept alive by the section.
                let status = unsafe { create(provider, &mut out, cx.begin()) };
                if status != 0 || out.is_null() {
                    let status = if status == 0 {
                        polyplug_abi::Status::NullPointer.raw()
                    } else {
                        status
                    };
                    return Err(CallSite {
                        contract: "",
                        function: "create-instance",
                    }
                    .failed(status, cx)
                    .with_contract(contract));
                }
                out
            }
        };
        Ok(ProviderInstance {
            handle: self.handle,
            cached: self.cached,
            instance,
            owned: create.is_some(),
        })
    }
}

/// The contract name of an interface, for messages.
fn contract_name(iface: &Interface) -> String {
    // SAFETY: the contract descriptor stays valid while the provider is registered, which the
    // caller's guarded section ensures.
    unsafe { iface.contract.as_ref() }
        .map(|c| {
            // SAFETY: validated at registration.
            String::from_utf8_lossy(unsafe { c.name.as_bytes() }).into_owned()
        })
        .unwrap_or_default()
}

impl Error {
    fn with_contract(mut self, name: String) -> Error {
        if let ErrorKind::CallFailed { contract, .. } = self.kind_mut() {
            *contract = name;
        }
        self
    }
}

/// One instance of a stateful provider, made by [`GuardedProvider::create_instance`], and
/// destroyed (`destroy_instance`) when dropped.
///
/// An instance belongs to the code that made it: after its bundle is **reloaded** or
/// **unloaded**, calls through it return [`ErrorKind::StaleHandle`] (make a new one), and dropping
/// it no longer calls `destroy_instance` (that code is gone; its state is abandoned).
pub struct ProviderInstance<'rt> {
    handle: polyplug_abi::Handle,
    /// The table (and revision) the instance was made under.
    cached: CachedProvider<'rt>,
    instance: *mut c_void,
    /// False for a stateless provider's "instance" (the provider itself).
    owned: bool,
}

// SAFETY: as for `CachedProvider`: providers promise thread-safe functions and instances.
unsafe impl Send for ProviderInstance<'_> {}

impl std::fmt::Debug for ProviderInstance<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderInstance")
            .field("handle", &self.handle)
            .field("instance", &self.instance)
            .field("current", &self.cached.is_current())
            .finish()
    }
}

impl ProviderInstance<'_> {
    /// The handle of the provider the instance belongs to.
    pub fn handle(&self) -> polyplug_abi::Handle {
        self.handle
    }

    /// True while the code that made the instance still serves it (no reload or unload since).
    pub fn is_current(&self) -> bool {
        self.cached.is_current()
    }
}

impl Invoke for ProviderInstance<'_> {
    #[inline(always)]
    unsafe fn invoke(
        &mut self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        cx: &mut CallContext,
        site: &CallSite,
    ) -> Result<()> {
        let status = {
            let _section = crate::guard::enter();
            if !self.cached.is_current() {
                return Err(stale(self.handle));
            }
            // SAFETY: checked current inside the section, so the table it was made under is
            // alive for the call; the rest is the caller's promise.
            unsafe { invoke_on(self.cached.interface(), self.instance, index, args, ret, cx) }
        };
        site.check(status, cx)
    }
}

impl Drop for ProviderInstance<'_> {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let _section = crate::guard::enter();
        if !self.cached.is_current() {
            return;
        }
        let iface = self.cached.interface();
        if let Some(destroy) = iface.destroy_instance {
            // SAFETY: the code that made the instance is current and kept alive by the section;
            // the instance is destroyed once.
            unsafe { destroy(iface.provider, self.instance) };
        }
    }
}

/// The cached path for typed callers: a [`CachedProvider`] that re-resolves its handle when the
/// revision word moved. **Opt-in**: a call is not safe against a concurrent reload or unload;
/// the host quiesces these callers first (see `docs/LIFECYCLE.md`). After an unload, calls
/// return [`ErrorKind::StaleHandle`].
pub struct ResolvedProvider<'rt> {
    rt: &'rt crate::Runtime,
    handle: polyplug_abi::Handle,
    cached: CachedProvider<'rt>,
}

impl std::fmt::Debug for ResolvedProvider<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedProvider")
            .field("handle", &self.handle)
            .field("revision", &self.cached.seen)
            .finish()
    }
}

impl<'rt> ResolvedProvider<'rt> {
    /// Resolves `handle` for cached calls.
    pub fn new(rt: &'rt crate::Runtime, handle: polyplug_abi::Handle) -> Result<Self> {
        Ok(ResolvedProvider {
            rt,
            handle,
            cached: rt.resolve(handle)?,
        })
    }

    /// The handle it resolves.
    pub fn handle(&self) -> polyplug_abi::Handle {
        self.handle
    }

    /// Re-resolves after the revision moved. Out of line: once per reload, not per call.
    #[cold]
    #[inline(never)]
    fn follow(&mut self) -> Result<()> {
        self.cached = self.rt.resolve(self.handle)?;
        Ok(())
    }
}

impl Invoke for ResolvedProvider<'_> {
    #[inline(always)]
    unsafe fn invoke(
        &mut self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        cx: &mut CallContext,
        site: &CallSite,
    ) -> Result<()> {
        if !self.cached.is_current() {
            self.follow()?;
        }
        let iface = self.cached.interface();
        // SAFETY: current (the host quiesces cached callers before unloading); the rest is the
        // caller's promise.
        let status = unsafe { invoke_on(iface, iface.provider, index, args, ret, cx) };
        site.check(status, cx)
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

/// Encoding arguments and decoding results for generated host callers.
///
/// Arguments are encoded as views of the caller's memory (strings, byte lists, lists of plain
/// data: no copy); only lists whose elements need conversion are built in the call context's
/// arena. Results are decoded into owned values and validated like a guest validates its
/// arguments: a bad `bool`, `char`, enum case, option or result tag, a null or misaligned view,
/// or invalid UTF-8 is an error ([`CallSite::malformed`]), never undefined behaviour.
pub mod codec {
    use super::{CallArena, ErrorKind, Result};
    use polyplug_abi::{Handle, List, Version};
    use std::mem::{align_of, size_of};

    // The checks guests and the value walker use too: one set of rules and messages. A failure
    // is a `Malformed`, which `CallSite::malformed` reports.
    pub use polyplug_abi::check::{
        bool_from, bytes_from, bytes_view, char_from, enum_from, list_view, option_from,
        result_from, str_view, string_from, vec_from, Malformed,
    };

    pub use polyplug_abi::{RawOption, RawPayload, RawResult};

    /// Decoding's result type.
    pub type Decoded<T> = polyplug_abi::check::Checked<T>;

    /// Encodes each element of an argument list with `each` into an array in the call's arena
    /// (for elements that are not plain data; plain ones are passed as `List::new(slice)`).
    pub fn list_into<T, R: Copy>(
        arena: &mut CallArena,
        items: &[T],
        mut each: impl FnMut(&mut CallArena, &T) -> Result<R>,
    ) -> Result<List> {
        if items.is_empty() {
            return Ok(List::EMPTY);
        }
        let bytes = items
            .len()
            .checked_mul(size_of::<R>())
            .ok_or(ErrorKind::OutOfMemory)?;
        let p = arena.alloc(bytes, align_of::<R>()).cast::<R>();
        if p.is_null() && bytes != 0 {
            return Err(ErrorKind::OutOfMemory.into());
        }
        for (i, item) in items.iter().enumerate() {
            let raw = each(arena, item)?;
            // SAFETY: `p` holds `items.len()` aligned `R`s, fresh from the arena.
            unsafe { p.add(i).write(raw) };
        }
        Ok(List {
            ptr: p.cast_const().cast(),
            len: items.len(),
        })
    }

    /// The expected shape of one function: its name and argument/result struct layouts.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct FuncShape {
        /// The function's name.
        pub name: &'static str,
        /// Size and alignment of the argument struct.
        pub args: (usize, usize),
        /// Size and alignment of the result.
        pub ret: (usize, usize),
    }

    impl FuncShape {
        /// The shape of a function whose argument struct is `A` and result `R` (`()` for none).
        pub const fn of<A, R>(name: &'static str) -> FuncShape {
            FuncShape {
                name,
                args: (size_of::<A>(), align_of::<A>()),
                ret: (size_of::<R>(), align_of::<R>()),
            }
        }
    }

    /// Checks that `handle` names a provider of contract `name`, compatible with `version`,
    /// whose first functions are `funcs` with the same layouts: what makes a generated caller's
    /// unchecked calls by index sound. A reload can only append functions, so the check holds
    /// for the handle's life.
    pub fn check_provider(
        rt: &crate::Runtime,
        handle: Handle,
        name: &str,
        version: Version,
        funcs: &[FuncShape],
    ) -> Result<()> {
        let info = rt.contract(handle)?;
        let mismatch = |what: String| {
            Err(ErrorKind::InvalidArgument(format!(
                "the provider {{index: {}, generation: {}}} cannot serve a `{name}@{version}` caller: {what}",
                handle.index, handle.generation
            ))
            .into())
        };
        if info.name != name {
            return mismatch(format!("it provides `{}`", info.name));
        }
        if !info.version.satisfies(&version) {
            return mismatch(format!("it provides version {}", info.version));
        }
        if info.funcs.len() < funcs.len() {
            return mismatch(format!("it has {} functions", info.funcs.len()));
        }
        for (have, want) in info.funcs.iter().zip(funcs) {
            let layout = |(size, align): (usize, usize)| (size as u32, align as u32);
            if have.name != want.name
                || (have.args.size, have.args.align) != layout(want.args)
                || (have.ret.size, have.ret.align) != layout(want.ret)
            {
                return mismatch(format!(
                    "its function `{}` differs from `{}`",
                    have.name, want.name
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_resets_only_what_a_call_touched() {
        let mut cx = CallContext::new(256, std::ptr::null()).expect("context");
        let first = cx.begin();
        // SAFETY: the context's own arena and error slot, used as a callee would.
        unsafe {
            let arena = &mut *(*first).arena;
            let p = arena.alloc(16, 8);
            assert!(!p.is_null());
            (*first).set_error(b"failed");
        }
        assert_eq!(cx.error_message().as_deref(), Some("failed"));
        let again = cx.begin();
        assert!(cx.error_message().is_none(), "the error is cleared");
        assert!(cx.arena.is_reset(), "the arena is rewound");
        assert_eq!(first, again);
        // A moved context refreshes its arena pointer.
        let mut moved = Box::new(cx);
        let raw = moved.begin();
        // SAFETY: the context's own pointer.
        assert_eq!(unsafe { (*raw).arena }, moved.arena.as_raw());
    }
}
