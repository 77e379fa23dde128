//! Borrowed views: strings, byte strings and lists, as `{pointer, length}` pairs.
//!
//! A view never owns memory. Who keeps it alive is said by the function that hands it out; for
//! results of a contract call it is the caller's call arena (see `docs/ABI.md`).

use core::ffi::c_void;

/// A UTF-8 string view, not NUL-terminated. A null `ptr` is allowed only with `len == 0`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Str {
    /// First byte, or null for the empty string.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

// SAFETY: a view is a plain pointer/length pair; sharing it across threads is as safe as sharing
// the data it points to, which every function handing one out documents.
unsafe impl Send for Str {}
// SAFETY: as above, a view is read-only.
unsafe impl Sync for Str {}

impl Str {
    /// The empty string.
    pub const EMPTY: Str = Str {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// Views a Rust string. The view borrows `s` without a lifetime: keep `s` alive.
    pub const fn new(s: &str) -> Str {
        Str {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// The viewed bytes.
    ///
    /// # Safety
    /// `ptr` must be null with `len == 0`, or point to `len` readable bytes that stay valid and
    /// unchanged for `'a`.
    pub unsafe fn as_bytes<'a>(&self) -> &'a [u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: the caller guarantees `len` readable bytes at a non-null `ptr`.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The viewed string, checked for UTF-8.
    ///
    /// # Safety
    /// As for [`Str::as_bytes`].
    pub unsafe fn to_str<'a>(&self) -> Result<&'a str, core::str::Utf8Error> {
        // SAFETY: forwarded to the caller.
        core::str::from_utf8(unsafe { self.as_bytes() })
    }

    /// True when the view is malformed: a null pointer with a non-zero length.
    pub const fn is_malformed(&self) -> bool {
        self.ptr.is_null() && self.len != 0
    }
}

/// A byte string view (`list<u8>` in a contract).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Bytes {
    /// First byte, or null when empty.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

// SAFETY: see `Str`.
unsafe impl Send for Bytes {}
// SAFETY: see `Str`.
unsafe impl Sync for Bytes {}

impl Bytes {
    /// The empty byte string.
    pub const EMPTY: Bytes = Bytes {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// Views a byte slice without a lifetime: keep `b` alive.
    pub const fn new(b: &[u8]) -> Bytes {
        Bytes {
            ptr: b.as_ptr(),
            len: b.len(),
        }
    }

    /// The viewed bytes.
    ///
    /// # Safety
    /// As for [`Str::as_bytes`].
    pub unsafe fn as_slice<'a>(&self) -> &'a [u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: the caller guarantees `len` readable bytes at a non-null `ptr`.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// A list view (`list<T>` in a contract): `len` elements laid out by `T`'s C layout.
/// The element type is not part of the view; the contract's descriptor says what it is.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct List {
    /// First element, or null when empty.
    pub ptr: *const c_void,
    /// Number of elements (not bytes).
    pub len: usize,
}

// SAFETY: see `Str`.
unsafe impl Send for List {}
// SAFETY: see `Str`.
unsafe impl Sync for List {}

impl List {
    /// The empty list.
    pub const EMPTY: List = List {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// Views a slice without a lifetime: keep `items` alive.
    pub const fn new<T>(items: &[T]) -> List {
        List {
            ptr: items.as_ptr() as *const c_void,
            len: items.len(),
        }
    }

    /// The viewed elements as `T`s.
    ///
    /// # Safety
    /// `ptr` must be null with `len == 0`, or point to `len` valid, aligned `T`s alive for `'a`.
    pub unsafe fn as_slice<'a, T>(&self) -> &'a [T] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: the caller guarantees `len` valid elements at a non-null, aligned `ptr`.
        unsafe { core::slice::from_raw_parts(self.ptr as *const T, self.len) }
    }

    /// Encodes `items` into a fresh array of `R`s and views it: the one way generated host
    /// callers and guest glue build a list whose elements need converting.
    ///
    /// `alloc(arena, size, align)` returns fresh memory from the arena, or null when it is
    /// exhausted; `each` encodes one element (and may allocate from the arena itself); `oom`
    /// makes the error for an exhausted arena or an array too large to address.
    pub fn encode<A, T, R: Copy, E>(
        arena: &mut A,
        items: &[T],
        alloc: impl FnOnce(&mut A, usize, usize) -> *mut u8,
        mut each: impl FnMut(&mut A, &T) -> Result<R, E>,
        oom: impl FnOnce() -> E,
    ) -> Result<List, E> {
        if items.is_empty() {
            return Ok(List::EMPTY);
        }
        let Some(bytes) = items.len().checked_mul(core::mem::size_of::<R>()) else {
            return Err(oom());
        };
        let p = alloc(arena, bytes, core::mem::align_of::<R>()).cast::<R>();
        if p.is_null() && bytes != 0 {
            return Err(oom());
        }
        for (i, item) in items.iter().enumerate() {
            let raw = each(arena, item)?;
            // SAFETY: `p` holds `items.len()` aligned `R`s, fresh from the arena, and `i` is in
            // range; each element is written before anything reads it (a zero-sized `R` writes
            // nothing).
            unsafe { p.add(i).write(raw) };
        }
        Ok(List {
            ptr: p.cast_const().cast(),
            len: items.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn lists_are_encoded_into_the_arena() {
        let mut block = [0u64; 4];
        let mut used = false;
        // A one-shot "arena": one 32-byte block.
        let mut alloc = |_: &mut (), size: usize, align: usize| {
            if used || size > 32 || align > 8 {
                core::ptr::null_mut()
            } else {
                used = true;
                block.as_mut_ptr().cast::<u8>()
            }
        };
        let l = List::encode(
            &mut (),
            &[1u8, 2, 3],
            &mut alloc,
            |_, x| Ok::<_, ()>(u32::from(*x) * 10),
            || (),
        )
        .expect("fits");
        // SAFETY: three u32s just written into `block`.
        assert_eq!(unsafe { l.as_slice::<u32>() }, [10, 20, 30]);
        assert!(List::encode(&mut (), &[1u8], &mut alloc, |_, x| Ok(*x), || "oom").is_err());
        let empty: [u8; 0] = [];
        let e = List::encode(
            &mut (),
            &empty,
            |_: &mut (), _, _| unreachable!(),
            |_, x| Ok::<_, ()>(*x),
            || (),
        );
        assert_eq!(e.map(|l| l.len), Ok(0));
        let failing = List::encode(
            &mut (),
            &[7u8],
            |_: &mut (), _, _| [0u8; 1].as_mut_ptr(),
            |_, _| Err::<u8, _>("bad"),
            || "oom",
        );
        assert_eq!(failing.map(|l| l.len), Err("bad"));
    }

    #[test]
    fn layouts() {
        let w = size_of::<usize>();
        assert_eq!((size_of::<Str>(), align_of::<Str>()), (2 * w, w));
        assert_eq!((offset_of!(Str, ptr), offset_of!(Str, len)), (0, w));
        assert_eq!((size_of::<Bytes>(), align_of::<Bytes>()), (2 * w, w));
        assert_eq!((offset_of!(Bytes, ptr), offset_of!(Bytes, len)), (0, w));
        assert_eq!((size_of::<List>(), align_of::<List>()), (2 * w, w));
        assert_eq!((offset_of!(List, ptr), offset_of!(List, len)), (0, w));
    }

    #[test]
    fn views_round_trip() {
        let s = Str::new("héllo");
        // SAFETY: the view borrows a live literal.
        assert_eq!(unsafe { s.to_str() }, Ok("héllo"));
        // SAFETY: the empty view has no bytes to read.
        assert_eq!(unsafe { Str::EMPTY.as_bytes() }, b"");
        assert!(Str {
            ptr: core::ptr::null(),
            len: 3
        }
        .is_malformed());
        let data = [1u32, 2, 3];
        let l = List::new(&data);
        // SAFETY: `data` outlives the view.
        assert_eq!(unsafe { l.as_slice::<u32>() }, &[1, 2, 3]);
        let b = Bytes::new(b"ab");
        // SAFETY: the literal outlives the view.
        assert_eq!(unsafe { b.as_slice() }, b"ab");
    }
}
