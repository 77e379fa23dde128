//! The provider side: the `_impl` functions a plugin writes, and (under
//! `<PREFIX>_IMPLEMENTATION`, in exactly one translation unit) the raw `pp_contract_fn` thunks
//! that unpack the argument struct and call them, the function table and `<prefix>_register`.

use super::names::param;
use super::{Ctx, Out};
use crate::names::snake;
use polyplug_contract::Function;
use std::fmt::Write as _;

impl Ctx<'_> {
    /// `<prefix>_<func>_impl`.
    fn impl_fn(&self, f: &Function) -> String {
        format!("{}_{}_impl", self.prefix, snake(&f.name))
    }

    /// The declarations every includer sees: what a provider implements, and register.
    pub fn emit_provider_decls(&mut self, out: &mut Out) {
        let p = self.prefix.clone();
        let up = self.upper.clone();
        out.section(&format!(
            "Provider side: implement every function below, and in exactly one C file write \
             `#define {up}_IMPLEMENTATION` before including this header; it then defines \
             {p}_register()"
        ));
        let compiled = self.compiled;
        for f in &compiled.contract().functions {
            let name = self.reg.define(
                self.impl_fn(f),
                format!("the implementation of `{}`", f.name),
            );
            let mut params = vec!["void *instance".to_owned()];
            params.extend(self.typed_params(f, "out"));
            params.push("pp_call_ctx *ctx".to_owned());
            let result = if f.result.is_some() {
                " Write the result to `*out`; allocate strings and lists it points to from \
                 ctx->arena (pp_arena_alloc) or use static memory."
            } else {
                ""
            };
            out.doc(&format!(
                "{}\n\nProvided by the plugin. `instance` is the `provider` pointer given to \
                 {p}_register().{result} Return PP_STATUS_OK, or a status with a message \
                 (pp_set_error(ctx->host, ctx, ...)). Arguments are views valid for the call only.",
                f.wit_signature()
            ));
            let _ = writeln!(out.text, "uint32_t {name}({});\n", params.join(", "));
        }
        let create = self
            .reg
            .define(format!("{p}_create_instance_impl"), "the instance factory");
        let destroy = self.reg.define(
            format!("{p}_destroy_instance_impl"),
            "the instance destructor",
        );
        self.reg
            .define(format!("{up}_STATEFUL"), "the stateful-provider switch");
        out.doc(&format!(
            "Optional, for a stateful provider: define {up}_STATEFUL beside {up}_IMPLEMENTATION \
             and implement these two. {create}() makes per-caller state (hosts call it through \
             {p}_instance_new) and writes it to `*out`; the _impl functions then receive it as \
             `instance`. {destroy}() releases one; it is never called with the provider itself, \
             which calls without an instance receive."
        ));
        let _ = writeln!(
            out.text,
            "uint32_t {create}(void *provider, void **out, pp_call_ctx *ctx);\n\
             void {destroy}(void *provider, void *instance);\n"
        );
        let register = self
            .reg
            .define(format!("{p}_register"), "the register function");
        out.doc(&format!(
            "Registers this plugin's provider of {} (defined under {up}_IMPLEMENTATION): call it \
             from pp_plugin_init with its `host` and `reg`. `provider` is passed to every _impl \
             function as `instance`; it must stay valid until the bundle is unloaded.",
            compiled.contract().name
        ));
        let _ = writeln!(
            out.text,
            "uint32_t {register}(const pp_host_api *host, pp_registrar *reg, void *provider);\n"
        );
    }

    /// The definitions, for the one translation unit that defines `<PREFIX>_IMPLEMENTATION`.
    pub fn emit_provider_impl(&mut self, out: &mut Out) {
        let p = self.prefix.clone();
        let up = self.upper.clone();
        let imp = self
            .reg
            .define(format!("{up}_IMPLEMENTATION"), "the implementation switch");
        let done = self.reg.define(
            format!("{up}_IMPLEMENTATION_DONE_"),
            "the implementation guard",
        );
        let catches = self
            .reg
            .define(format!("{up}_CATCHES_"), "the exception switch");
        let caught = self
            .reg
            .define(format!("{p}_caught_"), "the exception reporter");
        out.section(&format!(
            "Provider implementation ({imp}): thunks, function table, register"
        ));
        let o = &mut out.text;
        let _ = writeln!(
            o,
            "#if defined({imp}) && !defined({done})\n\
             #define {done}\n\n\
             /* C++ exceptions never cross the boundary: a thunk catches them and reports \
             PP_STATUS_PANIC with the message. */\n\
             #if defined(__cplusplus) && (defined(__cpp_exceptions) || defined(__EXCEPTIONS))\n\
             #define {catches} 1\n\
             #include <exception>\n\
             #else\n\
             #define {catches} 0\n\
             #endif\n\n\
             #ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n\
             #if {catches}\n\
             static inline uint32_t {caught}(pp_call_ctx *ctx, const char *what) {{\n    \
                 if (ctx != NULL && what != NULL) pp_set_error(ctx->host, ctx, what, strlen(what));\n    \
                 return PP_STATUS_PANIC;\n\
             }}\n\
             #endif\n"
        );
        let compiled = self.compiled;
        let mut thunks = Vec::new();
        for f in &compiled.contract().functions {
            thunks.push(self.emit_thunk(out, f, &catches, &caught));
        }
        let stateful = format!("{up}_STATEFUL");
        let create_thunk = self.reg.define(
            format!("{p}_create_instance_thunk_"),
            "the instance factory thunk",
        );
        let destroy_thunk = self.reg.define(
            format!("{p}_destroy_instance_thunk_"),
            "the instance destructor thunk",
        );
        let o = &mut out.text;
        let _ = writeln!(
            o,
            "#ifdef {stateful}\n\
             static uint32_t {create_thunk}(void *provider, void **out, pp_call_ctx *ctx) {{\n    \
                 if (out == NULL) return PP_STATUS_NULL_POINTER;\n\
             #if {catches}\n    \
                 try {{\n        \
                     return {p}_create_instance_impl(provider, out, ctx);\n    \
                 }} catch (const std::exception &e) {{\n        \
                     return {caught}(ctx, e.what());\n    \
                 }} catch (...) {{\n        \
                     return {caught}(ctx, \"a C++ exception of unknown type\");\n    \
                 }}\n\
             #else\n    \
                 return {p}_create_instance_impl(provider, out, ctx);\n\
             #endif\n\
             }}\n\n\
             static void {destroy_thunk}(void *provider, void *instance) {{\n    \
                 /* The provider itself is the instance of calls without one: never destroyed. */\n    \
                 if (instance == NULL || instance == provider) return;\n\
             #if {catches}\n    \
                 try {{\n        \
                     {p}_destroy_instance_impl(provider, instance);\n    \
                 }} catch (...) {{\n        \
                     /* Nothing to report to: the instance is gone either way. */\n    \
                 }}\n\
             #else\n    \
                 {p}_destroy_instance_impl(provider, instance);\n\
             #endif\n\
             }}\n\
             #endif /* {stateful} */\n"
        );
        let fns = if thunks.is_empty() {
            "NULL".to_owned()
        } else {
            let fns = self.reg.define(format!("{p}_fns_"), "the function table");
            // Not const: the ABI spells the table as a mutable array of function pointers.
            let _ = writeln!(
                o,
                "static pp_contract_fn {fns}[] = {{\n    {},\n}};\n",
                thunks.join(",\n    ")
            );
            fns
        };
        let _ = writeln!(
            o,
            "uint32_t {p}_register(const pp_host_api *host, pp_registrar *reg, void *provider) {{\n    \
                 pp_interface iface;\n    \
                 if (host == NULL || host->register_provider == NULL) return PP_STATUS_NULL_POINTER;\n    \
                 memset(&iface, 0, sizeof iface);\n    \
                 iface.struct_size = (uint32_t)sizeof iface;\n    \
                 iface.func_count = {up}_FUNC_COUNT;\n    \
                 iface.contract = &{p}_contract;\n    \
                 iface.funcs = {fns};\n    \
                 iface.provider = provider;\n\
             #ifdef {stateful}\n    \
                 iface.create_instance = {create_thunk};\n    \
                 iface.destroy_instance = {destroy_thunk};\n\
             #endif\n    \
                 /* The runtime copies the interface and the table. */\n    \
                 return host->register_provider(host, reg, &iface);\n\
             }}\n\n\
             #ifdef __cplusplus\n}}  /* extern \"C\" */\n#endif\n\n\
             #endif /* {imp} */"
        );
    }

    /// One `pp_contract_fn`; returns its name.
    fn emit_thunk(&mut self, out: &mut Out, f: &Function, catches: &str, caught: &str) -> String {
        let p = self.prefix.clone();
        let name = self.reg.define(
            format!("{p}_{}_thunk_", snake(&f.name)),
            format!("the thunk of `{}`", f.name),
        );
        let o = &mut out.text;
        let _ = writeln!(
            o,
            "static uint32_t {name}(void *instance, const void *args, void *ret, pp_call_ctx *ctx) {{"
        );
        let mut call_args = vec!["instance".to_owned()];
        if f.params.is_empty() {
            let _ = writeln!(o, "    (void)args;");
        } else {
            let args = self.args_struct(&f.name);
            let _ = writeln!(o, "    const {args} *a = (const {args} *)args;");
            call_args.extend(f.params.iter().map(|p| format!("a->{}", param(&p.name))));
        }
        let mut null = Vec::new();
        if !f.params.is_empty() {
            null.push("a == NULL");
        }
        match &f.result {
            Some(r) => {
                call_args.push(format!("({} *)ret", self.c_type(r)));
                null.push("ret == NULL");
            }
            None => {
                let _ = writeln!(o, "    (void)ret;");
            }
        }
        call_args.push("ctx".to_owned());
        if !null.is_empty() {
            let _ = writeln!(
                o,
                "    if ({}) return PP_STATUS_NULL_POINTER;",
                null.join(" || ")
            );
        }
        let call = format!("{}({})", self.impl_fn(f), call_args.join(", "));
        let _ = writeln!(
            o,
            "#if {catches}\n    \
                 try {{\n        \
                     return {call};\n    \
                 }} catch (const std::exception &e) {{\n        \
                     return {caught}(ctx, e.what());\n    \
                 }} catch (...) {{\n        \
                     return {caught}(ctx, \"a C++ exception of unknown type\");\n    \
                 }}\n\
             #else\n    \
                 return {call};\n\
             #endif\n\
             }}\n"
        );
        name
    }
}
