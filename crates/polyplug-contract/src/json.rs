//! Dynamic marshalling: JSON values to and from a contract's C layout (feature `json`).
//!
//! A host that has no generated code for a contract (the CLI, a scripting SDK, a test) builds a
//! call's argument struct from a [`serde_json::Value`] with [`encode_args`], calls the function,
//! and reads its result back into a `Value` with [`decode_result`] (or [`decode`] for one value).
//! Both walk the contract's model ([`Type`]) beside its precomputed layout ([`TypeLayout`]); no
//! offset is computed here.
//!
//! # The JSON mapping
//!
//! | WIT | JSON | notes |
//! |---|---|---|
//! | `bool` | `true` / `false` | |
//! | `s8` ... `u64` | number | input: an integer in the type's range (a float without fraction, at most 2⁵³ in magnitude, is accepted too); `u64` and `s64` keep every digit |
//! | `f32`, `f64` | number | input: any number (`f32` must be within its finite range); NaN and the infinities are the strings `"NaN"`, `"Infinity"`, `"-Infinity"` both ways; an `f32` is output in its shortest decimal form (`0.1`, not `0.10000000149011612`) |
//! | `char` | string of exactly one character | |
//! | `string` | string | |
//! | `list<u8>` | array of numbers 0–255 | input: a string is accepted too, taken as its UTF-8 bytes |
//! | `list<T>` | array | |
//! | `record` | object keyed by the WIT field names | input: a missing or unknown key is an error |
//! | `tuple<...>` | array of exactly that many elements | |
//! | `enum` | the case name, a string | |
//! | `flags` | array of the set flag names | output in declaration order; input: an unknown or repeated name is an error |
//! | `option<T>` | `null` for none, else the value | `option<option<T>>` cannot tell `some(none)` from `none`: both are `null` on output, and `null` is `none` on input |
//! | `result<T, E>` | `{"ok": v}` or `{"err": e}` | exactly one key; an absent payload is `null` |
//!
//! **Arguments** are a JSON array of the parameters in order, or an object keyed by parameter
//! name (every parameter, no other key). A function without parameters also takes `null`.
//! A function without a result decodes to `null`.
//!
//! # Errors
//!
//! A [`MarshalError`] names where the problem is as a path from the parameter (encoding) or
//! from the result's root (decoding): record fields with `.field`, list and tuple elements with
//! `[i]`, result payloads with `.ok` / `.err` (an option's value has no segment of its own), e.g.
//! ``` `r.origin.x`: 4294967296 is out of range for s32 ```.
//!
//! # What decoding checks
//!
//! A provider's result is checked as it is read, and any malformed part is an error, never
//! undefined behaviour on the reader's side: strings must be UTF-8; `bool` bytes 0 or 1; `char`
//! a Unicode scalar value; enum indices below the case count; no flag bit beyond the declared
//! flags; option and result tags 0 or 1; a view with a null pointer must have length 0; one view
//! covers at most [`MAX_VIEW_BYTES`] bytes and one result at most [`MAX_VALUES`] values (each
//! byte of a `list<u8>` counts as one), so a corrupt length cannot make the reader allocate
//! without bound. What cannot be checked is the provider's own promise that a non-null view
//! points to as many readable bytes as it says.
//!
//! # Lifetimes
//!
//! [`encode_args`] copies strings and lists into the given arena: the returned [`ArgsBuffer`]
//! borrows it, so the arena cannot be reset while the arguments are alive. Use a different
//! arena for the call itself, since a call context resets its own arena when the call begins.
//!
//! ```
//! use polyplug_abi::CallArena;
//! use polyplug_contract::json::{decode_result, encode_args, RetBuffer};
//! use polyplug_contract::{Contract, Function, Param, Type, Version};
//! use serde_json::json;
//!
//! let point = Type::Record {
//!     name: "point".into(),
//!     fields: vec![("x".into(), Type::S32), ("y".into(), Type::S32)],
//! };
//! let contract = Contract::new(
//!     "demo:geo/points",
//!     Version::new(1, 0, 0),
//!     vec![Function::new("norm", vec![Param::new("p", point)], Some(Type::U32))],
//! )
//! .compile()?;
//! let (_, norm, layout) = contract.find("norm").expect("declared above");
//! let mut arena = CallArena::new(256).expect("memory");
//! let args = encode_args(norm, layout, &json!([{"x": 3, "y": -4}]), &mut arena)?;
//! assert_eq!(args.as_bytes(), [3i32.to_ne_bytes(), (-4i32).to_ne_bytes()].concat());
//!
//! // A provider would write the result; here we do.
//! let mut ret = RetBuffer::new(layout.ret);
//! ret.as_bytes_mut().copy_from_slice(&7u32.to_ne_bytes());
//! // SAFETY: the buffer holds a `u32`, the function's result.
//! assert_eq!(unsafe { decode_result(norm, layout, ret.as_ptr()) }?, json!(7));
//!
//! let err = encode_args(norm, layout, &json!([{"x": 3}]), &mut arena).unwrap_err();
//! assert_eq!(err.to_string(), "`p`: missing field `y` of record `point`");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::layout::{FuncLayout, Shape, TypeLayout};
use crate::model::{Function, Type};
use polyplug_abi::{Arena, CallArena, Layout};
use serde_json::{Map, Number, Value};
use std::fmt::{self, Write as _};
use std::marker::PhantomData;
use std::mem::size_of;

