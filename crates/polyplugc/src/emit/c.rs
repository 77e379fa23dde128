//! The C emitter: one C11 header per contract, `<stem>.h` (stem from
//! [`crate::names::file_stem`]), that also compiles as C++ (`extern "C"`). It includes
//! `<polyplug.h>` and holds, in this order:
//!
//! 1. **Identity**: `<PREFIX>_NAME`, `<PREFIX>_VERSION_MAJOR/MINOR/PATCH`, `<PREFIX>_FUNC_COUNT`
//!    and a `<PREFIX>_<FUNC>_INDEX` per function (the prefix is [`crate::names::c_prefix`],
//!    `test_shapes_geometry`; constants use it in upper case).
//! 2. **Types**, children before parents:
//!
//!    | WIT | C |
//!    |---|---|
//!    | `bool` | `bool` (one byte, 0 or 1; asserted) |
//!    | `s8`..`u64`, `f32`, `f64` | `int8_t`..`uint64_t`, `float`, `double` |
//!    | `char` | `uint32_t` (a Unicode scalar value) |
//!    | `string`, `list<u8>` | `pp_str`, `pp_bytes` |
//!    | `list<T>` | `<prefix>_list_<T>`: `{ const T *ptr; size_t len; }`, asserted layout-identical to `pp_list` |
//!    | `record r` | `<prefix>_r`: a struct of the fields in order |
//!    | `enum e` | `typedef uint32_t <prefix>_e` + `#define <PREFIX>_E_<CASE> UINT32_C(i)` |
//!    | `flags f` | `typedef uint32_t` (or `uint64_t`) `<prefix>_f` + `#define <PREFIX>_F_<FLAG> (UINT32_C(1) << i)` |
//!    | `option<T>` | `<prefix>_option_<T>`: `{ bool is_some; T value; }` |
//!    | `result<T, E>` | `<prefix>_result_<T>_<E>`: `{ bool is_err; union { T ok; E err; } payload; }` |
//!    | `tuple<T...>` | `<prefix>_tuple<n>_<T>...`: `{ T0 f0; T1 f1; ... }` |
//!
//!    Anonymous types are named by [`names::mangle`]'s rules.
//! 3. **Argument structs** `<prefix>_<func>_args` (none for a function without parameters), then
//!    **layout checks**: a `PP_STATIC_ASSERT` of the size and alignment of every generated type and
//!    the offset of every member, against the layouts [`CompiledContract`] computed, so a header
//!    that disagrees with the ABI fails to compile. The layouts depend on the pointer width of the
//!    machine that ran `polyplugc`; on a target with another width the pointer-dependent checks
//!    are skipped (regenerate there to check them); the `pp_list` identity of typed lists and
//!    the scalar sizes are checked everywhere.
//! 4. **The descriptor graph** as `static const` data, ending in `<prefix>_contract`.
//! 5. **Host caller** (all `static inline`, so a plugin that includes the header only to provide
//!    the contract references no libpolyplug symbol): `<prefix>_caller`, `<prefix>_caller_find`,
//!    `<prefix>_caller_bind`, and per function the guarded `<prefix>_<func>(caller, cx, params...,
//!    out)` and the opt-in cached `<prefix>_<func>_cached(...)`; for per-caller state,
//!    `<prefix>_instance` (`_instance_new`, `_instance_free`) and the guarded
//!    `<prefix>_<func>_on(inst, cx, params..., out)`.
//! 6. **Provider stubs**: the `<prefix>_<func>_impl` prototypes a plugin implements and the
//!    `<prefix>_register` prototype; under `#define <PREFIX>_IMPLEMENTATION` (in one C file, stb
//!    style) the thunks, the function table and `<prefix>_register` itself. With
//!    `<PREFIX>_STATEFUL` also defined, the plugin implements `<prefix>_create_instance_impl` and
//!    `<prefix>_destroy_instance_impl` and the provider is stateful. Compiled as C++, the thunks
//!    catch exceptions and report them as `PP_STATUS_PANIC` with the message.
//!
//! Member and parameter names are the WIT names in snake case; C and C++ keywords (and, for
//! parameters, the generated code's own names such as `out` or `caller`) get a trailing `_`.
//! Names generated for the header's own use end in `_`, which no contract name does. Every
//! file-scope name is recorded while the header is written; a contract whose names would
//! define one twice (a record `caller`, say) gets a header that stops at a `#error` naming the
//! clash instead of code that miscompiles.

