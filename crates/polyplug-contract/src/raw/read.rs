//! Reading a peer's raw descriptor graph into the model.
//!
//! The peer may be buggy or built against another version, so nothing in the graph is trusted
//! beyond what the ABI promises (pointers are null or valid): every count is bounded before it
//! is used, every pointer is checked for null, names are length-checked before they are read,
//! and the walk stops at [`MAX_DEPTH`] levels and [`MAX_TYPE_NODES`] nodes, which also cuts
//! cycles and shared nodes that would unfold into a huge tree.

use crate::error::{ContractError, ErrorKind, Located};
use crate::limits::{MAX_DEPTH, MAX_FLAGS, MAX_FUNCTIONS, MAX_MEMBERS, MAX_TYPE_NODES};
use crate::model::{Contract, Function, Param, Type};
use crate::names::{is_contract_name, MAX_NAME_LEN};
use crate::validate::bounded;
use polyplug_abi::layout;
use polyplug_abi::{ext, ContractDesc, FieldDesc, FuncDesc, Str, TypeDesc, TypeKind};
use std::marker::PhantomData;

/// Label of a contract whose name could not be read.
const UNNAMED: &str = "<unnamed>";

impl Contract {
    /// Reads and validates a contract description from a peer.
    ///
    /// The description is reconciled as an extensible struct (a smaller one from an older peer is
    /// zero-extended, a larger one is accepted only with a zero tail), read within the bounds of
    /// [`crate::limits`], checked with [`Contract::validate`], and its C layouts are computed, so
    /// a contract returned here can be registered and called. A `list` of `u8` is read as
    /// [`Type::Bytes`]; tuple element names and enum or flag member types are ignored, as the
    /// ABI says they are unused.
    ///
    /// # Safety
    /// `desc` must be null or point to a description whose every pointer is null or points to as
    /// many valid descriptors (or bytes, for a name) as its count or length says, and the graph
    /// must not change during the call.
    pub unsafe fn from_desc(desc: *const ContractDesc) -> Result<Contract, ContractError> {
        // SAFETY: the caller guarantees `desc` is null or valid for its declared size.
        let desc = unsafe { ext::reconcile(desc) }
            .map_err(|e| Located::new(ErrorKind::Descriptor(e)).finish(UNNAMED.into()))?;
        // SAFETY: the caller vouches for every pointer the description reaches, for this call.
        let graph = unsafe { Graph::new() };
        let name = graph
            .name(&desc.name)
            .map_err(|e| Located::new(e).within("name".into()).finish(UNNAMED.into()))?;
        let label = format!("{name}@{}", desc.version);
        if !is_contract_name(&name) {
            return Err(Located::new(ErrorKind::ContractName(name)).finish(label));
        }
        let funcs = graph
            .funcs(&desc)
            .map_err(|e| Located::new(e).finish(label.clone()))?;
        let mut reader = Reader { graph, nodes: 0 };
        let functions = funcs
            .iter()
            .enumerate()
            .map(|(i, f)| reader.function(i, f))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.finish(label.clone()))?;
        let contract = Contract {
            name,
            version: desc.version,
            functions,
        };
        contract.validate()?;
        for (i, (f, model)) in funcs.iter().zip(&contract.functions).enumerate() {
            // SAFETY: every node reachable from `f` was read above: pointers are non-null where
            // the layout needs them, counts are bounded and the depth is within the layout's.
            let checked = unsafe { layout::args_layout(f, None).and(layout::result_layout(f)) };
            checked.map_err(|e| {
                Located::new(ErrorKind::Layout(e))
                    .in_function(i, &model.name)
                    .finish(label.clone())
            })?;
        }
        Ok(contract)
    }
}

/// Proof that the peer's graph may be read for `'g`: pointers in it are null or valid. The only
/// place the graph's memory is touched, so the walk above it needs no `unsafe`.
#[derive(Clone, Copy)]
struct Graph<'g>(PhantomData<&'g ()>);

impl<'g> Graph<'g> {
    /// # Safety
    /// Every pointer reachable from the description being read must be null or point to as many
    /// valid descriptors or bytes as its count or length says, unchanged for `'g`.
    unsafe fn new() -> Graph<'g> {
        Graph(PhantomData)
    }

    /// A name, length-checked before its bytes are touched.
    fn name(self, view: &Str) -> Result<String, ErrorKind> {
        if view.is_malformed() {
            return Err(ErrorKind::MalformedView);
        }
        if view.len > MAX_NAME_LEN {
            return Err(ErrorKind::NameTooLong(view.len));
        }
        // SAFETY: the view is well-formed and, by `Graph::new`'s contract, readable.
        let s = unsafe { view.to_str() }.map_err(|_| ErrorKind::NotUtf8)?;
        Ok(s.to_owned())
    }

    /// `count` items at `ptr`: empty for a zero count, an error for a null pointer.
    fn slice<T>(
        self,
        ptr: *const T,
        count: usize,
        what: &'static str,
    ) -> Result<&'g [T], ErrorKind> {
        if count == 0 {
            return Ok(&[]);
        }
        if ptr.is_null() {
            return Err(ErrorKind::Null(what));
        }
        // SAFETY: non-null, and by `Graph::new`'s contract `count` valid items live there; the
        // callers bound `count` first.
        Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
    }

    fn ty(self, ptr: *const TypeDesc) -> Result<&'g TypeDesc, ErrorKind> {
        // SAFETY: by `Graph::new`'s contract the pointer is null or valid.
        unsafe { ptr.as_ref() }.ok_or(ErrorKind::Null("type"))
    }

    /// The description's functions, after bounding their count.
    fn funcs(self, desc: &ContractDesc) -> Result<&'g [FuncDesc], ErrorKind> {
        let count = desc.func_count as usize;
        bounded("functions", count, MAX_FUNCTIONS)?;
        self.slice(desc.funcs, count, "function list")
    }

    /// The members of a record, tuple, enum or flags type: at least one, at most `max`.
    fn members(
        self,
        ty: &TypeDesc,
        what: &'static str,
        max: usize,
    ) -> Result<&'g [FieldDesc], ErrorKind> {
        let count = ty.field_count as usize;
        if count == 0 {
            return Err(ErrorKind::NoMembers(what));
        }
        bounded(what, count, max)?;
        self.slice(ty.fields, count, "member list")
    }
}

