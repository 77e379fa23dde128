//! The host side: a typed caller that finds a provider, caches its interface, re-validates it by
//! the slot's revision word, and calls each function through a guarded section (or, opted in,
//! without one).

use super::names::param;
use super::{Ctx, Out};
use crate::names::{snake, upper_snake};
use polyplug_contract::Function;
use std::fmt::Write as _;

impl Ctx<'_> {
    /// The typed parameter list of a function after the fixed leading ones: `T a, U b`, then
    /// `R *out` when it has a result.
    pub(super) fn typed_params(&self, f: &Function, out: &str) -> Vec<String> {
        let mut ps: Vec<String> = f
            .params
            .iter()
            .map(|p| format!("{} {}", self.c_type(&p.ty), param(&p.name)))
            .collect();
        if let Some(r) = &f.result {
            ps.push(format!("{} *{out}", self.c_type(r)));
        }
        ps
    }

    /// The caller struct, its find/bind/refresh functions, and two callers per function.
    pub fn emit_caller(&mut self, out: &mut Out) {
        let p = self.prefix.clone();
        out.section(
            "Host side: the typed caller (static inline: a plugin that includes this header only \
             for the provider side references no libpolyplug symbol)",
        );
        let caller = self.reg.define(format!("{p}_caller"), "the caller type");
        out.doc(&format!(
            "A provider of {name}, resolved once and re-validated on every call by one acquire \
             load of its slot's revision word. Fill it with {p}_caller_find() (the \
             highest-priority provider) or {p}_caller_bind() (a handle from pp_find_all). When the \
             provider's bundle is reloaded the next call resolves the new interface by itself; \
             once it is unloaded every call returns PP_STATUS_STALE_HANDLE. One caller may be \
             used by one thread at a time (copy it for other threads).",
            name = self.compiled.contract().name,
        ));
        let _ = writeln!(
            out.text,
            "typedef struct {caller} {{\n    const pp_runtime *rt;\n    pp_handle handle;\n    \
             const pp_interface *iface;\n    const uint32_t *revision;\n    uint32_t seen;\n}} {caller};\n"
        );
        self.emit_contract_check(out);
        self.emit_resolution(out);
        self.emit_instance(out);
        let compiled = self.compiled;
        for f in &compiled.contract().functions {
            for path in [CallPath::Guarded, CallPath::Cached, CallPath::Instance] {
                self.emit_call(out, f, path);
            }
        }
    }

    /// `<prefix>_same_type_` and `<prefix>_caller_check_`: whether a resolved interface really
    /// implements this header's contract (every function, in order, with the same parameter
    /// and result structure). Done when a caller binds or re-resolves, never per call.
    fn emit_contract_check(&mut self, out: &mut Out) {
        let p = self.prefix.clone();
        let up = self.upper.clone();
        let n = self.compiled.contract().functions.len();
        let same = self
            .reg
            .define(format!("{p}_same_type_"), "the type comparison");
        let check = self
            .reg
            .define(format!("{p}_caller_check_"), "the contract check");
        out.comment(
            "Whether two type descriptors have the same structure (kinds, member counts and member \
             types; names may differ).",
        );
        let _ = writeln!(
            out.text,
            "static inline int {same}(const pp_type_desc *a, const pp_type_desc *b, uint32_t depth) {{\n    \
                 uint32_t i;\n    \
                 if (a == b) return 1;\n    \
                 if (a == NULL || b == NULL || depth > 32u) return 0;\n    \
                 if (a->kind != b->kind || a->field_count != b->field_count) return 0;\n    \
                 if (a->field_count != 0u && (a->fields == NULL || b->fields == NULL)) return 0;\n    \
                 for (i = 0; i < a->field_count; i++) {{\n        \
                     if (!{same}(a->fields[i].ty, b->fields[i].ty, depth + 1u)) return 0;\n    \
                 }}\n    \
                 return {same}(a->elem, b->elem, depth + 1u) && {same}(a->err, b->err, depth + 1u);\n\
             }}\n"
        );
        out.comment(
            "PP_STATUS_OK when `iface` implements this header's contract: its functions, in order, \
             with the same names, parameters and results (a newer minor may append more).",
        );
        let o = &mut out.text;
        let _ = writeln!(
            o,
            "static inline uint32_t {check}(const pp_interface *iface) {{"
        );
        if n == 0 {
            let _ = writeln!(
                o,
                "    return iface != NULL && iface->contract != NULL ? PP_STATUS_OK : PP_STATUS_CONTRACT_MISMATCH;\n}}\n"
            );
            return;
        }
        let _ = writeln!(
            o,
            "    const pp_contract_desc *c;\n    uint32_t i, j;\n    \
             if (iface == NULL || iface->contract == NULL || iface->funcs == NULL) return PP_STATUS_CONTRACT_MISMATCH;\n    \
             c = iface->contract;\n    \
             if (iface->func_count < {up}_FUNC_COUNT || c->func_count < {up}_FUNC_COUNT || c->funcs == NULL) return PP_STATUS_CONTRACT_MISMATCH;\n    \
             for (i = 0; i < {up}_FUNC_COUNT; i++) {{\n        \
                 const pp_func_desc *have = &c->funcs[i], *want = &{p}_funcs_[i];\n        \
                 if (have->name.len != want->name.len || have->name.ptr == NULL ||\n            \
                     memcmp(have->name.ptr, want->name.ptr, want->name.len) != 0 ||\n            \
                     have->param_count != want->param_count ||\n            \
                     (have->param_count != 0u && have->params == NULL) ||\n            \
                     !{same}(have->result, want->result, 0u)) {{\n            \
                     return PP_STATUS_CONTRACT_MISMATCH;\n        \
                 }}\n        \
                 for (j = 0; j < want->param_count; j++) {{\n            \
                     if (!{same}(have->params[j].ty, want->params[j].ty, 0u)) return PP_STATUS_CONTRACT_MISMATCH;\n        \
                 }}\n    \
             }}\n    \
             return PP_STATUS_OK;\n\
             }}\n"
        );
    }

    fn emit_resolution(&mut self, out: &mut Out) {
        let p = self.prefix.clone();
        let up = self.upper.clone();
        let caller = format!("{p}_caller");
        let refresh = self
            .reg
            .define(format!("{p}_caller_refresh_"), "the re-resolution");
        let current = self
            .reg
            .define(format!("{p}_caller_current_"), "the revision check");
        let bind = self
            .reg
            .define(format!("{p}_caller_bind"), "the bind function");
        let find = self
            .reg
            .define(format!("{p}_caller_find"), "the find function");
        let check = format!("{p}_caller_check_");
        out.comment(
            "Resolves the caller's handle again. The revision word is read first: if the interface \
             changes after that load, the word changes too and the next call resolves again, never \
             the reverse.",
        );
        let _ = writeln!(
            out.text,
            "static inline uint32_t {refresh}({caller} *caller) {{\n    \
                 const pp_interface *iface = NULL;\n    \
                 uint32_t seen, st;\n    \
                 if (caller->revision == NULL) return PP_STATUS_NOT_FOUND;\n    \
                 seen = pp_revision_load(caller->revision);\n    \
                 st = pp_resolve(caller->rt, &caller->handle, &iface, NULL);\n    \
                 if (st == PP_STATUS_OK) st = {check}(iface);\n    \
                 if (st != PP_STATUS_OK) {{\n        \
                     caller->iface = NULL;\n        \
                     return st;\n    \
                 }}\n    \
                 caller->iface = iface;\n    \
                 caller->seen = seen;\n    \
                 return PP_STATUS_OK;\n\
             }}\n"
        );
        out.comment(
            "PP_STATUS_OK when the cached interface is still the slot's occupant (one acquire load \
             and a compare), else the status of resolving it again.",
        );
        let _ = writeln!(
            out.text,
            "static inline uint32_t {current}({caller} *caller) {{\n    \
                 if (caller->iface != NULL && pp_revision_load(caller->revision) == caller->seen) return PP_STATUS_OK;\n    \
                 return {refresh}(caller);\n\
             }}\n"
        );
        out.doc(
            "Binds `caller` to the provider `handle` names (e.g. one of pp_find_all's), after \
             checking that it implements this header's contract (else \
             PP_STATUS_CONTRACT_MISMATCH). `*caller` is written only on success.",
        );
        let _ = writeln!(
            out.text,
            "static inline uint32_t {bind}(const pp_runtime *rt, const pp_handle *handle, {caller} *caller) {{\n    \
                 {caller} c;\n    \
                 const pp_interface *iface = NULL;\n    \
                 uint32_t st;\n    \
                 if (rt == NULL || handle == NULL || caller == NULL) return PP_STATUS_NULL_POINTER;\n    \
                 c.rt = rt;\n    \
                 c.handle = *handle;\n    \
                 c.iface = NULL;\n    \
                 c.revision = NULL;\n    \
                 c.seen = 0;\n    \
                 st = pp_resolve(rt, handle, &iface, &c.revision);\n    \
                 if (st == PP_STATUS_OK) st = {refresh}(&c);\n    \
                 if (st == PP_STATUS_OK) *caller = c;\n    \
                 return st;\n\
             }}\n"
        );
        let contract = self.compiled.contract();
        out.doc(&format!(
            "Finds the highest-priority provider of {name} whose version satisfies this header's \
             ({version}) and binds `caller` to it (see {bind}). PP_STATUS_NOT_FOUND when there is \
             none; `*caller` is written only on success.",
            name = contract.name,
            version = contract.version,
        ));
        let _ = writeln!(
            out.text,
            "static inline uint32_t {find}(const pp_runtime *rt, {caller} *caller) {{\n    \
                 pp_version min = {{{up}_VERSION_MAJOR, {up}_VERSION_MINOR, {up}_VERSION_PATCH}};\n    \
                 pp_handle handle;\n    \
                 uint32_t st;\n    \
                 if (rt == NULL || caller == NULL) return PP_STATUS_NULL_POINTER;\n    \
                 st = pp_find(rt, {up}_NAME, &min, &handle);\n    \
                 if (st != PP_STATUS_OK) return st;\n    \
                 return {bind}(rt, &handle, caller);\n\
             }}\n"
        );
    }

    /// `<prefix>_instance` with its constructor and destructor.
    fn emit_instance(&mut self, out: &mut Out) {
        let p = self.prefix.clone();
        let caller = format!("{p}_caller");
        let inst = self
            .reg
            .define(format!("{p}_instance"), "the instance type");
        let new = self
            .reg
            .define(format!("{p}_instance_new"), "the instance constructor");
        let free = self
            .reg
            .define(format!("{p}_instance_free"), "the instance destructor");
        out.doc(&format!(
            "One instance of the provider: per-caller state of a stateful provider (made by its \
             create_instance), or the provider itself for a stateless one. Make it with {new}(), \
             call it with the {p}_<function>_on() functions (guarded), release it with {free}(). \
             An instance belongs to the code that made it: after its bundle is reloaded or \
             unloaded, calls on it return PP_STATUS_STALE_HANDLE (make a new one) and {free}() \
             abandons it (that code is gone)."
        ));
        let _ = writeln!(
            out.text,
            "typedef struct {inst} {{\n    {caller} caller;\n    void *instance;\n    bool owned;\n}} {inst};\n"
        );
        out.doc(
            "Makes an instance of the provider `caller` is bound to, in a guarded section. `*out` \
             is written only on success; the provider's message on failure is in \
             pp_context_error(cx).",
        );
        let _ = writeln!(
            out.text,
            "static inline uint32_t {new}({caller} *caller, pp_context *cx, {inst} *out) {{\n    \
                 void *instance = NULL;\n    \
                 uint32_t st;\n    \
                 if (caller == NULL || cx == NULL || out == NULL) return PP_STATUS_NULL_POINTER;\n    \
                 pp_guard_enter();\n    \
                 st = {p}_caller_current_(caller);\n    \
                 if (st == PP_STATUS_OK && caller->iface->create_instance != NULL) {{\n        \
                     st = caller->iface->create_instance(caller->iface->provider, &instance, pp_context_begin(cx));\n        \
                     if (st == PP_STATUS_OK && instance == NULL) st = PP_STATUS_NULL_POINTER;\n    \
                 }}\n    \
                 if (st == PP_STATUS_OK) {{\n        \
                     out->caller = *caller;\n        \
                     out->owned = instance != NULL;\n        \
                     out->instance = out->owned ? instance : caller->iface->provider;\n    \
                 }}\n    \
                 pp_guard_exit();\n    \
                 return st;\n\
             }}\n"
        );
        out.doc(
            "Destroys an instance (unless the code that made it is gone) and clears it; NULL and \
             cleared instances are ignored.",
        );
        let _ = writeln!(
            out.text,
            "static inline void {free}({inst} *inst) {{\n    \
                 const pp_interface *iface;\n    \
                 if (inst == NULL || inst->caller.iface == NULL) return;\n    \
                 iface = inst->caller.iface;\n    \
                 if (inst->owned) {{\n        \
                     pp_guard_enter();\n        \
                     if (pp_revision_load(inst->caller.revision) == inst->caller.seen && iface->destroy_instance != NULL) {{\n            \
                         iface->destroy_instance(iface->provider, inst->instance);\n        \
                     }}\n        \
                     pp_guard_exit();\n    \
                 }}\n    \
                 inst->caller.iface = NULL;\n    \
                 inst->instance = NULL;\n    \
                 inst->owned = false;\n\
             }}\n"
        );
    }

    /// `<prefix>_<func>` (guarded), `<prefix>_<func>_cached` or `<prefix>_<func>_on`.
    fn emit_call(&mut self, out: &mut Out, f: &Function, path: CallPath) {
        let p = self.prefix.clone();
        let func = snake(&f.name);
        let (suffix, what, first) = match path {
            CallPath::Guarded => ("", "guarded caller", format!("{p}_caller *caller")),
            CallPath::Cached => ("_cached", "cached caller", format!("{p}_caller *caller")),
            CallPath::Instance => ("_on", "instance caller", format!("{p}_instance *inst")),
        };
        let name = self.reg.define(
            format!("{p}_{func}{suffix}"),
            format!("the {what} of `{}`", f.name),
        );
        let index = format!("{}_{}_INDEX", self.upper, upper_snake(&f.name));
        let mut params = vec![first, "pp_context *cx".to_owned()];
        params.extend(self.typed_params(f, "out"));
        let sig = f.wit_signature();
        out.doc(&match path {
            CallPath::Guarded => format!(
                "{sig}\n\nThe guarded call: safe while other threads reload or unload the \
                 provider's bundle (the call runs the old or the new code, or returns \
                 PP_STATUS_STALE_HANDLE once it is gone). Resets `cx`'s arena first; strings and \
                 lists in the result live in it until the next call on `cx`. On failure the \
                 provider's message is in pp_context_error(cx) and the result is unspecified."
            ),
            CallPath::Cached => format!(
                "{sig}\n\nThe cached call, without a guarded section: only the revision check. \
                 Opt in only when the host quiesces every thread calling through this caller \
                 before it unloads or reloads the provider's bundle; otherwise use {p}_{func}(). \
                 Results and errors as there."
            ),
            CallPath::Instance => format!(
                "{sig}\n\nThe guarded call on one instance (see {p}_instance): \
                 PP_STATUS_STALE_HANDLE once the code that made the instance was reloaded or \
                 unloaded. Results and errors as for {p}_{func}()."
            ),
        });
        let o = &mut out.text;
        let _ = writeln!(o, "static inline uint32_t {name}({}) {{", params.join(", "));
        let args = if f.params.is_empty() {
            "NULL".to_owned()
        } else {
            let _ = writeln!(o, "    {} args;", self.args_struct(&f.name));
            "&args".to_owned()
        };
        let _ = writeln!(o, "    uint32_t st;");
        let out_null = if f.result.is_some() {
            " || out == NULL"
        } else {
            ""
        };
        let first = if path == CallPath::Instance {
            "inst"
        } else {
            "caller"
        };
        let _ = writeln!(
            o,
            "    if ({first} == NULL || cx == NULL{out_null}) return PP_STATUS_NULL_POINTER;"
        );
        for prm in &f.params {
            let n = param(&prm.name);
            let _ = writeln!(o, "    args.{n} = {n};");
        }
        let ret = if f.result.is_some() { "out" } else { "NULL" };
        let call = |iface: &str, instance: &str| {
            format!("{iface}->funcs[{index}]({instance}, {args}, {ret}, pp_context_begin(cx))")
        };
        let _ = match path {
            CallPath::Guarded => writeln!(
                o,
                "    pp_guard_enter();\n    \
                 st = {p}_caller_current_(caller);\n    \
                 if (st == PP_STATUS_OK) st = {};\n    \
                 pp_guard_exit();\n    \
                 return st;\n}}\n",
                call("caller->iface", "caller->iface->provider")
            ),
            CallPath::Cached => writeln!(
                o,
                "    st = {p}_caller_current_(caller);\n    \
                 if (st != PP_STATUS_OK) return st;\n    \
                 return {};\n}}\n",
                call("caller->iface", "caller->iface->provider")
            ),
            CallPath::Instance => writeln!(
                o,
                "    pp_guard_enter();\n    \
                 if (inst->caller.iface != NULL && pp_revision_load(inst->caller.revision) == inst->caller.seen) {{\n        \
                     st = {};\n    \
                 }} else {{\n        \
                     st = PP_STATUS_STALE_HANDLE;\n    \
                 }}\n    \
                 pp_guard_exit();\n    \
                 return st;\n}}\n",
                call("inst->caller.iface", "inst->instance")
            ),
        };
    }
}

/// The three ways a generated caller calls a function.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CallPath {
    /// Re-validate and call inside a guarded section: the default.
    Guarded,
    /// Re-validate and call, without a section: the host quiesces before unload/reload.
    Cached,
    /// Call one instance inside a guarded section; stale once its code is gone.
    Instance,
}
