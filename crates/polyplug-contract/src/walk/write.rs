//! Writing a value in C layout, one slot at a time.

use super::{foreign_layout, WalkError, WalkErrorKind};
use crate::layout::{Shape, TypeLayout};
use crate::model::Type;
use polyplug_abi::{check, Arena, CallArena};
use std::mem::size_of;

const PTR: usize = size_of::<usize>();

/// One slot to write a value of its type into: the root of an argument or result, or a member
/// reached from one. Each `set_*`/container method consumes the slot, so a slot is written once.
pub struct ValueMut<'a> {
    ty: &'a Type,
    layout: &'a TypeLayout,
    /// Exactly `layout.layout.size` bytes.
    out: &'a mut [u8],
    arena: &'a mut Arena,
}

impl std::fmt::Debug for ValueMut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueMut")
            .field("ty", &self.ty.wit())
            .field("size", &self.out.len())
            .finish()
    }
}

/// The slot of `size` bytes at `off` of `out`.
#[inline(always)]
fn sub(out: &mut [u8], off: usize, size: usize) -> Result<&mut [u8], WalkError> {
    let len = out.len();
    off.checked_add(size)
        .and_then(|end| out.get_mut(off..end))
        .ok_or_else(|| too_small(size, off, len))
}

#[cold]
fn too_small(size: usize, off: usize, len: usize) -> WalkError {
    WalkError::new(
        WalkErrorKind::Layout,
        format!("a {size}-byte value at offset {off} does not fit a {len}-byte buffer"),
    )
}

/// `size` bytes aligned to `align` from the arena (null for size 0).
#[inline(always)]
fn alloc(arena: &mut Arena, size: usize, align: usize) -> Result<*mut u8, WalkError> {
    if size == 0 {
        return Ok(std::ptr::null_mut());
    }
    // SAFETY: the arena is live for the current call (`ValueMut`'s constructors' contract).
    let p = unsafe { arena.alloc(size, align) };
    if p.is_null() {
        return Err(WalkError::new(
            WalkErrorKind::OutOfMemory,
            format!("the arena cannot hold {size} more bytes"),
        ));
    }
    Ok(p)
}

/// Writes a `{ptr, len}` view into its two-word slot.
#[inline(always)]
fn write_view(out: &mut [u8], ptr: *const u8, len: usize) {
    out[..PTR].copy_from_slice(&(ptr as usize).to_ne_bytes());
    out[PTR..2 * PTR].copy_from_slice(&len.to_ne_bytes());
}