mod caller;
mod desc;
mod names;
mod provider;
mod types;

use super::{GeneratedFile, Language};
use crate::names::{c_prefix, file_stem, upper_snake};
use names::Register;
use polyplug_contract::CompiledContract;
use std::fmt::Write as _;
use types::TypeTable;

/// C: a header per contract.
pub struct C;

impl Language for C {
    fn name(&self) -> &'static str {
        "c"
    }

    fn files(&self, contract: &CompiledContract) -> Vec<GeneratedFile> {
        vec![GeneratedFile {
            path: format!("{}.h", file_stem(&contract.contract().name)).into(),
            contents: header(contract),
        }]
    }
}

/// The header of one contract.
pub fn header(contract: &CompiledContract) -> String {
    Ctx::new(contract).header()
}

/// Text being written, with helpers for comments.
#[derive(Default)]
struct Out {
    text: String,
}

impl Out {
    /// A section banner.
    fn section(&mut self, title: &str) {
        self.comment(&format!("==== {title} ===="));
        self.text.push('\n');
    }

    /// A `/** ... */` comment over the next declaration.
    fn doc(&mut self, text: &str) {
        self.comment_with("/**", text);
    }

    /// A `/* ... */` comment.
    fn comment(&mut self, text: &str) {
        self.comment_with("/*", text);
    }

    /// A comment whose lines are wrapped at [`WIDTH`] columns (blank lines separate paragraphs,
    /// and the lines of a WIT definition stay as they are).
    fn comment_with(&mut self, open: &str, text: &str) {
        let text = text.replace("*/", "* /");
        let lines: Vec<String> = text.lines().flat_map(|l| wrap(l, WIDTH - 3)).collect();
        if let [line] = lines.as_slice() {
            if line.len() + open.len() + 4 <= WIDTH {
                let _ = writeln!(self.text, "{open} {line} */");
                return;
            }
        }
        let _ = writeln!(self.text, "{open}");
        for l in lines {
            if l.is_empty() {
                self.text.push_str(" *\n");
            } else {
                let _ = writeln!(self.text, " * {l}");
            }
        }
        self.text.push_str(" */\n");
    }
}

/// Comment width.
const WIDTH: usize = 100;

/// `line` broken at spaces into lines of at most `width` columns (a longer word stays whole),
/// keeping its leading indentation on each.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let indent = &line[..line.len() - line.trim_start().len()];
    let mut out = Vec::new();
    let mut cur = String::from(indent);
    for word in line.split_whitespace() {
        if cur.len() > indent.len() && cur.len() + 1 + word.len() > width {
            out.push(std::mem::replace(&mut cur, String::from(indent)));
        }
        if cur.len() > indent.len() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    out.push(if cur.trim().is_empty() {
        String::new()
    } else {
        cur
    });
    out
}

/// What the parts of the emitter share while writing one header.
struct Ctx<'a> {
    compiled: &'a CompiledContract,
    /// `test_shapes_geometry`.
    prefix: String,
    /// `TEST_SHAPES_GEOMETRY`.
    upper: String,
    /// `<PREFIX>_ALIGNOF_`.
    align_macro: String,
    types: TypeTable,
    reg: Register,
    /// Size, alignment and offset asserts that depend on the pointer width.
    layout_checks: Vec<String>,
    /// Asserts that hold on every target.
    portable_checks: Vec<String>,
}

