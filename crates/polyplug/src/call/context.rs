//! The call context: the arena for variable-size results and the per-call error slot.

use crate::error::{ErrorKind, Result};
use polyplug_abi::{CallArena, CallCtx, Str};

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

impl CallContext {
    /// The raw context for a call already started with [`CallContext::begin`].
    #[inline(always)]
    pub(crate) fn current(&mut self) -> *mut CallCtx {
        &mut self.ctx
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
