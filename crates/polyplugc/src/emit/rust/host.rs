//! The host file's own part: the typed caller, generic over the call path (`polyplug::Invoke`),
//! with its guarded default (`XCaller`), the cached opt-in (`XCachedCaller`) and per-instance
//! callers (`XInstance`).

use super::types::{avoid, ident, is_plain, Side, Types};
use super::Out;
use polyplug_contract::{Contract, Function, Type};

/// Names a caller method parameter may not take: the method's own locals and `cx`.
const LOCALS: &[&str] = &["cx", "arena", "pp_args", "pp_ret"];

/// Names a function's method may not take: the callers' own methods.
const METHODS: &[&str] = &[
    "find",
    "from_handle",
    "handle",
    "create_instance",
    "path",
    "into_path",
];

/// The caller type names for an interface.
pub struct CallerNames {
    pub client: String,
    pub guarded: String,
    pub cached: String,
    pub instance: String,
}

impl CallerNames {
    pub fn new(trait_name: &str) -> CallerNames {
        CallerNames {
            client: format!("{trait_name}Client"),
            guarded: format!("{trait_name}Caller"),
            cached: format!("{trait_name}CachedCaller"),
            instance: format!("{trait_name}Instance"),
        }
    }

    pub fn all(&self) -> Vec<String> {
        vec![
            self.client.clone(),
            self.guarded.clone(),
            self.cached.clone(),
            self.instance.clone(),
        ]
    }
}

