//! The call arena: a bump allocator for variable-size results of one call.
//!
//! [`Arena`] is the `repr(C)` part a guest sees: a bump pointer, an end pointer and a `grow`
//! callback for when the current block is full. Allocation is inline in the guest (an align, a
//! compare and an add); only an overflow calls back into the arena's owner.
//!
//! [`CallArena`] is the owner the host keeps. Its first block is allocated once; overflow blocks
//! are **retained** across [`CallArena::reset`], so after a warm-up a call that needs more memory
//! than the first block reuses the same blocks without touching the system allocator.

use core::ptr;

/// The guest-visible arena header. See the module docs.
#[repr(C)]
#[derive(Debug)]
pub struct Arena {
    /// `size_of::<Arena>()` as the owner knew it.
    pub struct_size: u32,
    /// Reserved flags; zero.
    pub flags: u32,
    /// Next free byte of the current block.
    pub cur: *mut u8,
    /// One past the last byte of the current block.
    pub end: *mut u8,
    /// Called when the current block cannot hold a request: returns `size` bytes aligned to
    /// `align` (and updates `cur`/`end`), or null when memory is exhausted.
    pub grow: Option<unsafe extern "C" fn(arena: *mut Arena, size: usize, align: usize) -> *mut u8>,
}

/// First published size of [`Arena`].
pub const ARENA_SIZE_V1: u32 = core::mem::size_of::<Arena>() as u32;

impl Arena {
    /// An arena with no memory: every allocation calls `grow`, or fails if there is none.
    pub const fn empty() -> Arena {
        Arena {
            struct_size: ARENA_SIZE_V1,
            flags: 0,
            cur: ptr::null_mut(),
            end: ptr::null_mut(),
            grow: None,
        }
    }

    /// Allocates `size` bytes aligned to `align` (a power of two). Returns null when `align` is
    /// not a power of two or memory is exhausted. The memory is valid until the owner resets
    /// the arena.
    ///
    /// # Safety
    /// `self` must be an arena handed out by its owner for the current call, with `cur`/`end`
    /// describing one live block (or both null).
    #[inline]
    pub unsafe fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        if !align.is_power_of_two() {
            return ptr::null_mut();
        }
        let cur = self.cur as usize;
        let avail = (self.end as usize).wrapping_sub(cur);
        let pad = cur.wrapping_neg() & (align - 1);
        if !self.cur.is_null() && pad <= avail && size <= avail - pad {
            // SAFETY: `pad + size <= avail`, so both offsets stay inside the current block.
            unsafe {
                let p = self.cur.add(pad);
                self.cur = p.add(size);
                return p;
            }
        }
        match self.grow {
            // SAFETY: `grow` is the owner's callback for exactly this arena.
            Some(grow) => unsafe { grow(self, size, align) },
            None => ptr::null_mut(),
        }
    }

    /// Copies `bytes` into the arena; returns null when memory is exhausted.
    ///
    /// # Safety
    /// As for [`Arena::alloc`].
    #[inline]
    pub unsafe fn alloc_copy(&mut self, bytes: &[u8]) -> *mut u8 {
        // SAFETY: forwarded to the caller.
        let p = unsafe { self.alloc(bytes.len(), 1) };
        if !p.is_null() {
            // SAFETY: `p` has room for `bytes.len()` bytes and cannot overlap a borrowed slice
            // that lives outside the free part of the arena.
            unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
        }
        p
    }
}

#[cfg(feature = "alloc")]
pub use owner::CallArena;

#[cfg(feature = "alloc")]
mod owner {
    use super::{Arena, ARENA_SIZE_V1};
    use alloc::alloc::{alloc, dealloc, Layout};
    use alloc::vec::Vec;
    use core::ptr::{self, NonNull};

    /// Alignment of every block; larger alignments are reached by padding inside a block.
    const BLOCK_ALIGN: usize = 16;
    /// Smallest overflow block.
    const MIN_OVERFLOW: usize = 4096;

    #[derive(Debug)]
    struct Block {
        ptr: NonNull<u8>,
        size: usize,
    }

    impl Block {
        fn new(size: usize) -> Option<Block> {
            let layout = Layout::from_size_align(size.max(1), BLOCK_ALIGN).ok()?;
            // SAFETY: the layout has a non-zero size.
            let ptr = NonNull::new(unsafe { alloc(layout) })?;
            Some(Block {
                ptr,
                size: layout.size(),
            })
        }

        fn end(&self) -> *mut u8 {
            // SAFETY: one past the end of the block's allocation.
            unsafe { self.ptr.as_ptr().add(self.size) }
        }
    }

    impl Drop for Block {
        fn drop(&mut self) {
            // SAFETY: allocated in `Block::new` with this exact layout.
            unsafe {
                dealloc(
                    self.ptr.as_ptr(),
                    Layout::from_size_align_unchecked(self.size, BLOCK_ALIGN),
                )
            };
        }
    }

