//! From a resolved WIT package to contracts, refusing what polyplug does not support.

use super::source::Sources;
use super::WitError;
use crate::limits::{MAX_DEPTH, MAX_TYPE_NODES};
use crate::model::{Contract, Function, Param, Type};
use crate::names::is_ident;
use crate::raw::RawContract;
use polyplug_abi::Version;
use wit_parser::{
    FunctionKind, Handle, Interface, InterfaceId, PackageId, Resolve, Span, TypeDefKind, TypeId,
    TypeOwner, WorldItem,
};

/// One contract per interface of the package, in declaration order; then a check that no world
/// declares what only an interface can.
pub(super) fn contracts(
    resolve: &Resolve,
    package: PackageId,
    sources: &Sources,
) -> Result<Vec<Contract>, WitError> {
    let cx = Cx { resolve, sources };
    let pkg = &resolve.packages[package];
    let version = cx.version(pkg)?;
    for part in [&pkg.name.namespace, &pkg.name.name] {
        if !is_ident(part) {
            return Err(sources.package_error(format!(
                "`{part}` in package `{}` is not a polyplug name: use lowercase kebab-case",
                pkg.name
            )));
        }
    }
    // wit-parser lists interfaces in dependency order; source order makes the first error
    // reported the first in the files, and the contracts come out as they were written.
    let mut interfaces: Vec<_> = pkg.interfaces.iter().collect();
    interfaces.sort_by_key(|(_, &id)| span_start(resolve.interfaces[id].span));
    let mut out = Vec::with_capacity(interfaces.len());
    for (name, &id) in interfaces {
        let contract_name = format!("{}:{}/{name}", pkg.name.namespace, pkg.name.name);
        out.push(InterfaceConv::new(&cx, id).contract(contract_name, version)?);
    }
    for (_, &world) in &pkg.worlds {
        let w = &resolve.worlds[world];
        for item in w.imports.values().chain(w.exports.values()) {
            cx.check_world_item(item, w.span)?;
        }
    }
    Ok(out)
}

/// What every conversion step needs: the resolved package and its sources for locations.
struct Cx<'a> {
    resolve: &'a Resolve,
    sources: &'a Sources,
}

impl Cx<'_> {
    fn error(&self, span: Span, message: impl Into<String>) -> WitError {
        self.sources
            .error(&self.resolve.source_map, span, message.into())
    }

    /// The package's version, which polyplug requires and must fit its `Version`.
    fn version(&self, pkg: &wit_parser::Package) -> Result<Version, WitError> {
        let Some(v) = &pkg.name.version else {
            return Err(self.sources.package_error(format!(
                "package `{}` has no version: polyplug contracts are versioned, write `package {}@1.0.0;`",
                pkg.name, pkg.name
            )));
        };
        if !v.pre.is_empty() || !v.build.is_empty() {
            return Err(self.sources.package_error(format!(
                "version `{v}` of package `{}` has a pre-release or build suffix; polyplug versions are MAJOR.MINOR.PATCH",
                pkg.name
            )));
        }
        let part = |n: u64| u32::try_from(n).ok();
        match (part(v.major), part(v.minor), part(v.patch)) {
            (Some(major), Some(minor), Some(patch)) => Ok(Version::new(major, minor, patch)),
            _ => Err(self.sources.package_error(format!(
                "version `{v}` of package `{}` has a part above {}",
                pkg.name,
                u32::MAX
            ))),
        }
    }

    /// Worlds may import and export interfaces; functions and inline interfaces there would be
    /// contracts without a name.
    fn check_world_item(&self, item: &WorldItem, world_span: Span) -> Result<(), WitError> {
        match item {
            WorldItem::Function(f) => Err(self.error(
                known_or(f.span, world_span),
                format!(
                    "function `{}` is declared in a world; polyplug contracts are interfaces: declare it in an `interface`",
                    f.name
                ),
            )),
            WorldItem::Interface { id, .. } if self.resolve.interfaces[*id].name.is_none() => {
                Err(self.error(
                    known_or(self.resolve.interfaces[*id].span, world_span),
                    "an interface declared inline in a world has no name to be a contract: declare it as `interface name { ... }` at package level",
                ))
            }
            _ => Ok(()),
        }
    }
}

