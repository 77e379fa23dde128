//! The C layout of contract types, computed in exactly one place.
//!
//! | WIT type | C layout |
//! |---|---|
//! | `bool`, `s8`, `u8` | 1 byte |
//! | `s16`, `u16` | 2 bytes |
//! | `s32`, `u32`, `f32`, `char` | 4 bytes (`char` is a Unicode scalar in a `uint32_t`) |
//! | `s64`, `u64`, `f64` | 8 bytes |
//! | `string`, `list<u8>`, `list<T>` | `{ const T *ptr; size_t len; }` |
//! | `record`, `tuple` | a C struct of the members in order, natural alignment |
//! | `enum` | `uint32_t` case index |
//! | `flags` | `uint32_t` for up to 32 flags, `uint64_t` up to 64 (more are refused) |
//! | `option<T>` | `struct { uint8_t is_some; T value; }` |
//! | `result<T, E>` | `struct { uint8_t is_err; union { T ok; E err; } payload; }` |
//!
//! A function's arguments are the C struct of its parameters; its result is the layout of its
//! result type, or nothing (size 0) when it has none.

use crate::types::{FieldDesc, FuncDesc, TypeDesc, TypeKind};
use core::fmt;

/// Deepest nesting accepted; also stops cycles in a malformed descriptor graph.
pub const MAX_DEPTH: u32 = 32;
const PTR: u32 = core::mem::size_of::<usize>() as u32;

/// Size and alignment of a type, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Size, a multiple of `align`.
    pub size: u32,
    /// Alignment, a power of two.
    pub align: u32,
}

impl Layout {
    /// The layout of "nothing": a function without result.
    pub const EMPTY: Layout = Layout { size: 0, align: 1 };

    const fn of(size: u32, align: u32) -> Layout {
        Layout { size, align }
    }
}

/// Why a descriptor has no layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// A type pointer that must be set was null.
    NullType,
    /// A `kind` code this version does not know.
    UnknownKind(u32),
    /// A record, tuple, enum or flags type with no members, or a member list pointer that is null.
    NoMembers(TypeKind),
    /// A `flags` type with more than 64 flags.
    TooManyFlags(u32),
    /// Nesting deeper than [`MAX_DEPTH`] (or a cycle).
    TooDeep,
    /// A size that does not fit in 32 bits.
    TooLarge,
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::NullType => f.write_str("a type descriptor pointer is null"),
            LayoutError::UnknownKind(k) => write!(f, "unknown type kind code {k}"),
            LayoutError::NoMembers(k) => write!(f, "a {} type has no members", k.wit_name()),
            LayoutError::TooManyFlags(n) => {
                write!(f, "flags type has {n} flags; at most 64 are supported")
            }
            LayoutError::TooDeep => write!(
                f,
                "types nest deeper than {MAX_DEPTH} levels (or form a cycle)"
            ),
            LayoutError::TooLarge => f.write_str("type is larger than 4 GiB"),
        }
    }
}

const fn align_up(n: u64, align: u32) -> u64 {
    let a = align as u64;
    (n + a - 1) & !(a - 1)
}

fn checked(size: u64, align: u32) -> Result<Layout, LayoutError> {
    let size = align_up(size, align);
    u32::try_from(size)
        .map(|s| Layout::of(s, align))
        .map_err(|_| LayoutError::TooLarge)
}

/// Offset of the value inside an `option<T>` whose `T` has layout `elem`.
pub const fn option_payload_offset(elem: Layout) -> u32 {
    align_up(1, elem.align) as u32
}

/// Offset of the payload union inside a `result<T, E>` with payload layouts `ok` and `err`
/// (use [`Layout::EMPTY`] for an absent payload).
pub const fn result_payload_offset(ok: Layout, err: Layout) -> u32 {
    let a = if ok.align > err.align {
        ok.align
    } else {
        err.align
    };
    align_up(1, a) as u32
}

/// The members of a type with fields, as a slice.
///
/// # Safety
/// `ty.fields` must point to `ty.field_count` valid descriptors (or be null).
pub unsafe fn members(ty: &TypeDesc) -> &[FieldDesc] {
    if ty.fields.is_null() || ty.field_count == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `field_count` descriptors at `fields`.
        unsafe { core::slice::from_raw_parts(ty.fields, ty.field_count as usize) }
    }
}

