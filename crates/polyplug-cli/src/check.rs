//! `polyplug check <bundle-dir>`: does a bundle's manifest, WIT and library agree?
//!
//! 1. `bundle.toml` must parse and be valid (if it does not, nothing else can be checked).
//! 2. The bundle's WIT is found and parsed by the loader kit's [`Wit::read`], which collects
//!    every problem. Where the WIT is: the top-level `wit` key of `bundle.toml` (a path or a list
//!    of paths relative to the bundle directory), else the bundle's `wit/` directory; the rules
//!    are in `polyplug_loader::wit` and docs/BUNDLE.md. No WIT is a problem.
//! 3. Every contract in `provides` must be an interface of that WIT, with the same version
//!    ([`Wit::check_provides`]).
//! 4. The library is loaded into a fresh runtime (which also checks that it registers exactly
//!    what `provides` declares), and every contract it registers is compared with the WIT:
//!    the same functions in the same table order, the same signatures and type definitions, and
//!    so the same C layouts of arguments and results.
//!
//! Every problem found is printed, one `polyplug: error: ...` line each, and the exit status is
//! non-zero if there is any. A bundle that passes prints what was checked on stdout.

use crate::load::{explain, runtime, Loaded, Setup};
use crate::{error_line, one_line, CliResult};
use polyplug::Manifest;
use polyplug_contract::{CompiledContract, Contract, Function, Layout, Type};
use polyplug_loader::wit::Wit;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

/// Problems found so far.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }
}

pub(crate) fn run(dir: &Path, setup: &Setup) -> CliResult<ExitCode> {
    let manifest = Manifest::read(dir)?;
    let mut problems = Problems::default();
    let mut report = vec![format!(
        "bundle.toml: {} {} (loader {}, library {})",
        manifest.name,
        manifest.version,
        manifest.loader,
        manifest.entry.display()
    )];

    let (wit, wit_problems) = Wit::read(&manifest);
    for p in wit_problems {
        problems.add(p.to_string());
    }
    if let Some(wit) = &wit {
        let names: Vec<String> = wit
            .sources
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        report.push(format!("wit: {}", names.join(", ")));
    }
    // Without any WIT, every contract of `provides` is reported as not defined.
    let wit = wit.unwrap_or_default();
    for p in wit.check_provides(&manifest) {
        problems.add(p.to_string());
    }

    let rt = runtime(setup)?;
    match rt.load_bundle(dir) {
        Err(e) => problems.add(format!("the bundle does not load: {}", explain(e))),
        Ok(id) => {
            let bundle = rt
                .bundles()
                .into_iter()
                .find(|b| b.id == id)
                .ok_or("the bundle vanished right after it was loaded")?;
            let loaded = Loaded { rt, bundle };
            for (_, info) in loaded.providers()? {
                let lib = info.model.contract();
                let Some(w) = wit.contracts.get(&lib.name) else {
                    // Reported above: every registered contract is in `provides`.
                    continue;
                };
                let before = problems.0.len();
                compare(&info.model, w, &mut problems);
                if problems.0.len() == before {
                    report.push(format!(
                        "{lib}: the library's {} functions match the WIT",
                        lib.functions.len()
                    ));
                }
            }
        }
    }

    if problems.0.is_empty() {
        for line in report {
            println!("{line}");
        }
        println!("ok: no problems");
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems.0 {
        error_line(p);
    }
    let n = problems.0.len();
    eprintln!(
        "polyplug: check failed: {n} problem{}",
        if n == 1 { "" } else { "s" }
    );
    Ok(ExitCode::FAILURE)
}

/// Compares what the library registered with the WIT's contract of the same name.
fn compare(lib: &CompiledContract, wit: &Contract, problems: &mut Problems) {
    let lc = lib.contract();
    let at = |what: String| format!("{lc}: {what}");
    let wit_compiled = match wit.clone().compile() {
        Ok(c) => c,
        Err(e) => {
            problems.add(at(format!("the WIT contract is not valid: {e}")));
            return;
        }
    };
    // Versions: the runtime loaded the bundle only because what the library registers equals
    // `provides`, which `run` compared with the WIT.
    for (wi, wf) in wit.functions.iter().enumerate() {
        let Some((li, lf, ll)) = lib.find(&wf.name) else {
            problems.add(at(format!(
                "the library does not implement `{}` (the WIT's function {wi})",
                wf.wit_signature()
            )));
            continue;
        };
        if li != wi {
            problems.add(at(format!(
                "function `{}` is entry {li} of the library's table but function {wi} in the WIT: callers index the table in WIT order",
                wf.name
            )));
        }
        if lf != wf {
            let (ls, ws) = (lf.wit_signature(), wf.wit_signature());
            if ls != ws {
                problems.add(at(format!(
                    "function `{}`: the library registers `{ls}` but the WIT declares `{ws}`",
                    wf.name
                )));
            } else {
                for (name, l, w) in differing_types(lf, wf) {
                    problems.add(at(format!(
                        "function `{}`: type `{name}` is `{l}` in the library but `{w}` in the WIT",
                        wf.name
                    )));
                }
            }
        }
        let (_, wl) = wit_compiled
            .function(wi)
            .expect("index from the WIT's own list");
        let layout = |what: &str, l: Layout, w: Layout| {
            format!(
                "function `{}`: the {what} take {} bytes (align {}) in the library but {} bytes (align {}) per the WIT",
                wf.name, l.size, l.align, w.size, w.align
            )
        };
        if ll.args != wl.args || ll.param_offsets != wl.param_offsets {
            problems.add(at(layout("arguments", ll.args, wl.args)
                + &offsets_note(&ll.param_offsets, &wl.param_offsets)));
        }
        if ll.ret != wl.ret {
            problems.add(at(layout("result", ll.ret, wl.ret).replace("take", "takes")));
        }
    }
    for lf in &lc.functions {
        if wit.function(&lf.name).is_none() {
            problems.add(at(format!(
                "the library registers `{}`, which the WIT does not declare",
                lf.wit_signature()
            )));
        }
    }
}

/// `"; parameter offsets [0, 8] vs [0, 4]"` when they differ.
fn offsets_note(l: &[u32], w: &[u32]) -> String {
    if l == w {
        String::new()
    } else {
        format!("; parameter offsets {l:?} vs {w:?}")
    }
}

/// Named types (records, enums, flags) that both functions use under one name but define
/// differently: (name, the library's definition, the WIT's), on one line each.
fn differing_types(l: &Function, w: &Function) -> Vec<(String, String, String)> {
    let (mut ln, mut wn) = (BTreeMap::new(), BTreeMap::new());
    for t in l.params.iter().map(|p| &p.ty).chain(&l.result) {
        collect_named(t, &mut ln);
    }
    for t in w.params.iter().map(|p| &p.ty).chain(&w.result) {
        collect_named(t, &mut wn);
    }
    ln.iter()
        .filter_map(|(name, lt)| {
            let wt = wn.get(name)?;
            (lt != wt).then(|| ((*name).to_owned(), definition(lt), definition(wt)))
        })
        .collect()
}

fn collect_named<'a>(t: &'a Type, out: &mut BTreeMap<&'a str, &'a Type>) {
    if let Some(name) = t.name() {
        out.entry(name).or_insert(t);
    }
    for c in t.children() {
        collect_named(c, out);
    }
}

/// A type's WIT definition on one line: `record point { x: s32, y: s32 }`.
fn definition(t: &Type) -> String {
    let def = t.wit_definition().unwrap_or_else(|| t.wit());
    one_line(&def)
        .replace("{; ", "{ ")
        .replace(",; }", " }")
        .replace(",; ", ", ")
}
