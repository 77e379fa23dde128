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
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

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