impl<'a> Ctx<'a> {
    fn new(compiled: &'a CompiledContract) -> Ctx<'a> {
        let prefix = c_prefix(&compiled.contract().name);
        let upper = prefix.to_ascii_uppercase();
        Ctx {
            compiled,
            align_macro: format!("{upper}_ALIGNOF_"),
            prefix,
            upper,
            types: TypeTable::new(compiled),
            reg: Register::default(),
            layout_checks: Vec::new(),
            portable_checks: Vec::new(),
        }
    }

    fn header(mut self) -> String {
        let contract = self.compiled.contract();
        let up = self.upper.clone();
        let guard = self.reg.define(format!("{up}_H"), "the include guard");

        let mut body = Out::default();
        self.emit_identity(&mut body);
        self.emit_types(&mut body);
        self.emit_args(&mut body);
        self.emit_checks(&mut body);
        self.emit_descriptors(&mut body);
        self.emit_caller(&mut body);
        self.emit_provider_decls(&mut body);
        let mut implementation = Out::default();
        self.emit_provider_impl(&mut implementation);

        let p = &self.prefix;
        let mut banner = Out::default();
        banner.comment(&format!(
            "{file}: C and C++ bindings of the polyplug contract {contract}.\n\n\
             Generated by polyplugc. Do not edit: regenerate with \
             `polyplugc --lang c --out <dir> <contract.wit>`.\n\n\
             Hosts: {p}_caller_find(rt, &caller), then {p}_<function>(&caller, cx, args..., \
             &result), the guarded call (safe while other threads reload or unload the provider), \
             or {p}_<function>_cached(...) (the host quiesces its callers before an unload or \
             reload). Per-caller state: {p}_instance_new() and {p}_<function>_on(). Results are \
             views into cx's arena, valid until the next call on cx.\n\n\
             Providers: implement every {p}_<function>_impl, call {p}_register() from \
             pp_plugin_init, and define {up}_IMPLEMENTATION in exactly one C file before \
             including this header.\n\n\
             C11 or C++11 and later; warning-free with -Wall -Wextra -pedantic.",
            file = format_args!("{}.h", file_stem(&contract.name)),
        ));
        let mut out = banner.text;
        let _ = write!(
            out,
            "#ifndef {guard}\n#define {guard}\n\n#include <polyplug.h>\n#include <string.h>\n\n"
        );
        for (name, whats) in self.reg.clashes() {
            let _ = writeln!(
                out,
                "#error \"polyplugc: the contract defines `{name}` more than once ({}); rename one \
                 of them in the WIT\"",
                whats.join(", ").replace('"', "'")
            );
        }
        let _ = write!(
            out,
            "#ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n{}#ifdef __cplusplus\n}}  /* extern \"C\" */\n#endif\n\n\
             #endif /* {guard} */\n\n{}\n",
            body.text, implementation.text
        );
        out
    }

    fn emit_identity(&mut self, out: &mut Out) {
        let contract = self.compiled.contract();
        let up = self.upper.clone();
        out.section("Identity");
        let mut define = |name: String, value: String, what: &str| {
            let name = self.reg.define(name, what);
            let _ = writeln!(out.text, "#define {name} {value}");
        };
        define(
            format!("{up}_NAME"),
            desc::c_string(&contract.name),
            "the name macro",
        );
        let v = contract.version;
        for (part, n) in [("MAJOR", v.major), ("MINOR", v.minor), ("PATCH", v.patch)] {
            define(
                format!("{up}_VERSION_{part}"),
                format!("{n}u"),
                "a version macro",
            );
        }
        define(
            format!("{up}_FUNC_COUNT"),
            format!("{}u", contract.functions.len()),
            "the function count",
        );
        for (i, f) in contract.functions.iter().enumerate() {
            define(
                format!("{up}_{}_INDEX", upper_snake(&f.name)),
                format!("{i}u"),
                &format!("the index of `{}`", f.name),
            );
        }
        out.text.push('\n');
    }

    fn emit_checks(&mut self, out: &mut Out) {
        let m = self.align_macro.clone();
        self.reg.define(&m, "the alignment macro");
        out.section(&format!(
            "Layout checks: these types against the layouts polyplugc computed (pointer width {} \
             bits)",
            usize::BITS
        ));
        let _ = writeln!(
            out.text,
            "#ifdef __cplusplus\n#define {m}(T) alignof(T)\n#else\n#define {m}(T) _Alignof(T)\n#endif"
        );
        for line in self.scalar_checks().iter().chain(&self.portable_checks) {
            let _ = writeln!(out.text, "{line}");
        }
        let max = format!("{:#x}u", usize::MAX);
        let _ = writeln!(out.text, "#if UINTPTR_MAX == {max}");
        for line in self.view_checks().iter().chain(&self.layout_checks) {
            let _ = writeln!(out.text, "{line}");
        }
        let _ = writeln!(
            out.text,
            "#endif /* other pointer widths: regenerate on such a target to check these */\n\
             #undef {m}\n"
        );
    }
}

#[cfg(test)]
mod tests;