/// Most bytes one view (a string, a byte list or a list's elements) of a decoded result may
/// cover: 256 MiB.
pub const MAX_VIEW_BYTES: usize = 256 << 20;
/// Most JSON values one decoded result may produce (each byte of a `list<u8>` counts as one).
pub const MAX_VALUES: usize = 1 << 24;

const PTR: usize = size_of::<usize>();

/// A value that does not fit the contract's type, or a result that is malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", Where(path))]
pub struct MarshalError {
    /// Where: `r.origin.x`, `tags[2]`, `.ok`... Empty for the arguments as a whole or the
    /// result's root.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

struct Where<'a>(&'a str);

impl fmt::Display for Where<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "`{}`: ", self.0)
        }
    }
}

impl MarshalError {
    fn new(path: String, message: impl Into<String>) -> MarshalError {
        MarshalError {
            path,
            message: message.into(),
        }
    }
}

/// One step of a path.
#[derive(Clone, Copy)]
enum Seg<'t> {
    Name(&'t str),
    Index(usize),
}

/// The path to the value being worked on, kept as a stack so that success costs no formatting.
#[derive(Default)]
struct Path<'t>(Vec<Seg<'t>>);

impl<'t> Path<'t> {
    fn render(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Name(n) if out.is_empty() => out.push_str(n),
                Seg::Name(n) => {
                    out.push('.');
                    out.push_str(n);
                }
                Seg::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
            }
        }
        out
    }

    fn error(&self, message: impl Into<String>) -> MarshalError {
        MarshalError::new(self.render(), message)
    }

    fn push(&mut self, seg: Seg<'t>) {
        self.0.push(seg);
    }

    fn pop(&mut self) {
        self.0.pop();
    }
}

// ---------------------------------------------------------------------------------------------
// Buffers

/// A 16-byte unit, so a `Vec` of them is 16-aligned on every platform.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Chunk([u8; 16]);

/// Zeroed, 16-aligned, at least one chunk long (so its pointer is valid even for size 0).
#[derive(Clone)]
struct Aligned {
    chunks: Vec<Chunk>,
    len: usize,
}

impl Aligned {
    fn zeroed(len: usize) -> Aligned {
        Aligned {
            chunks: vec![Chunk([0; 16]); len.div_ceil(16).max(1)],
            len,
        }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `chunks` holds at least `len` initialised bytes, and `u8` has no alignment.
        unsafe { std::slice::from_raw_parts(self.chunks.as_ptr().cast(), self.len) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.chunks.as_mut_ptr().cast(), self.len) }
    }
}

/// A call's argument struct, built by [`encode_args`]: 16-aligned owned bytes, whose strings
/// and lists point into the arena it borrows.
pub struct ArgsBuffer<'a> {
    buf: Aligned,
    _arena: PhantomData<&'a mut CallArena>,
}

impl ArgsBuffer<'_> {
    /// The argument struct, to pass as a contract function's `args` (valid and non-null even
    /// for a function without parameters).
    pub fn as_ptr(&self) -> *const std::ffi::c_void {
        self.buf.chunks.as_ptr().cast()
    }

    /// The struct's bytes (its size is the function's argument layout's).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.bytes()
    }

    /// The size of the argument struct.
    pub fn len(&self) -> usize {
        self.buf.len
    }

    /// True for a function without parameters.
    pub fn is_empty(&self) -> bool {
        self.buf.len == 0
    }
}

impl fmt::Debug for ArgsBuffer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArgsBuffer")
            .field("len", &self.buf.len)
            .finish()
    }
}

/// A zeroed, 16-aligned buffer for a call's result.
#[derive(Clone)]
pub struct RetBuffer {
    buf: Aligned,
}

impl RetBuffer {
    /// A zeroed buffer of `layout.size` bytes (the alignment of every ABI type is at most 16).
    pub fn new(layout: Layout) -> RetBuffer {
        RetBuffer {
            buf: Aligned::zeroed(layout.size as usize),
        }
    }