fn known_or(span: Span, fallback: Span) -> Span {
    if span.is_known() {
        span
    } else {
        fallback
    }
}

/// An item of an interface, for checking in source order.
enum Item<'a> {
    Type(TypeId),
    Func(usize, &'a wit_parser::Function),
}

/// The conversion of one interface, with the node budget of the item being converted.
struct InterfaceConv<'a> {
    cx: &'a Cx<'a>,
    id: InterfaceId,
    iface: &'a Interface,
    nodes: usize,
}

/// Where an error inside a type goes: the innermost position in this interface. Once a walk
/// enters a type owned by another interface (through `use`), it stays at the `use`.
#[derive(Clone, Copy)]
struct At {
    span: Span,
    foreign: bool,
}

impl At {
    fn new(span: Span) -> At {
        At {
            span,
            foreign: false,
        }
    }
}

impl<'a> InterfaceConv<'a> {
    fn new(cx: &'a Cx<'a>, id: InterfaceId) -> InterfaceConv<'a> {
        InterfaceConv {
            cx,
            id,
            iface: &cx.resolve.interfaces[id],
            nodes: 0,
        }
    }

    fn error(&self, span: Span, message: impl Into<String>) -> WitError {
        self.cx.error(known_or(span, self.iface.span), message)
    }

    /// Converts every item in source order, so the first error reported is the first in the
    /// file, each with its own node budget; then checks the functions together (the shared
    /// budget, one definition per type name, layouts) through the model's own rules.
    fn contract(mut self, name: String, version: Version) -> Result<Contract, WitError> {
        let resolve = self.cx.resolve;
        let mut items: Vec<(Span, Item<'a>)> = self
            .iface
            .types
            .values()
            .map(|&t| (resolve.types[t].span, Item::Type(t)))
            .chain(
                self.iface
                    .functions
                    .values()
                    .enumerate()
                    .map(|(i, f)| (f.span, Item::Func(i, f))),
            )
            .collect();
        items.sort_by_key(|(span, _)| span_start(*span));
        let mut functions = vec![None; self.iface.functions.len()];
        for (span, item) in items {
            self.nodes = 0;
            match item {
                // Declared types are checked even when no function uses them: a `use` of a
                // resource is as wrong as a parameter of one.
                Item::Type(t) => {
                    self.ty(&wit_parser::Type::Id(t), At::new(span), 1)?;
                }
                Item::Func(i, f) => functions[i] = Some(self.function(f)?),
            }
        }
        let contract = Contract {
            name,
            version,
            functions: functions.into_iter().flatten().collect(),
        };
        RawContract::new(&contract).map_err(|e| {
            let span = e
                .function
                .and_then(|i| self.iface.functions.get_index(i))
                .map_or(self.iface.span, |(_, f)| f.span);
            self.error(span, e.to_string())
        })?;
        Ok(contract)
    }

    fn function(&mut self, f: &wit_parser::Function) -> Result<Function, WitError> {
        let unsupported = match f.kind {
            FunctionKind::Freestanding => None,
            FunctionKind::AsyncFreestanding
            | FunctionKind::AsyncMethod(_)
            | FunctionKind::AsyncStatic(_) => {
                Some("async functions are not supported: polyplug calls are synchronous")
            }
            FunctionKind::Constructor(_) => {
                Some("resource constructors are not supported: polyplug has no resources")
            }
            FunctionKind::Method(_)
            | FunctionKind::MethodGetter(_)
            | FunctionKind::MethodSetter(_) => {
                Some("resource methods are not supported: polyplug has no resources")
            }
            FunctionKind::Static(_)
            | FunctionKind::StaticGetter(_)
            | FunctionKind::StaticSetter(_) => {
                Some("static resource functions are not supported: polyplug has no resources")
            }
            FunctionKind::Getter | FunctionKind::Setter => {
                Some("accessor functions are not supported: declare a plain function")
            }
        };
        if let Some(message) = unsupported {
            return Err(self.error(f.span, format!("`{}`: {message}", f.name)));
        }
        self.name(&f.name, "function", f.span)?;
        let mut params = Vec::with_capacity(f.params.len());
        for p in &f.params {
            self.name(&p.name, "parameter", p.span)?;
            let ty = self.ty(&p.ty, At::new(known_or(p.span, f.span)), 1)?;
            params.push(Param::new(p.name.clone(), ty));
        }
        let result = match &f.result {
            Some(r) => Some(self.ty(r, At::new(f.span), 1)?),
            None => None,
        };
        Ok(Function::new(f.name.clone(), params, result))
    }

    /// A name polyplug accepts: WIT also allows uppercase words, the runtime does not.
    fn name(&self, name: &str, what: &str, span: Span) -> Result<(), WitError> {
        if is_ident(name) {
            return Ok(());
        }
        Err(self.error(
            span,
            format!("`{name}` is not a valid polyplug {what} name: use lowercase kebab-case"),
        ))
    }

    /// Converts a WIT type at nesting level `depth`.
    fn ty(&mut self, ty: &wit_parser::Type, at: At, depth: u32) -> Result<Type, WitError> {
        use wit_parser::Type as W;
        Ok(match ty {
            W::Bool => self.leaf(Type::Bool, at, depth)?,
            W::U8 => self.leaf(Type::U8, at, depth)?,
            W::U16 => self.leaf(Type::U16, at, depth)?,
            W::U32 => self.leaf(Type::U32, at, depth)?,
            W::U64 => self.leaf(Type::U64, at, depth)?,
            W::S8 => self.leaf(Type::S8, at, depth)?,
            W::S16 => self.leaf(Type::S16, at, depth)?,
            W::S32 => self.leaf(Type::S32, at, depth)?,
            W::S64 => self.leaf(Type::S64, at, depth)?,
            W::F32 => self.leaf(Type::F32, at, depth)?,
            W::F64 => self.leaf(Type::F64, at, depth)?,
            W::Char => self.leaf(Type::Char, at, depth)?,
            W::String => self.leaf(Type::String, at, depth)?,
            W::ErrorContext => {
                return Err(self.error(
                    at.span,
                    "`error-context` is not supported: return a `result` with an error type",
                ))
            }
            W::Id(id) => self.def(*id, at, depth)?,
        })
    }

    /// Counts a node against the depth and budget bounds.
    fn count(&mut self, at: At, depth: u32) -> Result<(), WitError> {
        if depth > MAX_DEPTH {
            return Err(self.error(
                at.span,
                format!("types nest deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.nodes += 1;
        if self.nodes > MAX_TYPE_NODES {
            return Err(self.error(
                at.span,
                format!(
                    "the types here unfold into more than {MAX_TYPE_NODES} nodes; simplify them"
                ),
            ));
        }
        Ok(())
    }

    fn leaf(&mut self, t: Type, at: At, depth: u32) -> Result<Type, WitError> {
        self.count(at, depth)?;
        Ok(t)
    }

    /// Converts a type definition: named or anonymous, local or reached through `use`.
    fn def(&mut self, id: TypeId, outer: At, depth: u32) -> Result<Type, WitError> {
        let resolve = self.cx.resolve;
        let td = &resolve.types[id];
        let foreign = outer.foreign
            || matches!(td.owner, TypeOwner::Interface(i) if i != self.id)
            || matches!(td.owner, TypeOwner::World(_));
        let at = if foreign || !td.span.is_known() {
            At {
                span: outer.span,
                foreign,
            }
        } else {
            At::new(td.span)
        };
        if !matches!(td.kind, TypeDefKind::Type(_)) {
            self.count(at, depth)?;
        }
        let next = depth + 1;
        let unsupported = |what: &str| self.error(at.span, what.to_owned());
        Ok(match &td.kind {
            TypeDefKind::Record(r) => {
                let mut fields = Vec::with_capacity(r.fields.len());
                for f in &r.fields {
                    let fat = self.member_at(f.span, at);
                    self.member_name(&f.name, "field", fat)?;
                    fields.push((f.name.clone(), self.ty(&f.ty, fat, next)?));
                }
                Type::Record {
                    name: self.type_name(td, at)?,
                    fields,
                }
            }
            TypeDefKind::Enum(e) => {
                for c in &e.cases {
                    self.member_name(&c.name, "enum case", self.member_at(c.span, at))?;
                }
                Type::Enum {
                    name: self.type_name(td, at)?,
                    cases: e.cases.iter().map(|c| c.name.clone()).collect(),
                }
            }
            TypeDefKind::Flags(f) => {
                for flag in &f.flags {
                    self.member_name(&flag.name, "flag", self.member_at(flag.span, at))?;
                }
                Type::Flags {
                    name: self.type_name(td, at)?,
                    flags: f.flags.iter().map(|f| f.name.clone()).collect(),
                }
            }
            TypeDefKind::Tuple(t) => Type::Tuple(
                t.types
                    .iter()
                    .map(|t| self.ty(t, at, next))
                    .collect::<Result<_, _>>()?,
            ),
            TypeDefKind::Option(t) => Type::option(self.ty(t, at, next)?),
            TypeDefKind::Result(r) => Type::Result {
                ok: self.payload(r.ok.as_ref(), at, next)?,
                err: self.payload(r.err.as_ref(), at, next)?,
            },
            TypeDefKind::List(t) => Type::list(self.ty(t, at, next)?),
            // An alias or a `use`: transparent, it adds no level.
            TypeDefKind::Type(t) => return self.ty(t, at, depth),
            TypeDefKind::Variant(_) => return Err(unsupported(
                "variants are not supported by polyplug: use an `enum` when no case has a payload, or a `result` for success or error",
            )),
            TypeDefKind::Resource => return Err(unsupported(
                "resources are not supported by polyplug (nor their constructors, methods and static functions): pass plain data, such as a `u64` id",
            )),
            TypeDefKind::Handle(Handle::Own(_)) => return Err(unsupported(
                "`own<T>` handles are not supported: polyplug has no resources",
            )),
            TypeDefKind::Handle(Handle::Borrow(_)) => return Err(unsupported(
                "`borrow<T>` handles are not supported: polyplug has no resources",
            )),
            TypeDefKind::Future(_) => return Err(unsupported(
                "`future<T>` is not supported: polyplug calls are synchronous",
            )),
            TypeDefKind::Stream(_) => return Err(unsupported(
                "`stream<T>` is not supported: polyplug calls are synchronous; pass a `list<T>`",
            )),
            TypeDefKind::Map(..) => return Err(unsupported(
                "`map<K, V>` is not supported: use `list<tuple<K, V>>`",
            )),
            TypeDefKind::FixedLengthList(..) => return Err(unsupported(
                "fixed-length lists (`list<T, N>`) are not supported: use `list<T>` or a `tuple`",
            )),
            TypeDefKind::Unknown => return Err(unsupported("this type could not be resolved")),
        })
    }

    fn payload(
        &mut self,
        t: Option<&wit_parser::Type>,
        at: At,
        depth: u32,
    ) -> Result<Option<Box<Type>>, WitError> {
        t.map(|t| self.ty(t, at, depth).map(Box::new)).transpose()
    }

    /// A member's own position, unless the walk is at a `use`.
    fn member_at(&self, span: Span, outer: At) -> At {
        if outer.foreign || !span.is_known() {
            outer
        } else {
            At::new(span)
        }
    }

    fn member_name(&self, name: &str, what: &str, at: At) -> Result<(), WitError> {
        self.name(name, what, at.span)
    }

    /// The WIT name of a record, enum or flags type (always named in WIT).
    fn type_name(&self, td: &wit_parser::TypeDef, at: At) -> Result<String, WitError> {
        let name = td.name.clone().unwrap_or_default();
        if !name.is_empty() {
            self.name(&name, "type", at.span)?;
        }
        Ok(name)
    }
}

/// Sort key of a span: unknown spans last.
fn span_start(span: Span) -> u32 {
    if span.is_known() {
        span.start()
    } else {
        u32::MAX
    }
}