/// The parameters of a function, as a slice.
///
/// # Safety
/// `f.params` must point to `f.param_count` valid descriptors (or be null).
pub unsafe fn params(f: &FuncDesc) -> &[FieldDesc] {
    if f.params.is_null() || f.param_count == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `param_count` descriptors at `params`.
        unsafe { core::slice::from_raw_parts(f.params, f.param_count as usize) }
    }
}

/// The C layout of a type.
///
/// # Safety
/// Every pointer reachable from `ty` must be null or point to a valid descriptor.
pub unsafe fn type_layout(ty: &TypeDesc) -> Result<Layout, LayoutError> {
    // SAFETY: forwarded to the caller.
    unsafe { layout_at(ty, 0) }
}

/// The C layout of a struct of `fields` in order; writes each member's offset into `offsets`
/// when given (it must have one entry per field).
///
/// # Safety
/// As for [`type_layout`], for every field.
pub unsafe fn struct_layout(
    fields: &[FieldDesc],
    offsets: Option<&mut [u32]>,
) -> Result<Layout, LayoutError> {
    // SAFETY: forwarded to the caller.
    unsafe { struct_at(fields, offsets, 0) }
}

/// The layout of a function's argument struct, with per-parameter offsets when asked.
/// A function without parameters has [`Layout::EMPTY`].
///
/// # Safety
/// As for [`type_layout`], for every parameter.
pub unsafe fn args_layout(
    f: &FuncDesc,
    offsets: Option<&mut [u32]>,
) -> Result<Layout, LayoutError> {
    // SAFETY: forwarded to the caller.
    unsafe {
        let ps = params(f);
        if ps.is_empty() {
            return Ok(Layout::EMPTY);
        }
        struct_at(ps, offsets, 0)
    }
}

/// The layout of a function's result, [`Layout::EMPTY`] when it has none.
///
/// # Safety
/// As for [`type_layout`].
pub unsafe fn result_layout(f: &FuncDesc) -> Result<Layout, LayoutError> {
    // SAFETY: `result` is null or valid, as the caller guarantees.
    match unsafe { f.result.as_ref() } {
        None => Ok(Layout::EMPTY),
        // SAFETY: forwarded to the caller.
        Some(r) => unsafe { layout_at(r, 0) },
    }
}

unsafe fn struct_at(
    fields: &[FieldDesc],
    mut offsets: Option<&mut [u32]>,
    depth: u32,
) -> Result<Layout, LayoutError> {
    let mut size: u64 = 0;
    let mut align: u32 = 1;
    for (i, field) in fields.iter().enumerate() {
        // SAFETY: the caller guarantees each field type is null or valid.
        let ty = unsafe { field.ty.as_ref() }.ok_or(LayoutError::NullType)?;
        // SAFETY: as above.
        let l = unsafe { layout_at(ty, depth + 1) }?;
        size = align_up(size, l.align);
        if let Some(out) = offsets.as_deref_mut() {
            if let Some(slot) = out.get_mut(i) {
                *slot = u32::try_from(size).map_err(|_| LayoutError::TooLarge)?;
            }
        }
        size += l.size as u64;
        align = align.max(l.align);
    }
    checked(size, align)
}

unsafe fn optional(ty: *const TypeDesc, depth: u32) -> Result<Layout, LayoutError> {
    // SAFETY: the caller guarantees `ty` is null or valid.
    match unsafe { ty.as_ref() } {
        None => Ok(Layout::EMPTY),
        // SAFETY: as above.
        Some(t) => unsafe { layout_at(t, depth + 1) },
    }
}

