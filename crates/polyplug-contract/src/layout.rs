//! Precomputed C layouts of a contract's functions and types.
//!
//! Nothing here computes a layout: every size, alignment and offset comes from
//! [`polyplug_abi::layout`], called on the contract's raw descriptors ([`RawContract`]), so the
//! ABI has exactly one layout algorithm. This module only records its answers in a tree shaped
//! like the type, which is what a marshaller walks.

use crate::error::{ContractError, ErrorKind, Located};
use crate::model::Contract;
use crate::raw::RawContract;
use polyplug_abi::layout::{
    self, option_payload_offset, result_payload_offset, Layout, LayoutError,
};
use polyplug_abi::{FuncDesc, TypeDesc, TypeKind};

/// The C layout of one type, with what is inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeLayout {
    /// Size and alignment of the type.
    pub layout: Layout,
    /// Where its parts are.
    pub shape: Shape,
}

/// Where the parts of a type are, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A scalar, `string`, `list<u8>`, `enum` or `flags`: nothing inside to locate.
    Leaf,
    /// `list<T>`: a view of an array of `T`, each `elem.layout.size` bytes apart.
    List {
        /// The element's layout.
        elem: Box<TypeLayout>,
    },
    /// `record` or `tuple`: a C struct of its members.
    Struct {
        /// Byte offset of each member, in order.
        offsets: Vec<u32>,
        /// Each member's layout, in order.
        members: Vec<TypeLayout>,
    },
    /// `option<T>`: a `u8` flag at offset 0, then the value.
    Option {
        /// Byte offset of the value.
        payload_offset: u32,
        /// The value's layout.
        value: Box<TypeLayout>,
    },
    /// `result<T, E>`: a `u8` flag at offset 0 (1 for `err`), then a union of the payloads.
    Result {
        /// Byte offset of the payload union.
        payload_offset: u32,
        /// The `ok` payload's layout, if there is one.
        ok: Option<Box<TypeLayout>>,
        /// The `err` payload's layout, if there is one.
        err: Option<Box<TypeLayout>>,
    },
}

impl TypeLayout {
    /// Member offsets of a record or tuple; empty for other types.
    pub fn field_offsets(&self) -> &[u32] {
        match &self.shape {
            Shape::Struct { offsets, .. } => offsets,
            _ => &[],
        }
    }

    /// Offset of the payload of an option or result; `None` for other types.
    pub fn payload_offset(&self) -> Option<u32> {
        match self.shape {
            Shape::Option { payload_offset, .. } | Shape::Result { payload_offset, .. } => {
                Some(payload_offset)
            }
            _ => None,
        }
    }

    /// Reads the layout of a raw type from the ABI's algorithm.
    ///
    /// # Safety
    /// Every pointer reachable from `ty` must be null or valid, as in a [`RawContract`].
    unsafe fn of(ty: &TypeDesc) -> Result<TypeLayout, LayoutError> {
        // SAFETY: forwarded to the caller.
        let layout = unsafe { layout::type_layout(ty) }?;
        let kind = TypeKind::from_raw(ty.kind).ok_or(LayoutError::UnknownKind(ty.kind))?;
        // SAFETY: forwarded to the caller; `type_layout` succeeded, so the pointers each kind
        // needs are set and its member lists hold `field_count` entries.
        let shape = unsafe {
            match kind {
                TypeKind::List => Shape::List {
                    elem: Box::new(child(ty.elem)?),
                },
                TypeKind::Record | TypeKind::Tuple => {
                    let fields = layout::members(ty);
                    let mut offsets = vec![0; fields.len()];
                    layout::struct_layout(fields, Some(&mut offsets))?;
                    let members = fields
                        .iter()
                        .map(|f| child(f.ty))
                        .collect::<Result<_, _>>()?;
                    Shape::Struct { offsets, members }
                }
                TypeKind::Option => {
                    let value = child(ty.elem)?;
                    Shape::Option {
                        payload_offset: option_payload_offset(value.layout),
                        value: Box::new(value),
                    }
                }
                TypeKind::Result => {
                    let ok = optional(ty.elem)?;
                    let err = optional(ty.err)?;
                    let of =
                        |t: &Option<TypeLayout>| t.as_ref().map_or(Layout::EMPTY, |t| t.layout);
                    Shape::Result {
                        payload_offset: result_payload_offset(of(&ok), of(&err)),
                        ok: ok.map(Box::new),
                        err: err.map(Box::new),
                    }
                }
                _ => Shape::Leaf,
            }
        };
        Ok(TypeLayout { layout, shape })
    }
}

/// # Safety
/// `ty` must be null or valid, as for [`TypeLayout::of`].
unsafe fn child(ty: *const TypeDesc) -> Result<TypeLayout, LayoutError> {
    // SAFETY: forwarded to the caller.
    let ty = unsafe { ty.as_ref() }.ok_or(LayoutError::NullType)?;
    // SAFETY: forwarded to the caller.
    unsafe { TypeLayout::of(ty) }
}

/// # Safety
/// As for [`child`].
unsafe fn optional(ty: *const TypeDesc) -> Result<Option<TypeLayout>, LayoutError> {
    if ty.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded to the caller.
    unsafe { child(ty) }.map(Some)
}

/// The layouts of one function: its argument struct and its result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncLayout {
    /// The argument struct ([`Layout::EMPTY`] without parameters).
    pub args: Layout,
    /// Byte offset of each parameter inside the argument struct.
    pub param_offsets: Vec<u32>,
    /// The result ([`Layout::EMPTY`] without one).
    pub ret: Layout,
    /// Each parameter's type layout.
    pub params: Vec<TypeLayout>,
    /// The result's type layout.
    pub result: Option<TypeLayout>,
}

impl FuncLayout {
    /// # Safety
    /// Every pointer reachable from `f` must be null or valid, as in a [`RawContract`].
    unsafe fn of(f: &FuncDesc) -> Result<FuncLayout, LayoutError> {
        // SAFETY: forwarded to the caller.
        unsafe {
            let ps = layout::params(f);
            let mut param_offsets = vec![0; ps.len()];
            let args = layout::args_layout(f, Some(&mut param_offsets))?;
            let ret = layout::result_layout(f)?;
            let params = ps.iter().map(|p| child(p.ty)).collect::<Result<_, _>>()?;
            let result = optional(f.result)?;
            Ok(FuncLayout {
                args,
                param_offsets,
                ret,
                params,
                result,
            })
        }
    }
}

/// The layouts of every function of a raw contract, in table order.
pub(crate) fn func_layouts(
    raw: &RawContract,
    contract: &Contract,
) -> Result<Vec<FuncLayout>, ContractError> {
    raw.functions()
        .iter()
        .zip(&contract.functions)
        .enumerate()
        .map(|(i, (f, model))| {
            // SAFETY: a `RawContract`'s graph is complete and lives as long as `raw`.
            unsafe { FuncLayout::of(f) }.map_err(|e| {
                Located::new(ErrorKind::Layout(e))
                    .in_function(i, &model.name)
                    .finish(contract.to_string())
            })
        })
        .collect()
}

impl Contract {
    /// The C layouts of every function, in table order, computed through a temporary
    /// [`RawContract`]. Use [`crate::CompiledContract`] to keep them with the contract.
    pub fn layouts(&self) -> Result<Vec<FuncLayout>, ContractError> {
        let raw = RawContract::new(self)?;
        func_layouts(&raw, self)
    }
}