    /// The buffer, to pass as a contract function's `ret` (valid and non-null even for size 0).
    pub fn as_mut_ptr(&mut self) -> *mut std::ffi::c_void {
        self.buf.chunks.as_mut_ptr().cast()
    }

    /// The buffer, to decode from.
    pub fn as_ptr(&self) -> *const u8 {
        self.buf.chunks.as_ptr().cast()
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.bytes()
    }

    /// The bytes, to write a result by hand.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        self.buf.bytes_mut()
    }
}

impl fmt::Debug for RetBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetBuffer")
            .field("len", &self.buf.len)
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// Where encoded strings and lists are copied.
trait Bump {
    /// `size` bytes aligned to `align`, or null when the arena is exhausted.
    fn alloc(&mut self, size: usize, align: usize) -> *mut u8;
}

impl Bump for CallArena {
    fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        CallArena::alloc(self, size, align)
    }
}

/// A guest-side arena header (a call context's `arena`).
struct RawArena(*mut Arena);

impl Bump for RawArena {
    fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        // SAFETY: `encode_value_raw`'s caller guarantees a live arena for the current call.
        unsafe { (*self.0).alloc(size, align) }
    }
}

/// Builds the argument struct of `func` (whose layout is `layout`) from `args`: a JSON array of
/// the arguments in order, or an object keyed by parameter name (see the module docs).
/// Strings and lists are copied into `arena`, which the result borrows.
pub fn encode_args<'a>(
    func: &Function,
    layout: &FuncLayout,
    args: &Value,
    arena: &'a mut CallArena,
) -> Result<ArgsBuffer<'a>, MarshalError> {
    let mut buf = Aligned::zeroed(layout.args.size as usize);
    let n = func.params.len();
    let names = || {
        func.params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let takes = || match n {
        0 => format!("`{}` takes no arguments", func.name),
        1 => format!("`{}` takes 1 argument ({})", func.name, names()),
        _ => format!("`{}` takes {n} arguments ({})", func.name, names()),
    };
    let values: Vec<&Value> = match args {
        Value::Array(items) if items.len() == n => items.iter().collect(),
        Value::Array(items) => {
            return Err(MarshalError::new(
                String::new(),
                format!("{}, found {}", takes(), items.len()),
            ))
        }
        Value::Object(map) => {
            if let Some(extra) = map
                .keys()
                .find(|k| !func.params.iter().any(|p| &p.name == *k))
            {
                return Err(MarshalError::new(
                    String::new(),
                    format!(
                        "`{}` has no parameter `{extra}` (its parameters: {})",
                        func.name,
                        if n == 0 { "none".to_owned() } else { names() }
                    ),
                ));
            }
            func.params
                .iter()
                .map(|p| {
                    map.get(&p.name).ok_or_else(|| {
                        MarshalError::new(String::new(), format!("missing argument `{}`", p.name))
                    })
                })
                .collect::<Result<_, _>>()?
        }
        Value::Null if n == 0 => Vec::new(),
        other => {
            return Err(MarshalError::new(
                String::new(),
                format!(
                    "arguments must be an array or an object keyed by parameter name, found {}",
                    describe(other)
                ),
            ))
        }
    };
    let mut enc = Encoder {
        arena,
        path: Path::default(),
    };
    let out = buf.bytes_mut();
    for (i, (p, v)) in func.params.iter().zip(values).enumerate() {
        let (off, lay) = (layout.param_offsets[i] as usize, &layout.params[i]);
        enc.path.push(Seg::Name(&p.name));
        enc.value(&p.ty, lay, v, slot(out, off, lay)?)?;
        enc.path.pop();
    }
    Ok(ArgsBuffer {
        buf,
        _arena: PhantomData,
    })
}

/// Writes one value of type `ty` (laid out as `layout`) into `out`, copying its strings and
/// lists into `arena`. `out` must hold at least `layout.layout.size` bytes.
pub fn encode_value(
    ty: &Type,
    layout: &TypeLayout,
    value: &Value,
    out: &mut [u8],
    arena: &mut CallArena,
) -> Result<(), MarshalError> {
    let mut enc = Encoder {
        arena,
        path: Path::default(),
    };
    enc.value(ty, layout, value, slot(out, 0, layout)?)
}

/// As [`encode_value`], allocating from a raw arena header: what a provider does to write its
/// result into the caller's arena (`ctx->arena`).
///
/// # Safety
/// `arena` must be a live arena handed out for the current call (a call context's `arena`).
pub unsafe fn encode_value_raw(
    ty: &Type,
    layout: &TypeLayout,
    value: &Value,
    out: &mut [u8],
    arena: *mut Arena,
) -> Result<(), MarshalError> {
    if arena.is_null() {
        return Err(MarshalError::new(
            String::new(),
            "the arena pointer is null",
        ));
    }
    let mut raw = RawArena(arena);
    let mut enc = Encoder {
        arena: &mut raw,
        path: Path::default(),
    };
    enc.value(ty, layout, value, slot(out, 0, layout)?)
}

