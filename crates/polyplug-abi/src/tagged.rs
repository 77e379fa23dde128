//! The C layouts of `option<T>` and `result<T, E>` as generic Rust types, for code that knows
//! `T` and `E` statically: generated guest glue and generated host callers use these, and
//! [`crate::layout`] computes the same layouts from descriptors.

use core::mem::MaybeUninit;

/// The C layout of `option<T>`: `{ uint8_t is_some; T value; }`. `value` is meaningful only
/// when `is_some` is 1.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RawOption<T: Copy> {
    /// 1 when a value is present, 0 when not; anything else is malformed.
    pub is_some: u8,
    /// The value, when `is_some` is 1.
    pub value: MaybeUninit<T>,
}

impl<T: Copy> RawOption<T> {
    /// `none`.
    pub const fn none() -> RawOption<T> {
        RawOption {
            is_some: 0,
            value: MaybeUninit::uninit(),
        }
    }

    /// `some(value)`.
    pub const fn some(value: T) -> RawOption<T> {
        RawOption {
            is_some: 1,
            value: MaybeUninit::new(value),
        }
    }
}

/// The payload union of `result<T, E>`; an absent payload is `()`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union RawPayload<T: Copy, E: Copy> {
    /// The `ok` payload.
    pub ok: T,
    /// The `err` payload.
    pub err: E,
}

/// The C layout of `result<T, E>`: `{ uint8_t is_err; union { T ok; E err; } payload; }`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RawResult<T: Copy, E: Copy> {
    /// 0 for `ok`, 1 for `err`; anything else is malformed.
    pub is_err: u8,
    /// The payload the tag selects.
    pub payload: RawPayload<T, E>,
}

impl<T: Copy, E: Copy> RawResult<T, E> {
    /// `ok(value)`.
    pub const fn ok(value: T) -> RawResult<T, E> {
        RawResult {
            is_err: 0,
            payload: RawPayload { ok: value },
        }
    }

    /// `err(value)`.
    pub const fn err(value: E) -> RawResult<T, E> {
        RawResult {
            is_err: 1,
            payload: RawPayload { err: value },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{option_payload_offset, result_payload_offset, Layout};
    use crate::Str;
    use core::mem::{align_of, offset_of, size_of};

    fn of<T>() -> Layout {
        Layout {
            size: size_of::<T>() as u32,
            align: align_of::<T>() as u32,
        }
    }

    #[test]
    fn option_matches_the_layout_rules() {
        assert_eq!(
            offset_of!(RawOption<u64>, value) as u32,
            option_payload_offset(of::<u64>())
        );
        assert_eq!(
            offset_of!(RawOption<u8>, value) as u32,
            option_payload_offset(of::<u8>())
        );
        assert_eq!(size_of::<RawOption<u32>>(), 8);
        assert_eq!(offset_of!(RawOption<Str>, is_some), 0);
    }

    #[test]
    fn result_matches_the_layout_rules() {
        assert_eq!(
            offset_of!(RawResult<u8, u64>, payload) as u32,
            result_payload_offset(of::<u8>(), of::<u64>())
        );
        assert_eq!(
            offset_of!(RawResult<(), u16>, payload) as u32,
            result_payload_offset(Layout::EMPTY, of::<u16>())
        );
        assert_eq!(size_of::<RawResult<u32, Str>>(), 8 + size_of::<Str>());
        assert_eq!(offset_of!(RawResult<u32, u32>, is_err), 0);
        assert_eq!(size_of::<RawPayload<u8, u64>>(), 8);
    }
}