impl<'a> ValueMut<'a> {
    /// The slot of a value of type `ty`, laid out as `layout`, at the start of `out`; strings
    /// and lists are copied into `arena`, which must outlive every use of the value.
    #[inline]
    pub fn new(
        ty: &'a Type,
        layout: &'a TypeLayout,
        out: &'a mut [u8],
        arena: &'a mut CallArena,
    ) -> Result<ValueMut<'a>, WalkError> {
        // SAFETY: the owner's own arena header, live while `arena` is borrowed.
        let raw = unsafe { &mut *arena.as_raw() };
        // SAFETY: a `CallArena`'s header describes its current block.
        unsafe { ValueMut::with_arena(ty, layout, out, raw) }
    }

    /// As [`ValueMut::new`], with a raw arena header: a provider writing its result into the
    /// caller's arena (`ctx->arena`).
    ///
    /// # Safety
    /// `arena` must be a live arena handed out for the current call (see
    /// [`polyplug_abi::Arena::alloc`]).
    #[inline]
    pub unsafe fn with_arena(
        ty: &'a Type,
        layout: &'a TypeLayout,
        out: &'a mut [u8],
        arena: &'a mut Arena,
    ) -> Result<ValueMut<'a>, WalkError> {
        let out = sub(out, 0, layout.layout.size as usize)?;
        Ok(ValueMut {
            ty,
            layout,
            out,
            arena,
        })
    }

    /// The type the slot holds.
    pub fn ty(&self) -> &'a Type {
        self.ty
    }

    /// The slot's layout.
    pub fn layout(&self) -> &'a TypeLayout {
        self.layout
    }

    #[cold]
    fn cannot(&self, what: &str) -> WalkError {
        WalkError::mismatch(format!("{what} cannot be written as `{}`", self.ty))
    }

    /// Writes `N` bytes, when the slot is `N` bytes long.
    #[inline(always)]
    fn put<const N: usize>(self, bytes: [u8; N]) -> Result<(), WalkError> {
        match <&mut [u8; N]>::try_from(self.out) {
            Ok(out) => {
                *out = bytes;
                Ok(())
            }
            Err(_) => Err(foreign_layout(self.ty)),
        }
    }

    /// Writes a `bool`.
    pub fn set_bool(self, v: bool) -> Result<(), WalkError> {
        match self.ty {
            Type::Bool => self.put([v.into()]),
            _ => Err(self.cannot("a bool")),
        }
    }

    /// Writes an integer into an integer slot of any width, checking its range:
    /// ``300 is out of range for u8 (0..=255)``.
    #[inline]
    pub fn set_int(self, v: i128) -> Result<(), WalkError> {
        let Some((min, max)) = self.ty.int_range() else {
            return Err(self.cannot("an integer"));
        };
        if v < min || v > max {
            return Err(WalkError::mismatch(format!(
                "{v} is out of range for {} ({min}..={max})",
                self.ty
            )));
        }
        // Two's complement truncation keeps the value, which is in range.
        match self.ty {
            Type::S8 | Type::U8 => self.put((v as u8).to_ne_bytes()),
            Type::S16 | Type::U16 => self.put((v as u16).to_ne_bytes()),
            Type::S32 | Type::U32 => self.put((v as u32).to_ne_bytes()),
            _ => self.put((v as u64).to_ne_bytes()),
        }
    }

    /// Writes a float into an `f32` or `f64` slot; a finite value beyond `f32`'s range is an
    /// error there.
    pub fn set_float(self, v: f64) -> Result<(), WalkError> {
        match self.ty {
            Type::F64 => self.put(v.to_ne_bytes()),
            Type::F32 => {
                let x = v as f32;
                if v.is_finite() && x.is_infinite() {
                    return Err(WalkError::mismatch(format!("{v} is out of range for f32")));
                }
                self.put(x.to_ne_bytes())
            }
            _ => Err(self.cannot("a float")),
        }
    }

    /// Writes a `char`.
    pub fn set_char(self, c: char) -> Result<(), WalkError> {
        match self.ty {
            Type::Char => self.put(u32::from(c).to_ne_bytes()),
            _ => Err(self.cannot("a char")),
        }
    }

    /// Copies a string into the arena and writes its view.
    #[inline]
    pub fn set_str(self, s: &str) -> Result<(), WalkError> {
        match self.ty {
            Type::String => self.copy_view(s.as_bytes()),
            _ => Err(self.cannot("a string")),
        }
    }

    /// Copies bytes into the arena and writes their view (`list<u8>`).
    #[inline]
    pub fn set_bytes(self, b: &[u8]) -> Result<(), WalkError> {
        match self.ty {
            Type::Bytes => self.copy_view(b),
            _ => Err(self.cannot("a byte list")),
        }
    }

    #[inline(always)]
    fn copy_view(self, bytes: &[u8]) -> Result<(), WalkError> {
        if self.out.len() != 2 * PTR {
            return Err(foreign_layout(self.ty));
        }
        let p = alloc(self.arena, bytes.len(), 1)?;
        if !bytes.is_empty() {
            // SAFETY: `p` holds `bytes.len()` fresh bytes of the arena, which no borrowed
            // slice can overlap.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
        }
        write_view(self.out, p, bytes.len());
        Ok(())
    }

    /// Writes an enum's case by name: ``` `round` is not a case of enum `shape-kind` (its cases:
    /// square, wide) ``` otherwise.
    pub fn set_enum(self, case: &str) -> Result<(), WalkError> {
        let Type::Enum { name, cases } = self.ty else {
            return Err(self.cannot("an enum case"));
        };
        let Some(index) = cases.iter().position(|c| c == case) else {
            return Err(WalkError::mismatch(format!(
                "`{case}` is not a case of enum `{name}` (its cases: {})",
                cases.join(", ")
            )));
        };
        self.put((index as u32).to_ne_bytes())
    }

    /// Writes an enum's case by index.
    pub fn set_enum_index(self, index: u32) -> Result<(), WalkError> {
        let Type::Enum { name, cases } = self.ty else {
            return Err(self.cannot("an enum case"));
        };
        check::enum_index(index, cases.len(), name).map_err(|m| WalkError::mismatch(m.0))?;
        self.put(index.to_ne_bytes())
    }

    /// Writes a flags value from the names of the set flags; an unknown or repeated name is an
    /// error at its position (`[1]`).
    pub fn set_flags<'n>(self, names: impl IntoIterator<Item = &'n str>) -> Result<(), WalkError> {
        let Type::Flags { name, flags } = self.ty else {
            return Err(self.cannot("flags"));
        };
        let mut bits = 0u64;
        for (i, n) in names.into_iter().enumerate() {
            let Some(bit) = flags.iter().position(|f| f == n) else {
                return Err(WalkError::mismatch(format!(
                    "`{n}` is not a flag of `{name}` (its flags: {})",
                    flags.join(", ")
                ))
                .in_index(i));
            };
            if bits & (1 << bit) != 0 {
                return Err(WalkError::mismatch(format!("flag `{n}` is listed twice")).in_index(i));
            }
            bits |= 1 << bit;
        }
        self.put_flags(bits)
    }

    /// Writes a flags value from its bits; a bit beyond the declared flags is an error.
    pub fn set_flags_bits(self, bits: u64) -> Result<(), WalkError> {
        let Type::Flags { name, flags } = self.ty else {
            return Err(self.cannot("flags"));
        };
        check::flags_from(bits, flags.len(), name).map_err(|m| WalkError::mismatch(m.0))?;
        self.put_flags(bits)
    }

    fn put_flags(self, bits: u64) -> Result<(), WalkError> {
        if self.out.len() == 4 {
            self.put((bits as u32).to_ne_bytes())
        } else {
            self.put(bits.to_ne_bytes())
        }
    }

    /// Makes a list of `len` zeroed elements in the arena, writes its view, and returns it to
    /// fill (`list<T>` other than `list<u8>`, which [`ValueMut::set_bytes`] writes).
    pub fn list(self, len: usize) -> Result<ListMut<'a>, WalkError> {
        let (Type::List(ty), Shape::List { elem }) = (self.ty, &self.layout.shape) else {
            return Err(self.cannot("a list"));
        };
        if self.out.len() != 2 * PTR {
            return Err(foreign_layout(self.ty));
        }
        let size = elem.layout.size as usize;
        let total = len.checked_mul(size).ok_or_else(|| {
            WalkError::new(
                WalkErrorKind::OutOfMemory,
                format!("a list of {len} elements is too large"),
            )
        })?;
        let p = alloc(self.arena, total, elem.layout.align as usize)?;
        let mem: &'a mut [u8] = if total == 0 {
            &mut []
        } else {
            // SAFETY: `p` holds `total` fresh bytes of the arena, which live as long as the
            // arena is not reset: for `'a`, since it is borrowed that long.
            unsafe {
                std::ptr::write_bytes(p, 0, total);
                std::slice::from_raw_parts_mut(p, total)
            }
        };
        write_view(self.out, p, len);
        Ok(ListMut {
            ty,
            elem,
            mem,
            len,
            arena: self.arena,
        })
    }

    /// The fields of a record, to fill.
    pub fn record(self) -> Result<StructMut<'a>, WalkError> {
        match (self.ty, &self.layout.shape) {
            (Type::Record { fields, .. }, Shape::Struct { offsets, members })
                if offsets.len() == fields.len() && members.len() == fields.len() =>
            {
                Ok(StructMut {
                    names: Some(fields),
                    tuple: None,
                    offsets,
                    members,
                    out: self.out,
                    arena: self.arena,
                })
            }
            (Type::Record { .. }, _) => Err(foreign_layout(self.ty)),
            _ => Err(self.cannot("a record")),
        }
    }

    /// The elements of a tuple, to fill.
    pub fn tuple(self) -> Result<StructMut<'a>, WalkError> {
        match (self.ty, &self.layout.shape) {
            (Type::Tuple(elems), Shape::Struct { offsets, members })
                if offsets.len() == elems.len() && members.len() == elems.len() =>
            {
                Ok(StructMut {
                    names: None,
                    tuple: Some(elems),
                    offsets,
                    members,
                    out: self.out,
                    arena: self.arena,
                })
            }
            (Type::Tuple(_), _) => Err(foreign_layout(self.ty)),
            _ => Err(self.cannot("a tuple")),
        }
    }

    /// Fills a record from a keyed source (a JSON object, a Lua table, a Python dict...): every
    /// key of `keys` must name a field (``unknown field `z` of record `point` (its fields: x,
    /// y)`` otherwise), `field(name)` must give each field's value (``missing field `y` of
    /// record `point` `` otherwise), and `write` writes a value into its field's slot. An error
    /// inside a field gains the field's name in its path.
    pub fn record_from<'k, V>(
        self,
        keys: impl IntoIterator<Item = &'k str>,
        mut field: impl FnMut(&str) -> Option<V>,
        mut write: impl FnMut(ValueMut<'_>, V) -> Result<(), WalkError>,
    ) -> Result<(), WalkError> {
        let Type::Record { name, fields } = self.ty else {
            return Err(self.cannot("a record"));
        };
        if let Some(extra) = keys
            .into_iter()
            .find(|k| !fields.iter().any(|(f, _)| f == k))
        {
            let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
            return Err(WalkError::mismatch(format!(
                "unknown field `{extra}` of record `{name}` (its fields: {})",
                names.join(", ")
            )));
        }
        let mut record = self.record()?;
        for (i, (fname, _)) in fields.iter().enumerate() {
            let v = field(fname).ok_or_else(|| {
                WalkError::mismatch(format!("missing field `{fname}` of record `{name}`"))
            })?;
            write(record.field(i)?, v).map_err(|e| e.in_field(fname))?;
        }
        Ok(())
    }

    /// Fills a list (other than `list<u8>`) from a sequence: `write` writes each item into its
    /// element's slot; an error inside an element gains its index in its path.
    pub fn list_from<V>(
        self,
        items: impl ExactSizeIterator<Item = V>,
        mut write: impl FnMut(ValueMut<'_>, V) -> Result<(), WalkError>,
    ) -> Result<(), WalkError> {
        let mut list = self.list(items.len())?;
        for (i, item) in items.enumerate() {
            write(list.elem(i)?, item).map_err(|e| e.in_index(i))?;
        }
        Ok(())
    }

    /// Fills a tuple from a sequence of exactly as many items (``expected a tuple of 2
    /// elements, found 1`` otherwise); an error inside an element gains its index in its path.
    pub fn tuple_from<V>(
        self,
        items: impl ExactSizeIterator<Item = V>,
        mut write: impl FnMut(ValueMut<'_>, V) -> Result<(), WalkError>,
    ) -> Result<(), WalkError> {
        let Type::Tuple(elems) = self.ty else {
            return Err(self.cannot("a tuple"));
        };
        if items.len() != elems.len() {
            return Err(WalkError::mismatch(format!(
                "expected a tuple of {} elements, found {}",
                elems.len(),
                items.len()
            )));
        }
        let mut tuple = self.tuple()?;
        for (i, item) in items.enumerate() {
            write(tuple.field(i)?, item).map_err(|e| e.in_index(i))?;
        }
        Ok(())
    }

    /// Writes `none`.
    pub fn none(self) -> Result<(), WalkError> {
        match self.ty {
            Type::Option(_) if !self.out.is_empty() => {
                self.out[0] = 0;
                Ok(())
            }
            Type::Option(_) => Err(foreign_layout(self.ty)),
            _ => Err(self.cannot("none")),
        }
    }

    /// Writes `some` and returns the value's slot.
    pub fn some(self) -> Result<ValueMut<'a>, WalkError> {
        let (
            Type::Option(ty),
            Shape::Option {
                payload_offset,
                value,
            },
        ) = (self.ty, &self.layout.shape)
        else {
            return Err(self.cannot("some"));
        };
        let out = sub(self.out, 0, self.layout.layout.size as usize)?;
        out[0] = 1;
        Ok(ValueMut {
            ty,
            layout: value,
            out: sub(out, *payload_offset as usize, value.layout.size as usize)?,
            arena: self.arena,
        })
    }

    /// Writes `ok` and returns its payload's slot (`None` when `ok` has no payload).
    pub fn ok(self) -> Result<Option<ValueMut<'a>>, WalkError> {
        self.result_case(false)
    }

    /// Writes `err` and returns its payload's slot (`None` when `err` has no payload).
    pub fn err(self) -> Result<Option<ValueMut<'a>>, WalkError> {
        self.result_case(true)
    }

    fn result_case(self, is_err: bool) -> Result<Option<ValueMut<'a>>, WalkError> {
        let (
            Type::Result { ok, err },
            Shape::Result {
                payload_offset,
                ok: ok_lay,
                err: err_lay,
            },
        ) = (self.ty, &self.layout.shape)
        else {
            return Err(self.cannot(if is_err { "err" } else { "ok" }));
        };
        let (ty, lay) = if is_err { (err, err_lay) } else { (ok, ok_lay) };
        if self.out.is_empty() {
            return Err(foreign_layout(self.ty));
        }
        self.out[0] = u8::from(is_err);
        match (ty, lay) {
            (Some(ty), Some(lay)) => Ok(Some(ValueMut {
                ty,
                layout: lay,
                out: sub(self.out, *payload_offset as usize, lay.layout.size as usize)?,
                arena: self.arena,
            })),
            (None, None) => Ok(None),
            _ => Err(foreign_layout(self.ty)),
        }
    }
}

