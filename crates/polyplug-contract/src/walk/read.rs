//! Reading a value in C layout, one level at a time.

use super::{foreign_layout, WalkError, MAX_VIEW_BYTES};
use crate::layout::{Shape, TypeLayout};
use crate::model::Type;
use polyplug_abi::check;
use std::marker::PhantomData;
use std::mem::size_of;

const PTR: usize = size_of::<usize>();

/// A value in C layout, with its type and layout: what a reader visits.
///
/// Cheap to copy (three words). [`ValueRef::read`] checks and reads one level of it.
#[derive(Clone, Copy)]
pub struct ValueRef<'a> {
    ty: &'a Type,
    layout: &'a TypeLayout,
    ptr: *const u8,
    _mem: PhantomData<&'a [u8]>,
}

impl std::fmt::Debug for ValueRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueRef")
            .field("ty", &self.ty.wit())
            .field("ptr", &self.ptr)
            .finish()
    }
}

/// One level of a value, as [`ValueRef::read`] gives it.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// `bool`.
    Bool(bool),
    /// `s8`.
    S8(i8),
    /// `u8`.
    U8(u8),
    /// `s16`.
    S16(i16),
    /// `u16`.
    U16(u16),
    /// `s32`.
    S32(i32),
    /// `u32`.
    U32(u32),
    /// `s64`.
    S64(i64),
    /// `u64`.
    U64(u64),
    /// `f32`.
    F32(f32),
    /// `f64`.
    F64(f64),
    /// `char`.
    Char(char),
    /// `string`, borrowed from the memory the view points to.
    String(&'a str),
    /// `list<u8>`, borrowed.
    Bytes(&'a [u8]),
    /// `list<T>`.
    List(ListRef<'a>),
    /// A record: its fields by name and position.
    Record(StructRef<'a>),
    /// A tuple: its elements by position.
    Tuple(StructRef<'a>),
    /// An enum's case.
    Enum(EnumCase<'a>),
    /// A flags value.
    Flags(FlagSet<'a>),
    /// `option<T>`: the value, if present.
    Option(Option<ValueRef<'a>>),
    /// `result<T, E>`: the payload of the case the tag selects (`None` for an absent payload).
    Result(Result<Option<ValueRef<'a>>, Option<ValueRef<'a>>>),
}

/// A `list<T>` (other than `list<u8>`): its elements, checked and bounded.
#[derive(Clone, Copy)]
pub struct ListRef<'a> {
    ty: &'a Type,
    elem: &'a TypeLayout,
    base: *const u8,
    len: usize,
    _mem: PhantomData<&'a [u8]>,
}

impl std::fmt::Debug for ListRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListRef").field("len", &self.len).finish()
    }
}

impl<'a> ListRef<'a> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements' type.
    pub fn elem_type(&self) -> &'a Type {
        self.ty
    }

    /// Element `i`, or `None` past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<ValueRef<'a>> {
        if i >= self.len {
            return None;
        }
        Some(ValueRef {
            ty: self.ty,
            layout: self.elem,
            // SAFETY: `i < len`, and the view was checked to cover `len` elements of this size.
            ptr: unsafe { self.base.add(i * self.elem.layout.size as usize) },
            _mem: PhantomData,
        })
    }

    /// The elements in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ValueRef<'a>> + 'a {
        let this = *self;
        (0..self.len).map(move |i| ValueRef {
            ty: this.ty,
            layout: this.elem,
            // SAFETY: as in `get`: `i < len`.
            ptr: unsafe { this.base.add(i * this.elem.layout.size as usize) },
            _mem: PhantomData,
        })
    }
}

/// A record's fields or a tuple's elements, each at its offset (checked to lie inside the
/// value when this was read).
#[derive(Clone, Copy)]
pub struct StructRef<'a> {
    /// A record or tuple type, whose layout has the struct shape with one member per field.
    ty: &'a Type,
    layout: &'a TypeLayout,
    base: *const u8,
    _mem: PhantomData<&'a [u8]>,
}

impl std::fmt::Debug for StructRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StructRef")
            .field("len", &self.len())
            .finish()
    }
}

impl<'a> StructRef<'a> {
    /// The members' offsets and layouts.
    #[inline(always)]
    fn parts(&self) -> (&'a [u32], &'a [TypeLayout]) {
        match &self.layout.shape {
            Shape::Struct { offsets, members } => (offsets, members),
            _ => (&[], &[]),
        }
    }

    /// The number of fields or elements.
    pub fn len(&self) -> usize {
        self.parts().0.len()
    }