    /// The host-side owner of an [`Arena`]. See the module docs.
    ///
    /// `repr(C)` with the arena header first: `grow` receives a `*mut Arena` and recovers the
    /// owner from it.
    #[repr(C)]
    #[derive(Debug)]
    pub struct CallArena {
        raw: Arena,
        primary: Block,
        overflow: Vec<Block>,
        /// Index of the next retained overflow block to hand out.
        next_overflow: usize,
        /// Upper bound on the bytes of all overflow blocks together.
        overflow_limit: usize,
        overflow_bytes: usize,
    }

    // SAFETY: the arena owns its blocks exclusively; the raw pointers point into them.
    unsafe impl Send for CallArena {}

    impl CallArena {
        /// Default size of the first block.
        pub const DEFAULT_PRIMARY: usize = 4096;

        /// An arena whose first block holds `primary` bytes, with unbounded overflow.
        /// Returns `None` if the first block cannot be allocated.
        pub fn new(primary: usize) -> Option<CallArena> {
            Self::with_limit(primary, usize::MAX)
        }

        /// Like [`CallArena::new`], but overflow blocks together never exceed `overflow_limit`
        /// bytes; an allocation past it fails with a null pointer.
        pub fn with_limit(primary: usize, overflow_limit: usize) -> Option<CallArena> {
            let primary = Block::new(primary.max(64))?;
            let mut arena = CallArena {
                raw: Arena {
                    struct_size: ARENA_SIZE_V1,
                    flags: 0,
                    cur: ptr::null_mut(),
                    end: ptr::null_mut(),
                    grow: Some(grow),
                },
                primary,
                overflow: Vec::new(),
                next_overflow: 0,
                overflow_limit,
                overflow_bytes: 0,
            };
            arena.reset();
            Some(arena)
        }

        /// The guest-visible header, to put into a call context.
        pub fn as_raw(&mut self) -> *mut Arena {
            &mut self.raw
        }

        /// The address of the guest-visible header, to compare with a context's (read-only).
        #[inline(always)]
        pub fn as_raw_const(&self) -> *const Arena {
            &self.raw
        }

        /// Allocates from the arena (see [`Arena::alloc`]).
        pub fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
            // SAFETY: the header describes one of this arena's live blocks.
            unsafe { self.raw.alloc(size, align) }
        }

        /// Invalidates every allocation and rewinds to the first block. Overflow blocks are
        /// kept for reuse.
        #[inline]
        pub fn reset(&mut self) {
            self.raw.cur = self.primary.ptr.as_ptr();
            self.raw.end = self.primary.end();
            self.next_overflow = 0;
        }

        /// True when the arena is exactly as [`CallArena::reset`] leaves it (nothing allocated
        /// since), so a caller can skip rewriting it before the next call.
        #[inline(always)]
        pub fn is_reset(&self) -> bool {
            self.next_overflow == 0
                && self.raw.cur == self.primary.ptr.as_ptr()
                && self.raw.end == self.primary.end()
        }

        /// Number of overflow blocks currently retained.
        pub fn retained_blocks(&self) -> usize {
            self.overflow.len()
        }

        /// Total bytes owned by the arena (first block plus retained blocks).
        pub fn capacity(&self) -> usize {
            self.primary.size + self.overflow_bytes
        }

        /// Frees the retained overflow blocks (after a call with an unusually large result).
        pub fn shrink(&mut self) {
            self.reset();
            self.overflow.clear();
            self.overflow_bytes = 0;
        }

        fn use_block(&mut self, index: usize) {
            self.raw.cur = self.overflow[index].ptr.as_ptr();
            self.raw.end = self.overflow[index].end();
            self.next_overflow = index + 1;
        }