/// The `size` bytes at `off` of `out`, or an error if `out` is too short (a layout that does not
/// belong to the type).
fn slot<'o>(out: &'o mut [u8], off: usize, lay: &TypeLayout) -> Result<&'o mut [u8], MarshalError> {
    let len = out.len();
    let size = lay.layout.size as usize;
    off.checked_add(size)
        .and_then(|end| out.get_mut(off..end))
        .ok_or_else(|| {
            MarshalError::new(
                String::new(),
                format!("a {size}-byte value at offset {off} does not fit a {len}-byte buffer"),
            )
        })
}

struct Encoder<'e, 't, A: Bump + ?Sized> {
    arena: &'e mut A,
    path: Path<'t>,
}

/// `what` a JSON value is, for messages: `a string "ab"`, `an array of 3 elements`...
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() <= 40 => format!("the string {s:?}"),
        Value::String(s) => format!("a string of {} characters", s.chars().count()),
        Value::Array(a) => format!("an array of {} elements", a.len()),
        Value::Object(o) => format!("an object with {} keys", o.len()),
    }
}

impl<'t, A: Bump + ?Sized> Encoder<'_, 't, A> {
    fn mismatch(&self, expected: &str, found: &Value) -> MarshalError {
        self.path
            .error(format!("expected {expected}, found {}", describe(found)))
    }

    fn value(
        &mut self,
        ty: &'t Type,
        lay: &'t TypeLayout,
        v: &Value,
        out: &mut [u8],
    ) -> Result<(), MarshalError> {
        match (ty, &lay.shape) {
            (Type::Bool, _) => {
                out[0] = v
                    .as_bool()
                    .ok_or_else(|| self.mismatch("true or false", v))?
                    .into();
            }
            (Type::S8, _) => out.copy_from_slice(&(self.int(v, ty)? as i8).to_ne_bytes()),
            (Type::U8, _) => out.copy_from_slice(&(self.int(v, ty)? as u8).to_ne_bytes()),
            (Type::S16, _) => out.copy_from_slice(&(self.int(v, ty)? as i16).to_ne_bytes()),
            (Type::U16, _) => out.copy_from_slice(&(self.int(v, ty)? as u16).to_ne_bytes()),
            (Type::S32, _) => out.copy_from_slice(&(self.int(v, ty)? as i32).to_ne_bytes()),
            (Type::U32, _) => out.copy_from_slice(&(self.int(v, ty)? as u32).to_ne_bytes()),
            (Type::S64, _) => out.copy_from_slice(&(self.int(v, ty)? as i64).to_ne_bytes()),
            (Type::U64, _) => out.copy_from_slice(&(self.int(v, ty)? as u64).to_ne_bytes()),
            (Type::F32, _) => {
                let x = self.float(v, "f32")?;
                if x.is_finite() && (x as f32).is_infinite() {
                    return Err(self.path.error(format!("{v} is out of range for f32")));
                }
                out.copy_from_slice(&(x as f32).to_ne_bytes());
            }
            (Type::F64, _) => out.copy_from_slice(&self.float(v, "f64")?.to_ne_bytes()),
            (Type::Char, _) => {
                let s = v
                    .as_str()
                    .ok_or_else(|| self.mismatch("a one-character string", v))?;
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => out.copy_from_slice(&u32::from(c).to_ne_bytes()),
                    _ => return Err(self.mismatch("a one-character string", v)),
                }
            }
            (Type::String, _) => {
                let s = v.as_str().ok_or_else(|| self.mismatch("a string", v))?;
                self.copy_view(s.as_bytes(), out)?;
            }
            (Type::Bytes, _) => match v {
                Value::String(s) => self.copy_view(s.as_bytes(), out)?,
                Value::Array(items) => {
                    let mut bytes = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        self.path.push(Seg::Index(i));
                        bytes.push(self.int(item, &Type::U8)? as u8);
                        self.path.pop();
                    }
                    self.copy_view(&bytes, out)?;
                }
                _ => return Err(self.mismatch("an array of bytes or a string", v)),
            },
            (Type::List(elem_ty), Shape::List { elem }) => {
                let items = v.as_array().ok_or_else(|| self.mismatch("an array", v))?;
                let size = elem.layout.size as usize;
                let total = items
                    .len()
                    .checked_mul(size)
                    .ok_or_else(|| self.path.error("the list is too large"))?;
                let (ptr, mem) = self.alloc(total, elem.layout.align as usize)?;
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Seg::Index(i));
                    self.value(elem_ty, elem, item, &mut mem[i * size..(i + 1) * size])?;
                    self.path.pop();
                }
                write_view(out, ptr, items.len());
            }
            (Type::Record { name, fields }, Shape::Struct { offsets, members }) => {
                let map = v
                    .as_object()
                    .ok_or_else(|| self.mismatch(&format!("an object (record `{name}`)"), v))?;
                if let Some(extra) = map.keys().find(|k| !fields.iter().any(|(f, _)| f == *k)) {
                    let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
                    return Err(self.path.error(format!(
                        "unknown field `{extra}` of record `{name}` (its fields: {})",
                        names.join(", ")
                    )));
                }
                for (i, (fname, fty)) in fields.iter().enumerate() {
                    let fv = map.get(fname).ok_or_else(|| {
                        self.path
                            .error(format!("missing field `{fname}` of record `{name}`"))
                    })?;
                    self.path.push(Seg::Name(fname));
                    let dst = slot(out, offsets[i] as usize, &members[i])?;
                    self.value(fty, &members[i], fv, dst)?;
                    self.path.pop();
                }
            }
            (Type::Tuple(elems), Shape::Struct { offsets, members }) => {
                let items = match v.as_array() {
                    Some(items) if items.len() == elems.len() => items,
                    _ => {
                        return Err(self.mismatch(
                            &format!("an array of {} elements (a tuple)", elems.len()),
                            v,
                        ))
                    }
                };
                for (i, (ety, item)) in elems.iter().zip(items).enumerate() {
                    self.path.push(Seg::Index(i));
                    let dst = slot(out, offsets[i] as usize, &members[i])?;
                    self.value(ety, &members[i], item, dst)?;
                    self.path.pop();
                }
            }
            (Type::Enum { name, cases }, _) => {
                let s = v
                    .as_str()
                    .ok_or_else(|| self.mismatch(&format!("a case name of enum `{name}`"), v))?;
                let index = cases.iter().position(|c| c == s).ok_or_else(|| {
                    self.path.error(format!(
                        "`{s}` is not a case of enum `{name}` (its cases: {})",
                        cases.join(", ")
                    ))
                })?;
                out.copy_from_slice(&(index as u32).to_ne_bytes());
            }
            (Type::Flags { name, flags }, _) => {
                let items = v.as_array().ok_or_else(|| {
                    self.mismatch(&format!("an array of flag names of `{name}`"), v)
                })?;
                let mut bits = 0u64;
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Seg::Index(i));
                    let s = item
                        .as_str()
                        .ok_or_else(|| self.mismatch("a flag name", item))?;
                    let bit = flags.iter().position(|f| f == s).ok_or_else(|| {
                        self.path.error(format!(
                            "`{s}` is not a flag of `{name}` (its flags: {})",
                            flags.join(", ")
                        ))
                    })?;
                    if bits & (1 << bit) != 0 {
                        return Err(self.path.error(format!("flag `{s}` is listed twice")));
                    }
                    bits |= 1 << bit;
                    self.path.pop();
                }
                if out.len() == 4 {
                    out.copy_from_slice(&(bits as u32).to_ne_bytes());
                } else {
                    out.copy_from_slice(&bits.to_ne_bytes());
                }
            }
            (
                Type::Option(vty),
                Shape::Option {
                    payload_offset,
                    value,
                },
            ) => {
                if !v.is_null() {
                    out[0] = 1;
                    self.value(vty, value, v, slot(out, *payload_offset as usize, value)?)?;
                }
            }
            (
                Type::Result { ok, err },
                Shape::Result {
                    payload_offset,
                    ok: ok_lay,
                    err: err_lay,
                },
            ) => {
                let (key, payload) = match v.as_object() {
                    Some(map) if map.len() == 1 => {
                        let (k, p) = map.iter().next().expect("one entry");
                        (k.as_str(), p)
                    }
                    _ => return Err(self.mismatch(r#"{"ok": ...} or {"err": ...}"#, v)),
                };
                let (tag, (pty, play), seg) = match key {
                    "ok" => (0u8, (ok, ok_lay), "ok"),
                    "err" => (1u8, (err, err_lay), "err"),
                    _ => return Err(self.mismatch(r#"{"ok": ...} or {"err": ...}"#, v)),
                };
                out[0] = tag;
                self.path.push(Seg::Name(seg));
                match (pty, play) {
                    (Some(pty), Some(play)) => {
                        let dst = slot(out, *payload_offset as usize, play)?;
                        self.value(pty, play, payload, dst)?;
                    }
                    _ if payload.is_null() => {}
                    _ => {
                        return Err(self.mismatch("null (this result case has no payload)", payload))
                    }
                }
                self.path.pop();
            }
            _ => {
                return Err(self
                    .path
                    .error(format!("the layout does not belong to type `{ty}`")))
            }
        }
        Ok(())
    }

    /// An integer of type `ty` (range-checked), as `i128`.
    fn int(&self, v: &Value, ty: &Type) -> Result<i128, MarshalError> {
        let (min, max): (i128, i128) = match ty {
            Type::S8 => (i8::MIN.into(), i8::MAX.into()),
            Type::U8 => (0, u8::MAX.into()),
            Type::S16 => (i16::MIN.into(), i16::MAX.into()),
            Type::U16 => (0, u16::MAX.into()),
            Type::S32 => (i32::MIN.into(), i32::MAX.into()),
            Type::U32 => (0, u32::MAX.into()),
            Type::S64 => (i64::MIN.into(), i64::MAX.into()),
            _ => (0, u64::MAX.into()),
        };
        let Value::Number(n) = v else {
            return Err(self.mismatch(&format!("an integer ({ty})"), v));
        };
        let x: i128 = if let Some(u) = n.as_u64() {
            u.into()
        } else if let Some(i) = n.as_i64() {
            i.into()
        } else {
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() <= (1u64 << 53) as f64 => f as i128,
                _ => return Err(self.path.error(format!("{n} is not an integer ({ty})"))),
            }
        };
        if x < min || x > max {
            return Err(self
                .path
                .error(format!("{n} is out of range for {ty} ({min}..={max})")));
        }
        Ok(x)
    }

    /// A float: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
    fn float(&self, v: &Value, ty: &str) -> Result<f64, MarshalError> {
        match v {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| self.mismatch(&format!("a number ({ty})"), v)),
            Value::String(s) if s == "NaN" => Ok(f64::NAN),
            Value::String(s) if s == "Infinity" => Ok(f64::INFINITY),
            Value::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => Err(self.mismatch(
                &format!("a number ({ty}), or \"NaN\", \"Infinity\" or \"-Infinity\""),
                v,
            )),
        }
    }

    /// `size` zeroed bytes in the arena, aligned to `align`, as a pointer and a slice. Null and
    /// empty for size 0.
    /// The slice's lifetime is unbounded: it is used only while the value that owns the memory
    /// is being encoded.
    fn alloc<'m>(
        &mut self,
        size: usize,
        align: usize,
    ) -> Result<(*const u8, &'m mut [u8]), MarshalError> {
        if size == 0 {
            return Ok((std::ptr::null(), &mut []));
        }
        let p = self.arena.alloc(size, align);
        if p.is_null() {
            return Err(self
                .path
                .error(format!("the argument arena cannot hold {size} more bytes")));
        }
        // SAFETY: the arena just handed out `size` writable bytes at `p`, which nothing else
        // references; they stay valid until the arena is reset, which the `'a` borrow of
        // `encode_args` (or the call that owns a raw arena) rules out while the arguments live.
        // The slice is used only while this value is encoded.
        let mem = unsafe {
            std::ptr::write_bytes(p, 0, size);
            std::slice::from_raw_parts_mut(p, size)
        };
        Ok((p, mem))
    }

    /// Copies `bytes` into the arena and writes the `{ptr, len}` view to `out`.
    fn copy_view(&mut self, bytes: &[u8], out: &mut [u8]) -> Result<(), MarshalError> {
        let (ptr, mem) = self.alloc(bytes.len(), 1)?;
        mem.copy_from_slice(bytes);
        write_view(out, ptr, bytes.len());
        Ok(())
    }
}