    /// True for a struct without members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Member `i`, or `None` past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<ValueRef<'a>> {
        let ty = match self.ty {
            Type::Record { fields, .. } => &fields.get(i)?.1,
            Type::Tuple(elems) => elems.get(i)?,
            _ => return None,
        };
        let (offsets, members) = self.parts();
        Some(ValueRef {
            ty,
            layout: members.get(i)?,
            // SAFETY: `read` checked that every member lies inside the struct's bytes.
            ptr: unsafe { self.base.add(*offsets.get(i)? as usize) },
            _mem: PhantomData,
        })
    }

    /// The name of field `i` of a record; `None` for a tuple or past the end.
    pub fn name(&self, i: usize) -> Option<&'a str> {
        match self.ty {
            Type::Record { fields, .. } => fields.get(i).map(|(n, _)| n.as_str()),
            _ => None,
        }
    }

    /// Field `i` of a record with its name (`""` for a tuple's element); `None` past the end.
    #[inline]
    pub fn field(&self, i: usize) -> Option<(&'a str, ValueRef<'a>)> {
        Some((self.name(i).unwrap_or(""), self.get(i)?))
    }

    /// The members in order, with their names (`""` for a tuple's elements).
    #[inline]
    pub fn iter(&self) -> Members<'a> {
        let (offsets, layouts) = self.parts();
        let (fields, elems): (&'a [(String, Type)], &'a [Type]) = match self.ty {
            Type::Record { fields, .. } => (fields, &[]),
            Type::Tuple(elems) => (&[], elems),
            _ => (&[], &[]),
        };
        Members {
            fields,
            elems,
            offsets,
            layouts,
            base: self.base,
            next: 0,
            // `read` checked that the type and the layout have this many members.
            len: offsets
                .len()
                .min(layouts.len())
                .min(fields.len().max(elems.len())),
            _mem: PhantomData,
        }
    }
}

/// The members of a record or tuple, in order, with their names (`""` for a tuple's).
#[derive(Clone)]
pub struct Members<'a> {
    /// A record's fields, or empty for a tuple.
    fields: &'a [(String, Type)],
    /// A tuple's elements, or empty for a record.
    elems: &'a [Type],
    offsets: &'a [u32],
    layouts: &'a [TypeLayout],
    base: *const u8,
    next: usize,
    len: usize,
    _mem: PhantomData<&'a [u8]>,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, ValueRef<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let i = self.next;
        if i >= self.len {
            return None;
        }
        self.next += 1;
        // SAFETY: `i < len`, which is within every slice (see `iter`); `read` checked that
        // every member lies inside the struct's bytes.
        unsafe {
            let (name, ty) = if self.fields.is_empty() {
                ("", self.elems.get_unchecked(i))
            } else {
                let (n, t) = self.fields.get_unchecked(i);
                (n.as_str(), t)
            };
            Some((
                name,
                ValueRef {
                    ty,
                    layout: self.layouts.get_unchecked(i),
                    ptr: self.base.add(*self.offsets.get_unchecked(i) as usize),
                    _mem: PhantomData,
                },
            ))
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.len - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Members<'_> {}

/// The case of an enum value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumCase<'a> {
    /// The case's index.
    pub index: u32,
    /// The case's name.
    pub name: &'a str,
}

/// The flags set in a flags value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagSet<'a> {
    /// The bits, flag `i` at bit `i`; none beyond the declared flags.
    pub bits: u64,
    /// Every flag of the type, lowest bit first.
    pub names: &'a [String],
}

impl<'a> FlagSet<'a> {
    /// The names of the set flags, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let bits = self.bits;
        self.names
            .iter()
            .enumerate()
            .filter(move |(i, _)| bits & (1 << i) != 0)
            .map(|(_, n)| n.as_str())
    }

    /// True when flag `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.names
            .iter()
            .position(|n| n == name)
            .is_some_and(|i| self.bits & (1 << i) != 0)
    }
}