/// A record's fields or a tuple's elements, to fill one by one.
pub struct StructMut<'a> {
    names: Option<&'a [(String, Type)]>,
    tuple: Option<&'a [Type]>,
    offsets: &'a [u32],
    members: &'a [TypeLayout],
    out: &'a mut [u8],
    arena: &'a mut Arena,
}

impl StructMut<'_> {
    /// The number of fields or elements.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// True for a struct without members.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The name of field `i` (`None` for a tuple's element or past the end).
    pub fn name(&self, i: usize) -> Option<&str> {
        self.names?.get(i).map(|(n, _)| n.as_str())
    }

    /// The type of member `i`.
    pub fn member_type(&self, i: usize) -> Option<&Type> {
        match (self.names, self.tuple) {
            (Some(fields), _) => fields.get(i).map(|(_, t)| t),
            (_, Some(elems)) => elems.get(i),
            _ => None,
        }
    }

    /// The slot of member `i`.
    #[inline]
    pub fn field(&mut self, i: usize) -> Result<ValueMut<'_>, WalkError> {
        let ty = match (self.names, self.tuple) {
            (Some(fields), _) => fields.get(i).map(|(_, t)| t),
            (_, Some(elems)) => elems.get(i),
            _ => None,
        };
        let (Some(ty), Some(&off), Some(lay)) = (ty, self.offsets.get(i), self.members.get(i))
        else {
            return Err(WalkError::new(
                WalkErrorKind::Layout,
                format!("no member {i} in a struct of {}", self.offsets.len()),
            ));
        };
        Ok(ValueMut {
            ty,
            layout: lay,
            out: sub(&mut *self.out, off as usize, lay.layout.size as usize)?,
            arena: &mut *self.arena,
        })
    }
}

/// A list's elements in the arena, to fill one by one (each starts zeroed).
pub struct ListMut<'a> {
    ty: &'a Type,
    elem: &'a TypeLayout,
    mem: &'a mut [u8],
    len: usize,
    arena: &'a mut Arena,
}

impl ListMut<'_> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty list.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements' type.
    pub fn elem_type(&self) -> &Type {
        self.ty
    }

    /// The slot of element `i`.
    #[inline]
    pub fn elem(&mut self, i: usize) -> Result<ValueMut<'_>, WalkError> {
        let size = self.elem.layout.size as usize;
        if i >= self.len {
            return Err(WalkError::new(
                WalkErrorKind::Layout,
                format!("no element {i} in a list of {}", self.len),
            ));
        }
        Ok(ValueMut {
            ty: self.ty,
            layout: self.elem,
            out: sub(&mut *self.mem, i * size, size)?,
            arena: &mut *self.arena,
        })
    }
}