/// Writes a `{ptr, len}` view (`pp_str`, `pp_bytes`, `pp_list`) into its 2-word slot.
fn write_view(out: &mut [u8], ptr: *const u8, len: usize) {
    out[..PTR].copy_from_slice(&(ptr as usize).to_ne_bytes());
    out[PTR..2 * PTR].copy_from_slice(&len.to_ne_bytes());
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Reads the result of `func` (laid out as `layout`) at `ret` into JSON; `null` for a function
/// without a result.
///
/// # Safety
/// As for [`decode`], when the function has a result.
pub unsafe fn decode_result(
    func: &Function,
    layout: &FuncLayout,
    ret: *const u8,
) -> Result<Value, MarshalError> {
    match (&func.result, &layout.result) {
        // SAFETY: forwarded to the caller.
        (Some(ty), Some(lay)) => unsafe { decode(ty, lay, ret) },
        (None, None) => Ok(Value::Null),
        _ => Err(MarshalError::new(
            String::new(),
            format!("the layout does not belong to function `{}`", func.name),
        )),
    }
}

/// Reads one value of type `ty`, laid out as `layout`, at `ptr` into JSON, checking everything
/// (see the module docs).
///
/// # Safety
/// `ptr` must point to `layout.layout.size` readable bytes, and every non-null view inside the
/// value (strings, byte lists, lists, recursively) must point to as many readable bytes as its
/// length says, none of them changing during the call: the provider's promise, which cannot be
/// checked.
pub unsafe fn decode(
    ty: &Type,
    layout: &TypeLayout,
    ptr: *const u8,
) -> Result<Value, MarshalError> {
    if ptr.is_null() {
        return Err(MarshalError::new(
            String::new(),
            "the value pointer is null",
        ));
    }
    // SAFETY: the caller guarantees `size` readable bytes at `ptr`.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, layout.layout.size as usize) };
    // SAFETY: the caller vouches for every view inside the value.
    let mut dec = unsafe { Decoder::new() };
    dec.value(ty, layout, bytes)
}

/// One walk over a value. Constructing it is the promise that every view it meets is readable.
struct Decoder<'t> {
    path: Path<'t>,
    values: usize,
}