impl<'a> ValueRef<'a> {
    /// A value of type `ty`, laid out as `layout`, at `ptr`.
    ///
    /// # Safety
    /// `ptr` must point to `layout.layout.size` readable bytes, and every non-null view inside
    /// the value (strings, byte lists, lists, recursively) must point to as many readable bytes
    /// as its length says; all of it must stay valid and unchanged for `'a`. That is a peer's
    /// promise about its memory, which cannot be checked; everything else is checked as it is
    /// read.
    #[inline]
    pub unsafe fn new(ty: &'a Type, layout: &'a TypeLayout, ptr: *const u8) -> ValueRef<'a> {
        ValueRef {
            ty,
            layout,
            ptr,
            _mem: PhantomData,
        }
    }

    /// The value's type.
    pub fn ty(&self) -> &'a Type {
        self.ty
    }

    /// The value's layout.
    pub fn layout(&self) -> &'a TypeLayout {
        self.layout
    }

    /// The address of the value's bytes.
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr
    }

    /// The value's `N` bytes, when its layout is `N` bytes long.
    #[inline(always)]
    fn bytes<const N: usize>(&self) -> Result<[u8; N], WalkError> {
        if self.layout.layout.size as usize != N {
            return Err(foreign_layout(self.ty));
        }
        // SAFETY: `ptr` points to `size == N` readable bytes (`ValueRef::new`'s contract).
        Ok(unsafe { self.ptr.cast::<[u8; N]>().read_unaligned() })
    }

    /// The first byte: the tag of an option or result (their size is at least 1).
    #[inline(always)]
    fn tag(&self) -> Result<u8, WalkError> {
        if self.layout.layout.size == 0 {
            return Err(foreign_layout(self.ty));
        }
        // SAFETY: at least one readable byte (`ValueRef::new`'s contract).
        Ok(unsafe { self.ptr.read() })
    }

    /// A `{ptr, len}` view of `len` elements of `size` bytes aligned to `align`, checked.
    #[inline(always)]
    fn view(&self, size: usize, align: usize, what: &str) -> Result<(*const u8, usize), WalkError> {
        let raw = self.bytes::<{ 2 * PTR }>()?;
        let mut p = [0u8; PTR];
        p.copy_from_slice(&raw[..PTR]);
        let ptr = usize::from_ne_bytes(p) as *const u8;
        p.copy_from_slice(&raw[PTR..]);
        let len = usize::from_ne_bytes(p);
        check::view(ptr, len, size, align, MAX_VIEW_BYTES, what)?;
        Ok((ptr, len))
    }

    /// A member at `offset` with `layout`, checked to lie inside this value.
    #[inline(always)]
    fn member(
        &self,
        ty: &'a Type,
        offset: u32,
        layout: &'a TypeLayout,
    ) -> Result<ValueRef<'a>, WalkError> {
        let end = offset as u64 + layout.layout.size as u64;
        if end > self.layout.layout.size as u64 {
            return Err(foreign_layout(self.ty));
        }
        Ok(ValueRef {
            ty,
            layout,
            // SAFETY: `offset + size <= self.size`, inside the bytes `ptr` points to.
            ptr: unsafe { self.ptr.add(offset as usize) },
            _mem: PhantomData,
        })
    }

    /// Reads one level of the value, checking it (see the module docs).
    ///
    /// Scalars are read inline; containers and views go through small functions of their own,
    /// so a walk over plain data stays a jump table and a load per value.
    #[inline(always)]
    pub fn read(&self) -> Result<Value<'a>, WalkError> {
        Ok(match self.ty {
            Type::Bool => Value::Bool(check::bool_from(self.bytes::<1>()?[0])?),
            Type::S8 => Value::S8(i8::from_ne_bytes(self.bytes()?)),
            Type::U8 => Value::U8(u8::from_ne_bytes(self.bytes()?)),
            Type::S16 => Value::S16(i16::from_ne_bytes(self.bytes()?)),
            Type::U16 => Value::U16(u16::from_ne_bytes(self.bytes()?)),
            Type::S32 => Value::S32(i32::from_ne_bytes(self.bytes()?)),
            Type::U32 => Value::U32(u32::from_ne_bytes(self.bytes()?)),
            Type::S64 => Value::S64(i64::from_ne_bytes(self.bytes()?)),
            Type::U64 => Value::U64(u64::from_ne_bytes(self.bytes()?)),
            Type::F32 => Value::F32(f32::from_ne_bytes(self.bytes()?)),
            Type::F64 => Value::F64(f64::from_ne_bytes(self.bytes()?)),
            Type::Char => Value::Char(check::char_from(u32::from_ne_bytes(self.bytes()?))?),
            Type::String => self.read_string()?,
            Type::Bytes => self.read_bytes()?,
            Type::List(ty) => self.read_list(ty)?,
            Type::Record { fields, .. } => Value::Record(self.read_struct(fields.len())?),
            Type::Tuple(elems) => Value::Tuple(self.read_struct(elems.len())?),
            Type::Enum { name, cases } => {
                let raw = u32::from_ne_bytes(self.bytes()?);
                let index = check::enum_index(raw, cases.len(), name)?;
                Value::Enum(EnumCase {
                    index,
                    name: &cases[index as usize],
                })
            }
            Type::Flags { name, flags } => self.read_flags(name, flags)?,
            Type::Option(ty) => self.read_option(ty)?,
            Type::Result { ok, err } => self.read_result(ok, err)?,
        })
    }

    fn read_string(&self) -> Result<Value<'a>, WalkError> {
        let (ptr, len) = self.view(1, 1, "string")?;
        // SAFETY: a checked view; its bytes are readable for `'a` (`new`'s contract).
        let bytes = unsafe { slice(ptr, len) };
        Ok(Value::String(check::utf8(bytes)?))
    }

    fn read_bytes(&self) -> Result<Value<'a>, WalkError> {
        let (ptr, len) = self.view(1, 1, "byte list")?;
        // SAFETY: as above.
        Ok(Value::Bytes(unsafe { slice(ptr, len) }))
    }

    fn read_list(&self, ty: &'a Type) -> Result<Value<'a>, WalkError> {
        let Shape::List { elem } = &self.layout.shape else {
            return Err(foreign_layout(self.ty));
        };
        let size = elem.layout.size as usize;
        let (base, len) = self.view(size, elem.layout.align as usize, "list")?;
        Ok(Value::List(ListRef {
            ty,
            elem,
            base,
            len,
            _mem: PhantomData,
        }))
    }

    #[inline]
    fn read_struct(&self, count: usize) -> Result<StructRef<'a>, WalkError> {
        let Shape::Struct { offsets, members } = &self.layout.shape else {
            return Err(foreign_layout(self.ty));
        };
        self.check_members(count, offsets, members)?;
        Ok(StructRef {
            ty: self.ty,
            layout: self.layout,
            base: self.ptr,
            _mem: PhantomData,
        })
    }

    fn read_flags(&self, name: &str, flags: &'a [String]) -> Result<Value<'a>, WalkError> {
        let bits = match self.layout.layout.size {
            4 => u32::from_ne_bytes(self.bytes()?).into(),
            _ => u64::from_ne_bytes(self.bytes()?),
        };
        Ok(Value::Flags(FlagSet {
            bits: check::flags_from(bits, flags.len(), name)?,
            names: flags,
        }))
    }

    fn read_option(&self, ty: &'a Type) -> Result<Value<'a>, WalkError> {
        let Shape::Option {
            payload_offset,
            value,
        } = &self.layout.shape
        else {
            return Err(foreign_layout(self.ty));
        };
        Ok(Value::Option(if check::option_tag(self.tag()?)? {
            Some(self.member(ty, *payload_offset, value)?)
        } else {
            None
        }))
    }

    fn read_result(
        &self,
        ok: &'a Option<Box<Type>>,
        err: &'a Option<Box<Type>>,
    ) -> Result<Value<'a>, WalkError> {
        let Shape::Result {
            payload_offset,
            ok: ok_lay,
            err: err_lay,
        } = &self.layout.shape
        else {
            return Err(foreign_layout(self.ty));
        };
        let is_err = check::result_tag(self.tag()?)?;
        let payload = |ty: &'a Option<Box<Type>>, lay: &'a Option<Box<TypeLayout>>| match (ty, lay)
        {
            (Some(ty), Some(lay)) => self.member(ty, *payload_offset, lay).map(Some),
            (None, None) => Ok(None),
            _ => Err(foreign_layout(self.ty)),
        };
        Ok(Value::Result(if is_err {
            Err(payload(err, err_lay)?)
        } else {
            Ok(payload(ok, ok_lay)?)
        }))
    }

    /// Checks that a struct's members match its type and lie inside its bytes.
    #[inline(always)]
    fn check_members(
        &self,
        count: usize,
        offsets: &[u32],
        members: &[TypeLayout],
    ) -> Result<(), WalkError> {
        let size = self.layout.layout.size as u64;
        if offsets.len() != count
            || members.len() != count
            || offsets
                .iter()
                .zip(members)
                .any(|(&o, m)| o as u64 + m.layout.size as u64 > size)
        {
            return Err(foreign_layout(self.ty));
        }
        Ok(())
    }
}

/// # Safety
/// `ptr` must be null with `len == 0`, or point to `len` bytes readable for `'a`.
#[inline(always)]
unsafe fn slice<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: forwarded to the caller.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}
