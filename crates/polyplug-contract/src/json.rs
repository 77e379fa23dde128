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
//! This module is a client of the value walker ([`crate::walk`]), which reads and writes the C
//! layout and checks a provider's result as it reads it: any malformed part is an error, never
//! undefined behaviour on the reader's side (strings must be UTF-8; `bool` bytes 0 or 1; `char`
//! a Unicode scalar value; enum indices below the case count; no flag bit beyond the declared
//! flags; option and result tags 0 or 1; a view with a null pointer must have length 0 and be
//! aligned for its elements; one view covers at most [`MAX_VIEW_BYTES`] bytes). On top of that,
//! one result decodes to at most [`MAX_VALUES`] JSON values (each byte of a `list<u8>` counts
//! as one), so a corrupt length cannot make this decoder allocate without bound. What cannot be
//! checked is the provider's own promise that a non-null view points to as many readable bytes
//! as it says.
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

use crate::layout::{FuncLayout, TypeLayout};
use crate::model::{Function, Type};
use crate::walk::{self, ValueMut, ValueRef, WalkError};
use polyplug_abi::{Arena, CallArena, Layout};
use serde_json::{Map, Number, Value};
use std::fmt;
use std::marker::PhantomData;

/// Most bytes one view (a string, a byte list or a list's elements) of a decoded result may
/// cover: the walker's bound, 256 MiB.
pub const MAX_VIEW_BYTES: usize = walk::MAX_VIEW_BYTES;
/// Most JSON values one decoded result may produce (each byte of a `list<u8>` counts as one).
pub const MAX_VALUES: usize = 1 << 24;

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