fn read<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&b[..N]);
    out
}

impl<'t> Decoder<'t> {
    /// # Safety
    /// Every non-null view met by this decoder must point to as many readable bytes as its
    /// length says (times its element size), unchanged while it decodes.
    unsafe fn new() -> Decoder<'t> {
        Decoder {
            path: Path::default(),
            values: 0,
        }
    }

    fn count(&mut self, n: usize) -> Result<(), MarshalError> {
        self.values = self.values.saturating_add(n);
        if self.values > MAX_VALUES {
            return Err(self
                .path
                .error(format!("the result has more than {MAX_VALUES} values")));
        }
        Ok(())
    }

    /// The bytes a `{ptr, len}` view of `len` elements of `elem_size` bytes covers.
    /// The slice's lifetime is unbounded: the provider's memory outlives the decoder's walk.
    fn view<'v>(
        &self,
        slot: &[u8],
        elem_size: usize,
        what: &str,
    ) -> Result<(&'v [u8], usize), MarshalError> {
        let ptr = usize::from_ne_bytes(read(slot)) as *const u8;
        let len = usize::from_ne_bytes(read(&slot[PTR..]));
        if len == 0 {
            return Ok((&[], 0));
        }
        if ptr.is_null() {
            return Err(self
                .path
                .error(format!("{what} view has a null pointer and length {len}")));
        }
        let bytes = len
            .checked_mul(elem_size)
            .filter(|&b| b <= MAX_VIEW_BYTES)
            .ok_or_else(|| {
                self.path.error(format!(
                    "{what} of length {len} is larger than the {MAX_VIEW_BYTES}-byte bound"
                ))
            })?;
        // SAFETY: a non-null view; by `Decoder::new`'s contract it covers `len` elements of
        // `elem_size` bytes, readable and unchanged while decoding. `u8` needs no alignment.
        Ok((unsafe { std::slice::from_raw_parts(ptr, bytes) }, len))
    }

    fn value(
        &mut self,
        ty: &'t Type,
        lay: &'t TypeLayout,
        b: &[u8],
    ) -> Result<Value, MarshalError> {
        self.count(1)?;
        Ok(match (ty, &lay.shape) {
            (Type::Bool, _) => match b[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                x => {
                    return Err(self
                        .path
                        .error(format!("bool byte is {x} (must be 0 or 1)")))
                }
            },
            (Type::S8, _) => i8::from_ne_bytes(read(b)).into(),
            (Type::U8, _) => u8::from_ne_bytes(read(b)).into(),
            (Type::S16, _) => i16::from_ne_bytes(read(b)).into(),
            (Type::U16, _) => u16::from_ne_bytes(read(b)).into(),
            (Type::S32, _) => i32::from_ne_bytes(read(b)).into(),
            (Type::U32, _) => u32::from_ne_bytes(read(b)).into(),
            (Type::S64, _) => i64::from_ne_bytes(read(b)).into(),
            (Type::U64, _) => u64::from_ne_bytes(read(b)).into(),
            (Type::F32, _) => {
                let x = f32::from_ne_bytes(read(b));
                // The shortest decimal that reads back as this f32, as an f64.
                float(x.to_string().parse::<f64>().unwrap_or(f64::from(x)))
            }
            (Type::F64, _) => float(f64::from_ne_bytes(read(b))),
            (Type::Char, _) => {
                let c = u32::from_ne_bytes(read(b));
                let c = char::from_u32(c).ok_or_else(|| {
                    self.path
                        .error(format!("char {c:#x} is not a Unicode scalar value"))
                })?;
                Value::String(c.into())
            }
            (Type::String, _) => {
                let (bytes, _) = self.view(b, 1, "string")?;
                let s = std::str::from_utf8(bytes)
                    .map_err(|e| self.path.error(format!("string is not UTF-8: {e}")))?;
                Value::String(s.to_owned())
            }
            (Type::Bytes, _) => {
                let (bytes, len) = self.view(b, 1, "byte list")?;
                self.count(len)?;
                Value::Array(bytes.iter().map(|&x| x.into()).collect())
            }
            (Type::List(ety), Shape::List { elem }) => {
                let size = elem.layout.size as usize;
                let (bytes, len) = self.view(b, size, "list")?;
                self.count(len)?;
                let mut items = Vec::with_capacity(len);
                for i in 0..len {
                    self.path.push(Seg::Index(i));
                    items.push(self.value(ety, elem, &bytes[i * size..(i + 1) * size])?);
                    self.path.pop();
                }
                Value::Array(items)
            }
            (Type::Record { fields, .. }, Shape::Struct { offsets, members }) => {
                let mut map = Map::new();
                for (i, (fname, fty)) in fields.iter().enumerate() {
                    self.path.push(Seg::Name(fname));
                    let v = self.value(fty, &members[i], field(b, offsets[i], &members[i]))?;
                    self.path.pop();
                    map.insert(fname.clone(), v);
                }
                Value::Object(map)
            }
            (Type::Tuple(elems), Shape::Struct { offsets, members }) => {
                let mut items = Vec::with_capacity(elems.len());
                for (i, ety) in elems.iter().enumerate() {
                    self.path.push(Seg::Index(i));
                    items.push(self.value(ety, &members[i], field(b, offsets[i], &members[i]))?);
                    self.path.pop();
                }
                Value::Array(items)
            }
            (Type::Enum { name, cases }, _) => {
                let i = u32::from_ne_bytes(read(b));
                let case = cases.get(i as usize).ok_or_else(|| {
                    self.path.error(format!(
                        "case index {i} is out of range for enum `{name}` ({} cases)",
                        cases.len()
                    ))
                })?;
                Value::String(case.clone())
            }
            (Type::Flags { name, flags }, _) => {
                let bits = if b.len() == 4 {
                    u32::from_ne_bytes(read(b)).into()
                } else {
                    u64::from_ne_bytes(read(b))
                };
                let known = if flags.len() >= 64 {
                    u64::MAX
                } else {
                    (1u64 << flags.len()) - 1
                };
                if bits & !known != 0 {
                    return Err(self.path.error(format!(
                        "flags `{name}` has unknown bits {:#x} set ({} flags)",
                        bits & !known,
                        flags.len()
                    )));
                }
                Value::Array(
                    flags
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| bits & (1 << i) != 0)
                        .map(|(_, f)| Value::String(f.clone()))
                        .collect(),
                )
            }
            (
                Type::Option(vty),
                Shape::Option {
                    payload_offset,
                    value,
                },
            ) => match b[0] {
                0 => Value::Null,
                1 => self.value(vty, value, field(b, *payload_offset, value))?,
                x => {
                    return Err(self
                        .path
                        .error(format!("option tag is {x} (must be 0 or 1)")))
                }
            },
            (
                Type::Result { ok, err },
                Shape::Result {
                    payload_offset,
                    ok: ok_lay,
                    err: err_lay,
                },
            ) => {
                let (key, pty, play) = match b[0] {
                    0 => ("ok", ok, ok_lay),
                    1 => ("err", err, err_lay),
                    x => {
                        return Err(self
                            .path
                            .error(format!("result tag is {x} (must be 0 for ok or 1 for err)")))
                    }
                };
                self.path.push(Seg::Name(key));
                let payload = match (pty, play) {
                    (Some(pty), Some(play)) => {
                        self.value(pty, play, field(b, *payload_offset, play))?
                    }
                    _ => Value::Null,
                };
                self.path.pop();
                let mut map = Map::new();
                map.insert(key.to_owned(), payload);
                Value::Object(map)
            }
            _ => {
                return Err(self
                    .path
                    .error(format!("the layout does not belong to type `{ty}`")))
            }
        })
    }
}

/// The bytes of a member at `off` with layout `lay` inside `b`.
fn field<'b>(b: &'b [u8], off: u32, lay: &TypeLayout) -> &'b [u8] {
    let off = off as usize;
    &b[off..off + lay.layout.size as usize]
}

/// A float as JSON: a number, or a string for NaN and the infinities.
fn float(x: f64) -> Value {
    match Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None if x.is_nan() => Value::String("NaN".into()),
        None if x > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}