/// One walk over a contract's descriptors, with its node budget.
struct Reader<'g> {
    graph: Graph<'g>,
    nodes: usize,
}

impl Reader<'_> {
    fn function(&mut self, index: usize, f: &FuncDesc) -> Result<Function, Located> {
        let g = self.graph;
        let name = g
            .name(&f.name)
            .map_err(|e| Located::new(e).in_function_at(index))?;
        let at = |e: Located| e.in_function(index, &name);
        if f.flags != 0 {
            return Err(at(ErrorKind::ReservedFlags(f.flags).into()));
        }
        let count = f.param_count as usize;
        let raw_params = bounded("parameters", count, MAX_MEMBERS)
            .and_then(|()| g.slice(f.params, count, "parameter list"))
            .map_err(|e| at(e.into()))?;
        let mut params = Vec::with_capacity(raw_params.len());
        for (i, p) in raw_params.iter().enumerate() {
            let pname = g
                .name(&p.name)
                .map_err(|e| at(Located::new(e).within(format!("parameter {i}"))))?;
            let ty = self
                .ty(p.ty, 1)
                .map_err(|e| at(e.within(format!("parameter `{pname}`"))))?;
            params.push(Param { name: pname, ty });
        }
        let result = self
            .optional(f.result, 1)
            .map_err(|e| at(e.within("result".into())))?;
        Ok(Function {
            name,
            params,
            result,
        })
    }

    /// Reads the type at `ptr`, which sits at nesting level `depth`.
    fn ty(&mut self, ptr: *const TypeDesc, depth: u32) -> Result<Type, Located> {
        if depth > MAX_DEPTH {
            return Err(ErrorKind::TooDeep.into());
        }
        self.nodes += 1;
        if self.nodes > MAX_TYPE_NODES {
            return Err(ErrorKind::TooManyTypes.into());
        }
        let g = self.graph;
        let ty = g.ty(ptr)?;
        let kind = TypeKind::from_raw(ty.kind).ok_or(ErrorKind::UnknownKind(ty.kind))?;
        if let Some(scalar) = Type::scalar(kind) {
            return Ok(scalar);
        }
        let next = depth + 1;
        let named = |what: &'static str| {
            g.name(&ty.name)
                .map_err(|e| Located::new(e).within(what.into()))
        };
        Ok(match kind {
            TypeKind::List => Type::list(
                self.ty(ty.elem, next)
                    .map_err(|e| e.within("list element".into()))?,
            ),
            TypeKind::Option => Type::option(
                self.ty(ty.elem, next)
                    .map_err(|e| e.within("option value".into()))?,
            ),
            TypeKind::Result => Type::Result {
                ok: self
                    .optional(ty.elem, next)
                    .map_err(|e| e.within("ok payload".into()))?
                    .map(Box::new),
                err: self
                    .optional(ty.err, next)
                    .map_err(|e| e.within("err payload".into()))?
                    .map(Box::new),
            },
            TypeKind::Record => {
                let name = named("record name")?;
                let members = g.members(ty, "record field", MAX_MEMBERS)?;
                let mut fields = Vec::with_capacity(members.len());
                for (i, m) in members.iter().enumerate() {
                    let fname = g
                        .name(&m.name)
                        .map_err(|e| Located::new(e).within(format!("field {i}")))?;
                    let fty = self
                        .ty(m.ty, next)
                        .map_err(|e| e.within(format!("field `{fname}`")))?;
                    fields.push((fname, fty));
                }
                Type::Record { name, fields }
            }
            TypeKind::Tuple => {
                let members = g.members(ty, "tuple element", MAX_MEMBERS)?;
                let mut elems = Vec::with_capacity(members.len());
                for (i, m) in members.iter().enumerate() {
                    elems.push(
                        self.ty(m.ty, next)
                            .map_err(|e| e.within(format!("tuple element {i}")))?,
                    );
                }
                Type::Tuple(elems)
            }
            TypeKind::Enum => Type::Enum {
                name: named("enum name")?,
                cases: self.labels(ty, "enum case", MAX_MEMBERS)?,
            },
            TypeKind::Flags => Type::Flags {
                name: named("flags name")?,
                flags: self.labels(ty, "flag", MAX_FLAGS)?,
            },
            // Scalars returned above; the match must still name them.
            _ => return Err(ErrorKind::UnknownKind(ty.kind).into()),
        })
    }

    /// A `result` payload or function result: null means none.
    fn optional(&mut self, ptr: *const TypeDesc, depth: u32) -> Result<Option<Type>, Located> {
        if ptr.is_null() {
            return Ok(None);
        }
        self.ty(ptr, depth).map(Some)
    }

    /// The names of an enum's cases or a flags type's flags.
    fn labels(
        &self,
        ty: &TypeDesc,
        what: &'static str,
        max: usize,
    ) -> Result<Vec<String>, Located> {
        let g = self.graph;
        g.members(ty, what, max)?
            .iter()
            .enumerate()
            .map(|(i, m)| {
                g.name(&m.name)
                    .map_err(|e| Located::new(e).within(format!("{what} {i}")))
            })
            .collect()
    }
}
