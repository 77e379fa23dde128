//! The guest file's own parts: the trait a plugin implements, the `extern "C"` thunks that
//! decode arguments, call it behind `catch_unwind` and encode its result, and the
//! `provider`/`stateful_provider` constructors.

use super::types::{ident, is_plain, Side, Types};
use super::Out;
use polyplug_contract::{Contract, Function, Type};

/// The trait's name for an interface: `geometry` → `Geometry`.
pub fn trait_name(contract: &Contract) -> String {
    let iface = contract.name.rsplit('/').next().unwrap_or(&contract.name);
    super::types::type_ident(iface)
}

/// The trait.
pub fn guest_trait(o: &mut Out, t: &Types, contract: &Contract) {
    let name = trait_name(contract);
    o.blank();
    o.line(format!(
        "/// An implementation of `{contract}`: one method per function, called from any thread."
    ));
    o.line("///");
    o.line("/// Register it with [`provider`] (one implementation serves every caller) or");
    o.line("/// [`stateful_provider`] (one implementation per instance).");
    o.open(format!("pub trait {name}: Send + Sync + 'static {{"));
    for (i, f) in contract.functions.iter().enumerate() {
        if i > 0 {
            o.blank();
        }
        o.line(format!("/// `{}`.", f.wit_signature()));
        let params: Vec<String> = f
            .params
            .iter()
            .map(|p| format!("{}: {}", ident(&p.name), t.guest_param(&p.ty)))
            .collect();
        let ret = f.result.as_ref().map_or("()".to_owned(), |r| t.api(r));
        let self_param = std::iter::once("&self".to_owned())
            .chain(params)
            .collect::<Vec<_>>()
            .join(", ");
        o.line(format!(
            "fn {}({self_param}) -> Result<{ret}, pp::Error>;",
            ident(&f.name)
        ));
    }
    o.close("}");
}

/// The provider constructors and the thunks.
pub fn glue(o: &mut Out, t: &Types, contract: &Contract, shapes: &[(String, String)]) {
    let name = trait_name(contract);
    let n = contract.functions.len();
    o.blank();
    o.line(format!(
        "/// A stateless provider of `{contract}`: every call reaches `imp`."
    ));
    o.open(format!(
        "pub fn provider<T: {name}>(imp: T) -> pp::Provider {{"
    ));
    o.line("// SAFETY: the table holds this contract's functions in table order, each reading its");
    o.line("// instance as a `T`.");
    o.line("unsafe { pp::Provider::stateless(&CONTRACT, &thunks::table::<T>(), imp) }");
    o.close("}");
    o.blank();
    o.line(format!(
        "/// A stateful provider of `{contract}`: each instance a caller creates is a new `T` from"
    ));
    o.line("/// `factory`; calls without an instance reach a default one, made here.");
    o.open(format!(
        "pub fn stateful_provider<T: {name}>(factory: impl Fn() -> T + Send + Sync + 'static) -> pp::Provider {{"
    ));
    o.line("// SAFETY: as for `provider`.");
    o.line("unsafe { pp::Provider::stateful(&CONTRACT, &thunks::table::<T>(), factory) }");
    o.close("}");
    o.blank();
    o.line(
        "/// The `extern \"C\"` entries of the function table, generic over the implementation.",
    );
    o.open("mod thunks {");
    o.line("use super::*;");
    o.line("use ::core::ffi::c_void;");
    o.blank();
    o.line("/// The function table for implementation `T`, in the contract's order.");
    o.open(format!(
        "pub(super) fn table<T: {name}>() -> [pp::abi::ContractFn; {n}] {{"
    ));
    let entries: Vec<String> = contract
        .functions
        .iter()
        .map(|f| format!("{}::<T>", ident(&f.name)))
        .collect();
    o.line(format!("[{}]", entries.join(", ")));
    o.close("}");
    for (f, (args, ret)) in contract.functions.iter().zip(shapes) {
        thunk(o, t, &name, f, args, ret);
    }
    o.close("}");
}

fn thunk(o: &mut Out, t: &Types, trait_name: &str, f: &Function, args: &str, ret: &str) {
    let result_arena = f
        .result
        .as_ref()
        .is_some_and(|r| t.needs_arena(r, Side::Guest));
    o.blank();
    o.line(format!("/// `{}`.", f.wit_signature()));
    o.open(format!(
        "pub(super) unsafe extern \"C\" fn {}<T: {trait_name}>(",
        ident(&f.name)
    ));
    o.line("instance: *mut c_void,");
    o.line(format!(
        "{}: *const c_void,",
        if f.params.is_empty() { "_args" } else { "args" }
    ));
    o.line(format!(
        "{}: *mut c_void,",
        if f.result.is_none() { "_ret" } else { "ret" }
    ));
    o.line("ctx: *mut pp::abi::CallCtx,");
    o.close_open(") -> u32 {");
    o.line(
        "// SAFETY: the ABI's calling convention: `instance` is the `T` the provider registered or",
    );
    o.line("// one it created, `args` and `ret` point to this function's raw argument and result");
    o.line(
        "// structs, `ctx` is the caller's live context, and the views inside the arguments stay",
    );
    o.line("// valid for the call. Decoding validates everything else.");
    o.open("unsafe {");
    o.open(format!(
        "pp::rt::dispatch(ctx, |{}| {{",
        if result_arena { "call" } else { "_" }
    ));
    o.line("let imp = pp::rt::instance::<T>(instance)?;");
    if !f.params.is_empty() {
        o.line(format!("let raw_args: {args} = pp::rt::args(args)?;"));
    }
    let mut call_args = Vec::new();
    for p in &f.params {
        let local = format!("p_{}", ident(&p.name).trim_start_matches("r#"));
        let field = format!("raw_args.{}", ident(&p.name));
        // Decoding fails with a `Malformed`; the caller sees an invalid-argument `pp::Error`
        // naming the argument.
        let ctx = format!(
            ".map_err(|e| pp::Error::from(e).context(\"argument `{}`\"))?",
            p.name
        );
        let code = match &p.ty {
            Type::String => format!("pp::rt::str_view({field}){ctx}"),
            Type::Bytes => format!("pp::rt::bytes_view({field}){ctx}"),
            Type::List(e) if is_plain(e) => {
                format!("pp::rt::list_view::<{}>({field}){ctx}", t.api(e))
            }
            ty => {
                let e = t.lift(ty, &format!("&{field}"), Side::Guest);
                if e.fallible {
                    format!("{}{ctx}", e.code)
                } else {
                    e.code
                }
            }
        };
        o.line(format!("let {local} = {code};"));
        call_args.push(local);
    }
    let call = format!("imp.{}({})", ident(&f.name), call_args.join(", "));
    match &f.result {
        None => {
            o.line(format!("{call}?;"));
            o.line("Ok(())");
        }
        Some(r) => {
            o.line(format!("let value = {call}?;"));
            if result_arena {
                o.line("let arena = &mut call.arena()?;");
            }
            let e = t.lower(r, "&value", Side::Guest);
            o.line(format!("pp::rt::ret::<{ret}>(ret, {})", e.as_value()));
        }
    }
    o.close("})");
    o.close("}");
    o.close("}");
}