impl From<WalkError> for MarshalError {
    #[cold]
    fn from(e: WalkError) -> MarshalError {
        MarshalError::new(e.path(), e.message())
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
    if layout.params.len() != n || layout.param_offsets.len() != n {
        return Err(MarshalError::new(
            String::new(),
            format!("the layout does not belong to function `{}`", func.name),
        ));
    }
    let out = buf.bytes_mut();
    for (i, (p, v)) in func.params.iter().zip(values).enumerate() {
        let off = layout.param_offsets[i] as usize;
        let rest = out.get_mut(off..).unwrap_or_default();
        let slot = ValueMut::new(&p.ty, &layout.params[i], rest, arena)?;
        encode(slot, v).map_err(|e| e.in_field(&p.name))?;
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
    Ok(encode(ValueMut::new(ty, layout, out, arena)?, value)?)
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
    // SAFETY: null or a live arena for the current call, as the caller guarantees.
    let Some(arena) = (unsafe { arena.as_mut() }) else {
        return Err(MarshalError::new(
            String::new(),
            "the arena pointer is null",
        ));
    };
    // SAFETY: as above.
    let slot = unsafe { ValueMut::with_arena(ty, layout, out, arena) }?;
    Ok(encode(slot, value)?)
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

#[cold]
fn mismatch(expected: &str, found: &Value) -> WalkError {
    WalkError::mismatch(format!("expected {expected}, found {}", describe(found)))
}

/// Writes the JSON value `v` into `slot`, by the slot's type (see the module docs' mapping).
fn encode(slot: ValueMut<'_>, v: &Value) -> Result<(), WalkError> {
    match slot.ty() {
        Type::Bool => slot.set_bool(v.as_bool().ok_or_else(|| mismatch("true or false", v))?),
        ty @ (Type::S8
        | Type::U8
        | Type::S16
        | Type::U16
        | Type::S32
        | Type::U32
        | Type::S64
        | Type::U64) => slot.set_int(int(v, ty)?),
        Type::F32 => {
            let x = float(v, "f32")?;
            if x.is_finite() && (x as f32).is_infinite() {
                return Err(WalkError::mismatch(format!("{v} is out of range for f32")));
            }
            slot.set_float(x)
        }
        Type::F64 => slot.set_float(float(v, "f64")?),
        Type::Char => {
            let s = v
                .as_str()
                .ok_or_else(|| mismatch("a one-character string", v))?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => slot.set_char(c),
                _ => Err(mismatch("a one-character string", v)),
            }
        }
        Type::String => slot.set_str(v.as_str().ok_or_else(|| mismatch("a string", v))?),
        Type::Bytes => match v {
            Value::String(s) => slot.set_bytes(s.as_bytes()),
            Value::Array(items) => {
                let mut bytes = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    bytes.push(int(item, &Type::U8).map_err(|e| e.in_index(i))? as u8);
                }
                slot.set_bytes(&bytes)
            }
            _ => Err(mismatch("an array of bytes or a string", v)),
        },
        Type::List(_) => {
            let items = v.as_array().ok_or_else(|| mismatch("an array", v))?;
            slot.list_from(items.iter(), encode)
        }
        Type::Record { name, .. } => {
            let map = v
                .as_object()
                .ok_or_else(|| mismatch(&format!("an object (record `{name}`)"), v))?;
            slot.record_from(map.keys().map(String::as_str), |f| map.get(f), encode)
        }
        Type::Tuple(elems) => {
            let items = match v.as_array() {
                Some(items) if items.len() == elems.len() => items,
                _ => {
                    return Err(mismatch(
                        &format!("an array of {} elements (a tuple)", elems.len()),
                        v,
                    ))
                }
            };
            slot.tuple_from(items.iter(), encode)
        }
        Type::Enum { name, .. } => {
            let s = v
                .as_str()
                .ok_or_else(|| mismatch(&format!("a case name of enum `{name}`"), v))?;
            slot.set_enum(s)
        }
        Type::Flags { name, .. } => {
            let items = v
                .as_array()
                .ok_or_else(|| mismatch(&format!("an array of flag names of `{name}`"), v))?;
            let mut names = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                names.push(
                    item.as_str()
                        .ok_or_else(|| mismatch("a flag name", item).in_index(i))?,
                );
            }
            slot.set_flags(names)
        }
        Type::Option(_) if v.is_null() => slot.none(),
        Type::Option(_) => encode(slot.some()?, v),
        Type::Result { .. } => {
            let (key, payload) = match v.as_object() {
                Some(map) if map.len() == 1 => match map.iter().next() {
                    Some((k, p)) => (k.as_str(), p),
                    None => return Err(mismatch(r#"{"ok": ...} or {"err": ...}"#, v)),
                },
                _ => return Err(mismatch(r#"{"ok": ...} or {"err": ...}"#, v)),
            };
            let case = match key {
                "ok" => slot.ok()?,
                "err" => slot.err()?,
                _ => return Err(mismatch(r#"{"ok": ...} or {"err": ...}"#, v)),
            };
            match case {
                Some(s) => encode(s, payload),
                None if payload.is_null() => Ok(()),
                None => Err(mismatch("null (this result case has no payload)", payload)),
            }
            .map_err(|e| e.in_field(key))
        }
    }
}

/// An integer of type `ty` (range-checked), as `i128`.
fn int(v: &Value, ty: &Type) -> Result<i128, WalkError> {
    let (min, max) = ty.int_range().unwrap_or((0, u64::MAX.into()));
    let Value::Number(n) = v else {
        return Err(mismatch(&format!("an integer ({ty})"), v));
    };
    let x: i128 = if let Some(u) = n.as_u64() {
        u.into()
    } else if let Some(i) = n.as_i64() {
        i.into()
    } else {
        match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= (1u64 << 53) as f64 => f as i128,
            _ => return Err(WalkError::mismatch(format!("{n} is not an integer ({ty})"))),
        }
    };
    if x < min || x > max {
        return Err(WalkError::mismatch(format!(
            "{n} is out of range for {ty} ({min}..={max})"
        )));
    }
    Ok(x)
}

/// A float: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
fn float(v: &Value, ty: &str) -> Result<f64, WalkError> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| mismatch(&format!("a number ({ty})"), v)),
        Value::String(s) if s == "NaN" => Ok(f64::NAN),
        Value::String(s) if s == "Infinity" => Ok(f64::INFINITY),
        Value::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => Err(mismatch(
            &format!("a number ({ty}), or \"NaN\", \"Infinity\" or \"-Infinity\""),
            v,
        )),
    }
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
    // SAFETY: forwarded to the caller.
    let v = unsafe { ValueRef::new(ty, layout, ptr) };
    let mut values = 0usize;
    Ok(decode_value(v, &mut values)?)
}

/// Counts `n` more output values against [`MAX_VALUES`].
fn count(values: &mut usize, n: usize) -> Result<(), WalkError> {
    *values = values.saturating_add(n);
    if *values > MAX_VALUES {
        return Err(WalkError::new(
            walk::WalkErrorKind::Malformed,
            format!("the result has more than {MAX_VALUES} values"),
        ));
    }
    Ok(())
}

/// One value as JSON; `values` counts what the whole result has produced so far.
fn decode_value(v: ValueRef<'_>, values: &mut usize) -> Result<Value, WalkError> {
    use walk::Value as W;
    count(values, 1)?;
    Ok(match v.read()? {
        W::Bool(b) => Value::Bool(b),
        W::S8(x) => x.into(),
        W::U8(x) => x.into(),
        W::S16(x) => x.into(),
        W::U16(x) => x.into(),
        W::S32(x) => x.into(),
        W::U32(x) => x.into(),
        W::S64(x) => x.into(),
        W::U64(x) => x.into(),
        // The shortest decimal that reads back as this f32, as an f64.
        W::F32(x) => float_value(x.to_string().parse::<f64>().unwrap_or(f64::from(x))),
        W::F64(x) => float_value(x),
        W::Char(c) => Value::String(c.into()),
        W::String(s) => Value::String(s.to_owned()),
        W::Bytes(b) => {
            count(values, b.len())?;
            Value::Array(b.iter().map(|&x| x.into()).collect())
        }
        W::List(list) => {
            count(values, list.len())?;
            let mut items = Vec::with_capacity(list.len());
            for (i, e) in list.iter().enumerate() {
                items.push(decode_value(e, values).map_err(|e| e.in_index(i))?);
            }
            Value::Array(items)
        }
        W::Record(rec) => {
            let mut map = Map::new();
            for (name, f) in rec.iter() {
                let x = decode_value(f, values).map_err(|e| e.in_field(name))?;
                map.insert(name.to_owned(), x);
            }
            Value::Object(map)
        }
        W::Tuple(tuple) => {
            let mut items = Vec::with_capacity(tuple.len());
            for (i, (_, e)) in tuple.iter().enumerate() {
                items.push(decode_value(e, values).map_err(|e| e.in_index(i))?);
            }
            Value::Array(items)
        }
        W::Enum(case) => Value::String(case.name.to_owned()),
        W::Flags(set) => Value::Array(set.iter().map(|n| Value::String(n.to_owned())).collect()),
        W::Option(None) => Value::Null,
        W::Option(Some(x)) => decode_value(x, values)?,
        W::Result(r) => {
            let (key, payload) = match r {
                Ok(p) => ("ok", p),
                Err(p) => ("err", p),
            };
            let payload = match payload {
                Some(p) => decode_value(p, values).map_err(|e| e.in_field(key))?,
                None => Value::Null,
            };
            let mut map = Map::new();
            map.insert(key.to_owned(), payload);
            Value::Object(map)
        }
    })
}

/// A float as JSON: a number, or a string for NaN and the infinities.
fn float_value(x: f64) -> Value {
    match Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None if x.is_nan() => Value::String("NaN".into()),
        None if x > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}