        fn grow_to_fit(&mut self, size: usize, align: usize) -> *mut u8 {
            if !align.is_power_of_two() {
                return ptr::null_mut();
            }
            let Some(needed) = size.checked_add(align) else {
                return ptr::null_mut();
            };
            // Retained blocks first: after a warm-up, overflow costs no system allocation.
            while self.next_overflow < self.overflow.len() {
                let index = self.next_overflow;
                if self.overflow[index].size >= needed {
                    self.use_block(index);
                    // SAFETY: the block is live and large enough.
                    return unsafe { self.raw.alloc(size, align) };
                }
                self.next_overflow += 1;
            }
            let last = self.overflow.last().map_or(self.primary.size, |b| b.size);
            let block_size = needed.max(MIN_OVERFLOW).max(last.saturating_mul(2));
            let block_size = if self.overflow_bytes.saturating_add(block_size) > self.overflow_limit
            {
                needed
            } else {
                block_size
            };
            if self.overflow_bytes.saturating_add(block_size) > self.overflow_limit {
                return ptr::null_mut();
            }
            let Some(block) = Block::new(block_size) else {
                return ptr::null_mut();
            };
            self.overflow_bytes += block.size;
            self.overflow.push(block);
            self.use_block(self.overflow.len() - 1);
            // SAFETY: the new block is live and holds `size + align` bytes.
            unsafe { self.raw.alloc(size, align) }
        }
    }

    unsafe extern "C" fn grow(arena: *mut Arena, size: usize, align: usize) -> *mut u8 {
        if arena.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: this callback is only installed in `CallArena::raw`, the first field of a
        // `repr(C)` `CallArena`, so the header's address is the owner's address.
        let owner = unsafe { &mut *(arena as *mut CallArena) };
        owner.grow_to_fit(size, align)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn primary_allocations_are_aligned_and_disjoint() {
            let mut a = CallArena::new(256).expect("arena");
            let p1 = a.alloc(3, 1);
            let p2 = a.alloc(8, 8);
            let p3 = a.alloc(16, 16);
            assert!(!p1.is_null() && !p2.is_null() && !p3.is_null());
            assert_eq!(p2 as usize % 8, 0);
            assert_eq!(p3 as usize % 16, 0);
            assert!(p2 as usize >= p1 as usize + 3);
            assert!(p3 as usize >= p2 as usize + 8);
            assert_eq!(a.retained_blocks(), 0);
            assert!(
                a.alloc(1, 3).is_null(),
                "non power-of-two alignment is refused"
            );
        }

        #[test]
        fn is_reset_sees_any_use() {
            let mut a = CallArena::new(64).expect("arena");
            assert!(a.is_reset());
            a.alloc(1, 1);
            assert!(!a.is_reset(), "an allocation in the first block");
            a.reset();
            assert!(a.is_reset());
            a.alloc(10_000, 8);
            assert!(!a.is_reset(), "an overflow block in use");
            a.reset();
            assert!(a.is_reset());
            // A guest may move the end of the header it was handed.
            // SAFETY: the arena's own header, written as a guest could.
            unsafe { (*a.as_raw()).end = (*a.as_raw()).cur };
            assert!(!a.is_reset(), "a moved end");
        }

        #[test]
        fn overflow_blocks_are_retained_and_reused() {
            let mut a = CallArena::new(64).expect("arena");
            let big = a.alloc(10_000, 8);
            assert!(!big.is_null());
            // SAFETY: 10 000 bytes were just allocated at `big`.
            unsafe { ptr::write_bytes(big, 0xAB, 10_000) };
            assert_eq!(a.retained_blocks(), 1);
            a.reset();
            let again = a.alloc(10_000, 8);
            assert_eq!(again, big, "the retained block is reused after reset");
            assert_eq!(a.retained_blocks(), 1);
            let cap = a.capacity();
            a.reset();
            let small = a.alloc(8, 8);
            assert!(small as usize >= a.primary.ptr.as_ptr() as usize);
            assert_eq!(a.capacity(), cap);
            a.shrink();
            assert_eq!(a.retained_blocks(), 0);
        }

        #[test]
        fn limit_is_enforced() {
            let mut a = CallArena::with_limit(64, 5000).expect("arena");
            assert!(!a.alloc(4000, 8).is_null());
            assert!(
                a.alloc(4000, 8).is_null(),
                "a second block would pass the limit"
            );
            assert!(a.alloc(usize::MAX, 8).is_null());
            assert!(
                !a.alloc(8, 8).is_null(),
                "the current block still serves small requests"
            );
        }

        #[test]
        fn many_blocks_then_drop() {
            let mut a = CallArena::new(64).expect("arena");
            for round in 0..3 {
                for i in 0..50 {
                    let p = a.alloc(1000 + i, 4);
                    assert!(!p.is_null());
                    // SAFETY: freshly allocated.
                    unsafe { ptr::write_bytes(p, round as u8, 1000 + i) };
                }
                a.reset();
            }
            assert!(a.retained_blocks() >= 1);
            drop(a); // frees every block; checked for leaks under valgrind in CI
        }

        #[test]
        fn empty_arena_fails_cleanly() {
            let mut raw = Arena::empty();
            // SAFETY: an empty arena has no block; alloc must return null.
            assert!(unsafe { raw.alloc(1, 1) }.is_null());
        }

        #[test]
        fn layout() {
            use core::mem::{align_of, offset_of, size_of};
            let w = size_of::<usize>();
            assert_eq!(size_of::<Arena>(), 8 + 3 * w);
            assert_eq!(align_of::<Arena>(), w);
            assert_eq!(offset_of!(Arena, struct_size), 0);
            assert_eq!(offset_of!(Arena, flags), 4);
            assert_eq!(offset_of!(Arena, cur), 8);
            assert_eq!(offset_of!(Arena, end), 8 + w);
            assert_eq!(offset_of!(Arena, grow), 8 + 2 * w);
            assert_eq!(offset_of!(CallArena, raw), 0);
        }
    }
}