unsafe fn layout_at(ty: &TypeDesc, depth: u32) -> Result<Layout, LayoutError> {
    if depth > MAX_DEPTH {
        return Err(LayoutError::TooDeep);
    }
    let kind = TypeKind::from_raw(ty.kind).ok_or(LayoutError::UnknownKind(ty.kind))?;
    Ok(match kind {
        TypeKind::Bool | TypeKind::S8 | TypeKind::U8 => Layout::of(1, 1),
        TypeKind::S16 | TypeKind::U16 => Layout::of(2, 2),
        TypeKind::S32 | TypeKind::U32 | TypeKind::F32 | TypeKind::Char => Layout::of(4, 4),
        TypeKind::S64 | TypeKind::U64 | TypeKind::F64 => Layout::of(8, 8),
        TypeKind::String | TypeKind::Bytes => Layout::of(2 * PTR, PTR),
        TypeKind::List => {
            // SAFETY: the element pointer is null or valid, as the caller guarantees.
            let elem = unsafe { ty.elem.as_ref() }.ok_or(LayoutError::NullType)?;
            // The element must itself have a layout, even though the view's does not depend on it.
            // SAFETY: as above.
            unsafe { layout_at(elem, depth + 1) }?;
            Layout::of(2 * PTR, PTR)
        }
        TypeKind::Record | TypeKind::Tuple => {
            // SAFETY: the caller guarantees the member list.
            let fs = unsafe { members(ty) };
            if fs.is_empty() {
                return Err(LayoutError::NoMembers(kind));
            }
            // SAFETY: as above.
            unsafe { struct_at(fs, None, depth) }?
        }
        TypeKind::Enum => {
            if ty.field_count == 0 || ty.fields.is_null() {
                return Err(LayoutError::NoMembers(kind));
            }
            Layout::of(4, 4)
        }
        TypeKind::Flags => match ty.field_count {
            0 => return Err(LayoutError::NoMembers(kind)),
            _ if ty.fields.is_null() => return Err(LayoutError::NoMembers(kind)),
            1..=32 => Layout::of(4, 4),
            33..=64 => Layout::of(8, 8),
            n => return Err(LayoutError::TooManyFlags(n)),
        },
        TypeKind::Option => {
            // SAFETY: the element pointer is null or valid.
            let elem = unsafe { ty.elem.as_ref() }.ok_or(LayoutError::NullType)?;
            // SAFETY: as above.
            let e = unsafe { layout_at(elem, depth + 1) }?;
            checked(option_payload_offset(e) as u64 + e.size as u64, e.align)?
        }
        TypeKind::Result => {
            // SAFETY: both payload pointers are null or valid.
            let (ok, err) = unsafe { (optional(ty.elem, depth)?, optional(ty.err, depth)?) };
            let align = ok.align.max(err.align);
            let off = result_payload_offset(ok, err) as u64;
            checked(off + ok.size.max(err.size) as u64, align)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{Bytes, List, Str};
    use core::mem::{align_of, offset_of, size_of};

    fn check<T>(ty: &TypeDesc) {
        // SAFETY: every descriptor in these tests is static and well-formed.
        let l = unsafe { type_layout(ty) }.expect("layout");
        assert_eq!(
            (l.size as usize, l.align as usize),
            (size_of::<T>(), align_of::<T>())
        );
    }

    static BOOL: TypeDesc = TypeDesc::scalar(TypeKind::Bool);
    static U8: TypeDesc = TypeDesc::scalar(TypeKind::U8);
    static S8: TypeDesc = TypeDesc::scalar(TypeKind::S8);
    static U16: TypeDesc = TypeDesc::scalar(TypeKind::U16);
    static S16: TypeDesc = TypeDesc::scalar(TypeKind::S16);
    static U32: TypeDesc = TypeDesc::scalar(TypeKind::U32);
    static S32: TypeDesc = TypeDesc::scalar(TypeKind::S32);
    static U64: TypeDesc = TypeDesc::scalar(TypeKind::U64);
    static S64: TypeDesc = TypeDesc::scalar(TypeKind::S64);
    static F32: TypeDesc = TypeDesc::scalar(TypeKind::F32);
    static F64: TypeDesc = TypeDesc::scalar(TypeKind::F64);
    static CHAR: TypeDesc = TypeDesc::scalar(TypeKind::Char);
    static STRING: TypeDesc = TypeDesc::scalar(TypeKind::String);
    static BYTES: TypeDesc = TypeDesc::scalar(TypeKind::Bytes);

    #[test]
    fn scalars_match_c() {
        check::<bool>(&BOOL);
        check::<u8>(&U8);
        check::<i8>(&S8);
        check::<u16>(&U16);
        check::<i16>(&S16);
        check::<u32>(&U32);
        check::<i32>(&S32);
        check::<u64>(&U64);
        check::<i64>(&S64);
        check::<f32>(&F32);
        check::<f64>(&F64);
        check::<u32>(&CHAR);
        check::<Str>(&STRING);
        check::<Bytes>(&BYTES);
    }

    #[repr(C)]
    struct Rec {
        a: u8,
        b: u64,
        c: u16,
        s: Str,
    }
    static REC_FIELDS: [FieldDesc; 4] = [
        FieldDesc::new("a", &U8),
        FieldDesc::new("b", &U64),
        FieldDesc::new("c", &U16),
        FieldDesc::new("s", &STRING),
    ];
    static REC: TypeDesc = TypeDesc::with_fields(TypeKind::Record, "rec", &REC_FIELDS);

    #[test]
    fn records_match_c_structs() {
        check::<Rec>(&REC);
        let mut offs = [0u32; 4];
        // SAFETY: static descriptors.
        unsafe { struct_layout(&REC_FIELDS, Some(&mut offs)) }.expect("layout");
        assert_eq!(
            offs.map(|o| o as usize),
            [
                offset_of!(Rec, a),
                offset_of!(Rec, b),
                offset_of!(Rec, c),
                offset_of!(Rec, s)
            ]
        );
    }

    #[repr(C)]
    struct Tup(u16, f64, u8);
    static TUP_FIELDS: [FieldDesc; 3] = [
        FieldDesc::new("", &U16),
        FieldDesc::new("", &F64),
        FieldDesc::new("", &U8),
    ];
    static TUP: TypeDesc = TypeDesc::with_fields(TypeKind::Tuple, "", &TUP_FIELDS);

    #[test]
    fn tuples_match_c_structs() {
        check::<Tup>(&TUP);
    }

    static CASES: [FieldDesc; 3] = [
        FieldDesc::label("red"),
        FieldDesc::label("green"),
        FieldDesc::label("blue"),
    ];
    static ENUM: TypeDesc = TypeDesc::with_fields(TypeKind::Enum, "color", &CASES);
    static FLAGS: TypeDesc = TypeDesc::with_fields(TypeKind::Flags, "perms", &CASES);
    static MANY: [FieldDesc; 65] = [FieldDesc::label("f"); 65];
    static FLAGS64: TypeDesc = TypeDesc::with_fields(TypeKind::Flags, "wide", {
        let s: &[FieldDesc] = &MANY;
        // 64 of the 65 labels.
        s.split_at(64).0
    });
    static FLAGS65: TypeDesc = TypeDesc::with_fields(TypeKind::Flags, "too-wide", &MANY);

    #[test]
    fn enums_and_flags() {
        check::<u32>(&ENUM);
        check::<u32>(&FLAGS);
        check::<u64>(&FLAGS64);
        // SAFETY: static descriptors.
        let got = unsafe { type_layout(&FLAGS65) };
        assert_eq!(got, Err(LayoutError::TooManyFlags(65)));
    }

    #[repr(C)]
    struct OptU64 {
        is_some: u8,
        value: u64,
    }
    #[repr(C)]
    struct OptRec {
        is_some: u8,
        value: Rec,
    }
    static OPT_U64: TypeDesc = TypeDesc::wrapping(TypeKind::Option, &U64);
    static OPT_REC: TypeDesc = TypeDesc::wrapping(TypeKind::Option, &REC);
    static OPT_U8: TypeDesc = TypeDesc::wrapping(TypeKind::Option, &U8);

    #[test]
    fn options_match_c_structs() {
        check::<OptU64>(&OPT_U64);
        check::<OptRec>(&OPT_REC);
        check::<[u8; 2]>(&OPT_U8);
        let e = Layout { size: 8, align: 8 };
        assert_eq!(option_payload_offset(e) as usize, offset_of!(OptU64, value));
    }

    #[repr(C)]
    union U32OrStr {
        ok: u32,
        err: Str,
    }
    #[repr(C)]
    struct ResU32Str {
        is_err: u8,
        payload: U32OrStr,
    }
    #[repr(C)]
    struct ResTupNone {
        is_err: u8,
        payload: Tup,
    }
    static RES: TypeDesc = TypeDesc::result(Some(&U32), Some(&STRING));
    static RES_OK_ONLY: TypeDesc = TypeDesc::result(Some(&TUP), None);
    static RES_EMPTY: TypeDesc = TypeDesc::result(None, None);
    static RES_ERR_ONLY: TypeDesc = TypeDesc::result(None, Some(&U16));

    #[test]
    fn results_match_c_unions() {
        check::<ResU32Str>(&RES);
        check::<ResTupNone>(&RES_OK_ONLY);
        check::<u8>(&RES_EMPTY);
        check::<[u16; 2]>(&RES_ERR_ONLY);
        let ok = Layout { size: 4, align: 4 };
        let err = Layout { size: 16, align: 8 };
        assert_eq!(
            result_payload_offset(ok, err) as usize,
            offset_of!(ResU32Str, payload)
        );
    }

    static LIST_REC: TypeDesc = TypeDesc::wrapping(TypeKind::List, &REC);
    static NESTED_FIELDS: [FieldDesc; 3] = [
        FieldDesc::new("items", &LIST_REC),
        FieldDesc::new("maybe", &OPT_REC),
        FieldDesc::new("flag", &BOOL),
    ];
    static NESTED: TypeDesc = TypeDesc::with_fields(TypeKind::Record, "nested", &NESTED_FIELDS);
    #[repr(C)]
    struct Nested {
        items: List,
        maybe: OptRec,
        flag: bool,
    }

    #[test]
    fn nested_types() {
        check::<List>(&LIST_REC);
        check::<Nested>(&NESTED);
    }

    static ARGS: [FieldDesc; 2] = [FieldDesc::new("x", &U8), FieldDesc::new("y", &F64)];
    static FUNC: FuncDesc = FuncDesc::new("f", &ARGS, Some(&RES));
    static VOID: FuncDesc = FuncDesc::new("g", &[], None);

    #[test]
    fn functions() {
        let mut offs = [0u32; 2];
        // SAFETY: static descriptors.
        let a = unsafe { args_layout(&FUNC, Some(&mut offs)) }.expect("args");
        assert_eq!((a.size, a.align, offs), (16, 8, [0, 8]));
        // SAFETY: static descriptors.
        let r = unsafe { result_layout(&FUNC) }.expect("result");
        assert_eq!(r.size as usize, size_of::<ResU32Str>());
        // SAFETY: static descriptors.
        unsafe {
            assert_eq!(args_layout(&VOID, None), Ok(Layout::EMPTY));
            assert_eq!(result_layout(&VOID), Ok(Layout::EMPTY));
        }
    }

    #[test]
    fn malformed_descriptors_are_errors() {
        let unknown = TypeDesc {
            kind: 99,
            ..TypeDesc::scalar(TypeKind::U8)
        };
        let zero = TypeDesc {
            kind: 0,
            ..TypeDesc::scalar(TypeKind::U8)
        };
        let empty_rec = TypeDesc::with_fields(TypeKind::Record, "e", &[]);
        let empty_enum = TypeDesc::with_fields(TypeKind::Enum, "e", &[]);
        let list_null = TypeDesc::scalar(TypeKind::List);
        let opt_null = TypeDesc::scalar(TypeKind::Option);
        // SAFETY: each descriptor is local and its pointers are null or static.
        unsafe {
            assert_eq!(type_layout(&unknown), Err(LayoutError::UnknownKind(99)));
            assert_eq!(type_layout(&zero), Err(LayoutError::UnknownKind(0)));
            assert_eq!(
                type_layout(&empty_rec),
                Err(LayoutError::NoMembers(TypeKind::Record))
            );
            assert_eq!(
                type_layout(&empty_enum),
                Err(LayoutError::NoMembers(TypeKind::Enum))
            );
            assert_eq!(type_layout(&list_null), Err(LayoutError::NullType));
            assert_eq!(type_layout(&opt_null), Err(LayoutError::NullType));
        }
    }

    #[test]
    fn cycles_are_cut() {
        // An option whose element is itself: only a malformed graph can do this.
        static mut SELF_OPT: TypeDesc = TypeDesc::scalar(TypeKind::Option);
        // SAFETY: single-threaded test-local mutation of a static before any read.
        unsafe {
            let p = &raw mut SELF_OPT;
            (*p).elem = p;
            assert_eq!(type_layout(&*p), Err(LayoutError::TooDeep));
        }
    }
}