/// The call sites, function shapes and caller types.
pub fn callers(
    o: &mut Out,
    t: &Types,
    contract: &Contract,
    names: &CallerNames,
    shapes: &[(String, String)],
) {
    let n = contract.functions.len();
    let CallerNames {
        client,
        guarded,
        cached,
        instance,
    } = names;
    o.blank();
    o.line("/// The lookup key of the contract (its name and major version).");
    o.line(format!(
        "pub const KEY: pp::ContractKey<'static> = pp::ContractKey::new(NAME, {});",
        contract.version.major
    ));
    o.blank();
    o.line("/// What each function's failure reports.");
    o.line(format!(
        "const SITES: [pp::CallSite; {n}] = [{}];",
        contract
            .functions
            .iter()
            .map(|f| format!("pp::CallSite {{ contract: NAME, function: {:?} }}", f.name))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    o.blank();
    o.line(
        "/// Each function's name and raw layouts, checked against a provider before calling it.",
    );
    o.line(format!(
        "const FUNCS: [pp::codec::FuncShape; {n}] = [{}];",
        contract
            .functions
            .iter()
            .zip(shapes)
            .map(|(f, (a, r))| format!("pp::codec::FuncShape::of::<{a}, {r}>({:?})", f.name))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    o.blank();
    o.line(format!(
        "/// A typed caller of `{contract}` over the call path `P`: one method per function."
    ));
    o.line("///");
    o.line(format!(
        "/// Use [`{guarded}`] (guarded: safe against concurrent reload and unload, the default),"
    ));
    o.line(format!(
        "/// [`{cached}`] (cached: the host quiesces callers before a reload or unload) or an"
    ));
    o.line(format!(
        "/// [`{instance}`] of a stateful provider. Each call starts `cx` anew: results are owned"
    ));
    o.line("/// values, decoded and validated.");
    o.line("#[derive(Debug)]");
    o.open(format!("pub struct {client}<P> {{"));
    o.line("path: P,");
    o.close("}");
    o.blank();
    o.line(format!(
        "/// The default caller of `{contract}`: guarded calls, safe against a concurrent reload"
    ));
    o.line("/// (it follows the new code) or unload (calls then fail with `StaleHandle`).");
    o.line(format!(
        "pub type {guarded}<'rt> = {client}<pp::GuardedProvider<'rt>>;"
    ));
    o.line(format!(
        "/// The cached caller of `{contract}` (opt-in, fastest): it re-resolves when the provider's"
    ));
    o.line("/// revision moved, but a call is not safe against a *concurrent* reload or unload: the host");
    o.line("/// quiesces these callers before it reloads or unloads the provider's bundle.");
    o.line(format!(
        "pub type {cached}<'rt> = {client}<pp::ResolvedProvider<'rt>>;"
    ));
    o.line(format!(
        "/// A caller bound to one instance of a stateful provider of `{contract}` (guarded); stale"
    ));
    o.line("/// after a reload or unload of the provider's bundle.");
    o.line(format!(
        "pub type {instance}<'rt> = {client}<pp::ProviderInstance<'rt>>;"
    ));

    // Constructors.
    for (alias, path, what) in [
        (guarded, "rt.guarded(handle)?", "guarded"),
        (cached, "pp::ResolvedProvider::new(rt, handle)?", "cached"),
    ] {
        o.blank();
        o.open(format!("impl<'rt> {alias}<'rt> {{"));
        o.line(format!(
            "/// The {what} caller of the highest-priority provider compatible with [`VERSION`]."
        ));
        o.open("pub fn find(rt: &'rt pp::Runtime) -> pp::Result<Self> {");
        o.line("Self::from_handle(rt, rt.find(KEY, &VERSION)?)");
        o.close("}");
        o.blank();
        o.line(format!(
            "/// The {what} caller of the provider `handle` names, after checking that it provides this"
        ));
        o.line("/// contract at a compatible version with the same functions and layouts.");
        o.open(
            "pub fn from_handle(rt: &'rt pp::Runtime, handle: pp::Handle) -> pp::Result<Self> {",
        );
        o.line("pp::codec::check_provider(rt, handle, NAME, VERSION, &FUNCS)?;");
        o.line(format!("Ok({client} {{ path: {path} }})"));
        o.close("}");
        o.blank();
        o.line("/// The provider's handle.");
        o.open("pub fn handle(&self) -> pp::Handle {");
        o.line("self.path.handle()");
        o.close("}");
        if alias == guarded {
            o.blank();
            o.line("/// A new instance of the provider (for a stateless provider, the provider itself), and a");
            o.line("/// caller bound to it. The instance is destroyed when the caller drops.");
            o.open(format!(
                "pub fn create_instance(&mut self, cx: &mut pp::CallContext) -> pp::Result<{instance}<'rt>> {{"
            ));
            o.line(format!(
                "Ok({client} {{ path: self.path.create_instance(cx)? }})"
            ));
            o.close("}");
        }
        o.close("}");
    }

    // The functions.
    o.blank();
    o.open(format!("impl<P: pp::Invoke> {client}<P> {{"));
    o.line("/// The call path.");
    o.open("pub fn path(&self) -> &P {");
    o.line("&self.path");
    o.close("}");
    o.blank();
    o.line("/// Gives the call path back.");
    o.open("pub fn into_path(self) -> P {");
    o.line("self.path");
    o.close("}");
    for (i, (f, (args, ret))) in contract.functions.iter().zip(shapes).enumerate() {
        method(o, t, i, f, args, ret);
    }
    o.close("}");
}

fn method(o: &mut Out, t: &Types, index: usize, f: &Function, args: &str, ret: &str) {
    let params: Vec<(String, &Type)> = f
        .params
        .iter()
        .map(|p| (avoid(ident(&p.name), LOCALS), &p.ty))
        .collect();
    let name = avoid(ident(&f.name), METHODS);
    let result = f.result.as_ref().map_or("()".to_owned(), |r| t.api(r));
    let mut sig = vec![
        "&mut self".to_owned(),
        "cx: &mut pp::CallContext".to_owned(),
    ];
    sig.extend(
        params
            .iter()
            .map(|(p, ty)| format!("{p}: {}", t.host_param(ty))),
    );
    let needs_arena = f.params.iter().any(|p| t.needs_arena(&p.ty, Side::Host));
    let lifted = f.result.as_ref().map(|r| t.lift(r, "&pp_ret", Side::Host));
    o.blank();
    o.line(format!("/// `{}`.", f.wit_signature()));
    // A call of plain data is a few instructions around the indirect call: inlined, its
    // result need not travel through memory twice.
    if needs_arena || lifted.as_ref().is_some_and(|e| e.fallible) {
        o.line("#[inline]");
    } else {
        o.line("#[inline(always)]");
    }
    o.open(format!(
        "pub fn {name}({}) -> pp::Result<{result}> {{",
        sig.join(", ")
    ));
    o.line("cx.begin();");
    if needs_arena {
        o.line("let arena = cx.arena();");
    }
    let args_ptr = if params.is_empty() {
        "::core::ptr::null()".to_owned()
    } else {
        let inits: Vec<String> = f
            .params
            .iter()
            .zip(&params)
            .map(|(param, (p, ty))| {
                let field = ident(&param.name);
                let value = top_level(t, p, ty);
                if field == value {
                    field
                } else {
                    format!("{field}: {value}")
                }
            })
            .collect();
        o.line(format!("let pp_args = {args} {{ {} }};", inits.join(", ")));
        "(&raw const pp_args).cast()".to_owned()
    };
    let ret_ptr = match &f.result {
        None => "::core::ptr::null_mut()".to_owned(),
        Some(_) => {
            o.line("// SAFETY: every raw ABI type is valid when all-zero.");
            o.line(format!(
                "let mut pp_ret: {ret} = unsafe {{ ::core::mem::zeroed() }};"
            ));
            "(&raw mut pp_ret).cast()".to_owned()
        }
    };
    o.line(format!(
        "// SAFETY: function {index} of a provider `check_provider` accepted; the arguments and the result"
    ));
    o.line("// are its raw structs, and the views in the arguments borrow this call's parameters.");
    o.line(format!(
        "unsafe {{ self.path.invoke({index}, {args_ptr}, {ret_ptr}, cx, &SITES[{index}]) }}?;"
    ));
    let Some(e) = lifted else {
        o.line("Ok(())");
        o.close("}");
        return;
    };
    if f.result
        .as_ref()
        .is_some_and(|r| matches!(r, Type::Record { .. }))
        && !e.fallible
    {
        // A plain record: one volatile read, which rustc/LLVM lower to a load per field. A
        // callee that wrote the record field by field leaves stores that one wide copy cannot
        // be forwarded from (it waits for them to reach the cache); loads no wider than a
        // field are forwarded. `docs/PERFORMANCE.md` ("Contracts and dynamic calls") has the
        // figures.
        o.line("// SAFETY: `pp_ret` is a live, initialised local.");
        o.line("Ok(unsafe { (&raw const pp_ret).read_volatile() })");
    } else if !e.fallible {
        o.line(format!("Ok({})", e.code));
    } else if e.unsafe_ {
        o.line("// SAFETY: the result's views point into `cx`'s arena, untouched since the call.");
        o.line(format!(
            "unsafe {{ {} }}.map_err(|e| SITES[{index}].malformed(e))",
            e.code
        ));
    } else {
        o.line(format!(
            "{}.map_err(|e| SITES[{index}].malformed(e))",
            e.code
        ));
    }
    o.close("}");
}

/// The raw value of a top-level parameter `p` of type `ty` (see `Types::host_param`).
fn top_level(t: &Types, p: &str, ty: &Type) -> String {
    match ty {
        Type::String => format!("pp::abi::Str::new({p})"),
        Type::Bytes => format!("pp::abi::Bytes::new({p})"),
        Type::List(e) if is_plain(e) => format!("pp::abi::List::new({p})"),
        Type::List(e) => format!(
            "pp::codec::list_into(arena, {p}, {})?",
            t.lower_each(e, Side::Host)
        ),
        ty if Types::host_param_by_value(ty) => {
            t.lower(ty, &format!("&{p}"), Side::Host).as_value()
        }
        ty => t.lower(ty, p, Side::Host).as_value(),
    }
}
