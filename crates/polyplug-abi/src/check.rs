//! What a well-formed value of the ABI is, checked once for every reader.
//!
//! A peer's memory may hold any bit pattern. Reading it as a Rust `bool`, `char` or enum, or
//! following a view, is sound only after these checks: `bool` bytes are 0 or 1, `char`s are
//! Unicode scalar values, enum indices name a case, flags set no undeclared bit, option and
//! result tags are 0 or 1, and a view is null only when empty, aligned for its elements and no
//! larger than a bound. Generated guest glue, generated host callers and the value walker of
//! `polyplug-contract` all read through this module, so the rules and their messages live in one
//! place. What cannot be checked is a peer's promise that a non-null view points to as many
//! readable bytes as it says.
//!
//! Needs the `alloc` feature: a [`Malformed`] carries its message.

use crate::tagged::{RawOption, RawResult};
use crate::views::{Bytes, List, Str};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::mem::{align_of, size_of};

/// A value that breaks the ABI's rules, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

impl Malformed {
    /// A failure with this message.
    #[cold]
    pub fn new(message: impl Into<String>) -> Malformed {
        Malformed(message.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for Malformed {}

/// Builds a failure's message out of line: the checks stay a compare and a branch where they
/// are inlined, however many words their messages have.
#[cold]
#[inline(never)]
fn fail(args: fmt::Arguments<'_>) -> Malformed {
    Malformed(alloc::fmt::format(args))
}

/// The result of a check.
pub type Checked<T> = Result<T, Malformed>;

/// The largest view any reader accepts by default: what a slice may cover.
pub const MAX_VIEW_BYTES_ANY: usize = isize::MAX as usize;

/// A `bool` from its byte: 0 or 1.
#[inline]
pub fn bool_from(raw: u8) -> Checked<bool> {
    match raw {
        0 => Ok(false),
        1 => Ok(true),
        x => Err(fail(format_args!("bool byte is {x} (must be 0 or 1)"))),
    }
}

/// A `char` from its Unicode scalar value.
#[inline]
pub fn char_from(raw: u32) -> Checked<char> {
    char::from_u32(raw)
        .ok_or_else(|| fail(format_args!("char {raw:#x} is not a Unicode scalar value")))
}

/// An enum case index, checked against the enum's `count` cases.
#[inline]
pub fn enum_index(raw: u32, count: usize, name: &str) -> Checked<u32> {
    if (raw as usize) < count {
        Ok(raw)
    } else {
        Err(bad_case(raw, count, name))
    }
}

/// An enum case from its index; `cases` is a generated `from_raw`, `count` the number of cases.
#[inline]
pub fn enum_from<T>(raw: u32, cases: fn(u32) -> Option<T>, name: &str, count: usize) -> Checked<T> {
    cases(raw).ok_or_else(|| bad_case(raw, count, name))
}

#[cold]
fn bad_case(raw: u32, count: usize, name: &str) -> Malformed {
    fail(format_args!(
        "case index {raw} is out of range for enum `{name}` ({count} cases)"
    ))
}

/// A flags word, checked to set none of the bits past the type's `count` flags.
#[inline]
pub fn flags_from(bits: u64, count: usize, name: &str) -> Checked<u64> {
    let known = if count >= 64 {
        u64::MAX
    } else {
        (1u64 << count) - 1
    };
    if bits & !known == 0 {
        Ok(bits)
    } else {
        Err(fail(format_args!(
            "flags `{name}` has unknown bits {:#x} set ({count} flags)",
            bits & !known
        )))
    }
}

/// An option's tag: `true` when the value is present.
#[inline]
pub fn option_tag(raw: u8) -> Checked<bool> {
    match raw {
        0 => Ok(false),
        1 => Ok(true),
        x => Err(fail(format_args!("option tag is {x} (must be 0 or 1)"))),
    }
}

/// A result's tag: `true` for `err`.
#[inline]
pub fn result_tag(raw: u8) -> Checked<bool> {
    match raw {
        0 => Ok(false),
        1 => Ok(true),
        x => Err(fail(format_args!(
            "result tag is {x} (must be 0 for ok or 1 for err)"
        ))),
    }
}

/// Checks a `{ptr, len}` view of `len` elements of `size` bytes aligned to `align` (a power of
/// two), covering at most `max_bytes`; `what` names it in messages (`string`, `list`...).
/// Returns the number of bytes it covers.
#[inline]
pub fn view(
    ptr: *const u8,
    len: usize,
    size: usize,
    align: usize,
    max_bytes: usize,
    what: &str,
) -> Checked<usize> {
    if len == 0 {
        return Ok(0);
    }
    if ptr.is_null() {
        return Err(fail(format_args!(
            "{what} view has a null pointer and length {len}"
        )));
    }
    // No slice may cover more than `isize::MAX` bytes, whatever bound the reader asked for.
    // The size is checked first: an absurd length is refused whatever else is wrong.
    let bound = max_bytes.min(MAX_VIEW_BYTES_ANY);
    let bytes = match len.checked_mul(size) {
        Some(bytes) if bytes <= bound => bytes,
        _ => {
            return Err(fail(format_args!(
                "{what} of length {len} is larger than the {bound}-byte bound"
            )))
        }
    };
    if (ptr as usize) & (align.max(1) - 1) != 0 {
        return Err(fail(format_args!(
            "{what} view at {ptr:p} is not aligned to {align} bytes"
        )));
    }
    Ok(bytes)
}

/// UTF-8 text from bytes.
#[inline]
pub fn utf8(bytes: &[u8]) -> Checked<&str> {
    core::str::from_utf8(bytes).map_err(|e| fail(format_args!("string is not UTF-8: {e}")))
}

/// The string a view points to, borrowed.
///
/// # Safety
/// A well-formed view must point to `len` readable bytes that stay valid for `'a`.
#[inline]
pub unsafe fn str_view<'a>(raw: Str) -> Checked<&'a str> {
    view(raw.ptr, raw.len, 1, 1, MAX_VIEW_BYTES_ANY, "string")?;
    // SAFETY: checked well-formed; readability is the caller's promise.
    utf8(unsafe { raw.as_bytes() })
}

/// The bytes a view points to, borrowed.
///
/// # Safety
/// As for [`str_view`].
#[inline]
pub unsafe fn bytes_view<'a>(raw: Bytes) -> Checked<&'a [u8]> {
    view(raw.ptr, raw.len, 1, 1, MAX_VIEW_BYTES_ANY, "byte list")?;
    // SAFETY: checked well-formed; readability is the caller's promise.
    Ok(unsafe { raw.as_slice() })
}

/// The elements a list view points to, borrowed. `R` is a raw ABI type (integers, floats,
/// views, raw structs: every bit pattern of its fields is valid), so only the view is checked.
///
/// # Safety
/// A well-formed view must point to `len` readable `R`s that stay valid for `'a`.
#[inline]
pub unsafe fn list_view<'a, R>(raw: List) -> Checked<&'a [R]> {
    view(
        raw.ptr.cast(),
        raw.len,
        size_of::<R>(),
        align_of::<R>(),
        MAX_VIEW_BYTES_ANY,
        "list",
    )?;
    // SAFETY: checked non-null (or empty), aligned and in size; readability is the caller's.
    Ok(unsafe { raw.as_slice::<R>() })
}

/// An owned `String` from a view.
///
/// # Safety
/// As for [`str_view`].
#[inline]
pub unsafe fn string_from(raw: Str) -> Checked<String> {
    // SAFETY: forwarded to the caller.
    unsafe { str_view(raw) }.map(ToString::to_string)
}

/// An owned byte vector from a view.
///
/// # Safety
/// As for [`str_view`].
#[inline]
pub unsafe fn bytes_from(raw: Bytes) -> Checked<Vec<u8>> {
    // SAFETY: forwarded to the caller.
    unsafe { bytes_view(raw) }.map(<[u8]>::to_vec)
}

/// An owned vector, decoding each raw element with `each`.
///
/// # Safety
/// As for [`list_view`].
#[inline]
pub unsafe fn vec_from<R, T>(raw: List, each: impl FnMut(&R) -> Checked<T>) -> Checked<Vec<T>> {
    // SAFETY: forwarded to the caller.
    let items = unsafe { list_view::<R>(raw) }?;
    items.iter().map(each).collect()
}

/// An `Option` from its raw form, decoding the value with `value`.
///
/// # Safety
/// When `is_some` is 1, the value must be initialised (a peer's memory always is).
#[inline]
pub unsafe fn option_from<R: Copy, T>(
    raw: &RawOption<R>,
    value: impl FnOnce(&R) -> Checked<T>,
) -> Checked<Option<T>> {
    if option_tag(raw.is_some)? {
        // SAFETY: the tag says the value is present; initialised per the caller's promise.
        value(unsafe { raw.value.assume_init_ref() }).map(Some)
    } else {
        Ok(None)
    }
}

/// A `Result` from its raw form, decoding the payload the tag selects.
///
/// # Safety
/// The selected payload must be initialised (a peer's memory always is).
#[inline]
pub unsafe fn result_from<RO: Copy, RE: Copy, T, E>(
    raw: &RawResult<RO, RE>,
    ok: impl FnOnce(&RO) -> Checked<T>,
    err: impl FnOnce(&RE) -> Checked<E>,
) -> Checked<Result<T, E>> {
    if result_tag(raw.is_err)? {
        // SAFETY: the tag selects `err`; initialised per the caller's promise.
        err(unsafe { &raw.payload.err }).map(Err)
    } else {
        // SAFETY: the tag selects `ok`; initialised per the caller's promise.
        ok(unsafe { &raw.payload.ok }).map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(bool_from(1), Ok(true));
        assert_eq!(bool_from(0), Ok(false));
        assert_eq!(
            bool_from(5).unwrap_err().0,
            "bool byte is 5 (must be 0 or 1)"
        );
        assert_eq!(char_from('é' as u32), Ok('é'));
        assert_eq!(
            char_from(0xD800).unwrap_err().0,
            "char 0xd800 is not a Unicode scalar value"
        );
        assert!(char_from(0x11_0000).is_err());
        assert_eq!(enum_index(2, 3, "k"), Ok(2));
        assert_eq!(
            enum_index(3, 3, "shape-kind").unwrap_err().0,
            "case index 3 is out of range for enum `shape-kind` (3 cases)"
        );
        let cases = |v: u32| (v < 2).then_some(v * 10);
        assert_eq!(enum_from(1, cases, "k", 2), Ok(10));
        assert!(enum_from(2, cases, "k", 2).is_err());
        assert_eq!(flags_from(0b101, 3, "s"), Ok(0b101));
        assert_eq!(
            flags_from(0b1001, 3, "style").unwrap_err().0,
            "flags `style` has unknown bits 0x8 set (3 flags)"
        );
        assert_eq!(flags_from(u64::MAX, 64, "all"), Ok(u64::MAX));
        assert_eq!(option_tag(1), Ok(true));
        assert_eq!(
            option_tag(2).unwrap_err().0,
            "option tag is 2 (must be 0 or 1)"
        );
        assert_eq!(result_tag(1), Ok(true));
        assert_eq!(
            result_tag(7).unwrap_err().0,
            "result tag is 7 (must be 0 for ok or 1 for err)"
        );
    }

    #[test]
    fn views() {
        let data = [1.5f64, 2.5];
        let p = data.as_ptr().cast::<u8>();
        assert_eq!(view(p, 2, 8, 8, 16, "list"), Ok(16));
        assert_eq!(view(core::ptr::null(), 0, 8, 8, 0, "list"), Ok(0));
        assert_eq!(
            view(core::ptr::null(), 3, 1, 1, 100, "string")
                .unwrap_err()
                .0,
            "string view has a null pointer and length 3"
        );
        // SAFETY: one byte into a live array, only compared.
        let odd = unsafe { p.add(1) };
        assert!(view(odd, 1, 8, 8, 100, "list")
            .unwrap_err()
            .0
            .contains("not aligned to 8 bytes"));
        assert_eq!(
            view(p, 3, 8, 8, 16, "list").unwrap_err().0,
            "list of length 3 is larger than the 16-byte bound"
        );
        assert_eq!(
            view(p, usize::MAX / 8, 8, 8, usize::MAX, "list")
                .unwrap_err()
                .0,
            alloc::format!(
                "list of length {} is larger than the {}-byte bound",
                usize::MAX / 8,
                isize::MAX
            )
        );
        assert!(view(p, usize::MAX, 8, 8, usize::MAX, "list").is_err());
        assert_eq!(
            utf8(&[b'a', 0xFF]).unwrap_err().0,
            "string is not UTF-8: invalid utf-8 sequence of 1 bytes from index 1"
        );
        // SAFETY: views of live data, or malformed views refused unread.
        unsafe {
            assert_eq!(str_view(Str::new("héllo")), Ok("héllo"));
            assert_eq!(str_view(Str::EMPTY), Ok(""));
            assert!(bytes_view(Bytes {
                ptr: core::ptr::null(),
                len: 3
            })
            .is_err());
            assert_eq!(list_view::<f64>(List::new(&data)), Ok(&data[..]));
            let strs = [Str::new("a"), Str::new("bc")];
            assert_eq!(
                vec_from(List::new(&strs), |s: &Str| string_from(*s)),
                Ok(alloc::vec!["a".to_string(), "bc".to_string()])
            );
            assert_eq!(bytes_from(Bytes::new(b"xy")), Ok(b"xy".to_vec()));
        }
    }

    #[test]
    fn tagged() {
        // SAFETY: values built here are initialised where their tags say so.
        unsafe {
            let id = |v: &u32| Ok(*v);
            assert_eq!(option_from(&RawOption::some(7u32), id), Ok(Some(7)));
            assert_eq!(option_from(&RawOption::<u32>::none(), id), Ok(None));
            let mut bad = RawOption::some(1u32);
            bad.is_some = 9;
            assert!(option_from(&bad, id).is_err());
            let ok = RawResult::<u32, u8>::ok(5);
            assert_eq!(result_from(&ok, id, |e| Ok(*e)), Ok(Ok(5)));
            let err = RawResult::<u32, u8>::err(6);
            assert_eq!(result_from(&err, id, |e| Ok(*e)), Ok(Err(6)));
            let mut bad = err;
            bad.is_err = 2;
            assert!(result_from(&bad, id, |e| Ok(*e)).is_err());
        }
    }
}
