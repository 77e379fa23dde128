//! The call context passed to every contract function.

use crate::arena::Arena;
use crate::tables::HostApi;
use crate::views::Str;

/// Per-call state: the caller's arena for variable-size results, the host API for callbacks,
/// and the slot where a failing callee leaves its message.
///
/// **Lifetime rule:** everything a callee returns by view (strings, lists, the error message)
/// lives in `arena` (or in static memory) and stays valid until the caller's next call on that
/// arena, or its reset. A caller that keeps data copies it.
#[repr(C)]
#[derive(Debug)]
pub struct CallCtx {
    /// `size_of::<CallCtx>()` as the caller knew it.
    pub struct_size: u32,
    /// Reserved flags; zero.
    pub flags: u32,
    /// The caller's arena; may be null, in which case the callee cannot return variable-size
    /// data and fails with `OutOfMemory`.
    pub arena: *mut Arena,
    /// The host API, for callbacks from the callee (may be null for calls the host makes on
    /// its own providers).
    pub host: *const HostApi,
    /// Set by a failing callee: a message in `arena` or static memory. Empty on success.
    pub error: Str,
}

/// First published size of [`CallCtx`].
pub const CALL_CTX_SIZE_V1: u32 = core::mem::size_of::<CallCtx>() as u32;

/// Written when a message cannot be copied because the arena is absent or exhausted.
const LOST_MESSAGE: &str = "(error message lost: the call arena is exhausted)";

impl CallCtx {
    /// A context over `arena` (may be null) with the given host API (may be null).
    pub const fn new(arena: *mut Arena, host: *const HostApi) -> CallCtx {
        CallCtx {
            struct_size: CALL_CTX_SIZE_V1,
            flags: 0,
            arena,
            host,
            error: Str::EMPTY,
        }
    }

    /// Copies `msg` into the arena and records it as this call's error message.
    ///
    /// # Safety
    /// `arena` must be null or a live arena of the current call.
    pub unsafe fn set_error(&mut self, msg: &[u8]) {
        // SAFETY: forwarded to the caller.
        let copy = match unsafe { self.arena.as_mut() } {
            // SAFETY: the arena is live for this call.
            Some(arena) => unsafe { arena.alloc_copy(msg) },
            None => core::ptr::null_mut(),
        };
        self.error = if copy.is_null() && !msg.is_empty() {
            Str::new(LOST_MESSAGE)
        } else {
            Str {
                ptr: copy,
                len: msg.len(),
            }
        };
    }

    /// Clears the error message (callers do this before reusing a context).
    pub fn clear_error(&mut self) {
        self.error = Str::EMPTY;
    }

    /// The error message, if the callee left one.
    ///
    /// # Safety
    /// The message must still be valid: the arena was not reset since the call.
    pub unsafe fn error_bytes<'a>(&self) -> Option<&'a [u8]> {
        if self.error.len == 0 || self.error.is_malformed() {
            None
        } else {
            // SAFETY: the callee wrote a view into the live arena or static memory.
            Some(unsafe { self.error.as_bytes() })
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::CallArena;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn layout() {
        let w = size_of::<usize>();
        assert_eq!(size_of::<CallCtx>(), 8 + 4 * w);
        assert_eq!(align_of::<CallCtx>(), w);
        assert_eq!(offset_of!(CallCtx, struct_size), 0);
        assert_eq!(offset_of!(CallCtx, flags), 4);
        assert_eq!(offset_of!(CallCtx, arena), 8);
        assert_eq!(offset_of!(CallCtx, host), 8 + w);
        assert_eq!(offset_of!(CallCtx, error), 8 + 2 * w);
        assert_eq!(CALL_CTX_SIZE_V1 as usize, size_of::<CallCtx>());
    }

    #[test]
    fn error_message_lives_in_the_arena() {
        let mut arena = CallArena::new(64).expect("arena");
        let mut ctx = CallCtx::new(arena.as_raw(), core::ptr::null());
        // SAFETY: the arena is live.
        unsafe { ctx.set_error(b"boom") };
        // SAFETY: the arena was not reset.
        assert_eq!(unsafe { ctx.error_bytes() }, Some(&b"boom"[..]));
        ctx.clear_error();
        // SAFETY: no message.
        assert_eq!(unsafe { ctx.error_bytes() }, None);
        let mut bare = CallCtx::new(core::ptr::null_mut(), core::ptr::null());
        // SAFETY: a null arena is allowed.
        unsafe { bare.set_error(b"boom") };
        // SAFETY: the fallback message is static.
        assert_eq!(unsafe { bare.error_bytes() }, Some(LOST_MESSAGE.as_bytes()));
    }
}
