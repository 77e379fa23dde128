//! `polyplug inspect <bundle-dir>`: a bundle's manifest and the WIT of what it provides.
//!
//! ```text
//! bundle:      c-counter 1.0.0
//! loader:      native
//! library:     /path/to/bundle/libcounter_c.so
//! priority:    0
//! requires:    (nothing)
//!
//! provides test:counter/counter@1.2.0
//!     record point {
//!         x: s32,
//!         y: s32,
//!     }
//!
//!     inc: func(x: u32) -> u32;
//!     ...
//! ```
//!
//! The contracts come from what the library registered (the runtime's model of each
//! descriptor), not from the manifest, so the output is what callers will see.

use crate::load::{load, Setup};
use crate::CliResult;
use polyplug::model::{Contract, Type};
use std::collections::HashSet;
use std::path::Path;

pub(crate) fn run(dir: &Path, setup: &Setup) -> CliResult {
    let loaded = load(dir, setup)?;
    let m = &loaded.bundle.manifest;
    println!("bundle:      {} {}", m.name, m.version);
    if let Some(d) = &m.description {
        println!("description: {d}");
    }
    println!("loader:      {}", m.loader);
    println!("library:     {}", m.entry.display());
    println!("priority:    {}", m.priority);
    let requires: Vec<String> = m.requires.iter().map(ToString::to_string).collect();
    println!(
        "requires:    {}",
        if requires.is_empty() {
            "(nothing)".to_owned()
        } else {
            requires.join(", ")
        }
    );
    for (_, info) in loaded.providers()? {
        println!();
        print!("{}", contract_wit(info.model.contract()));
    }
    Ok(())
}

/// `provides name@version`, then the contract's named types and function signatures in WIT,
/// indented.
pub(crate) fn contract_wit(c: &Contract) -> String {
    let mut out = format!("provides {c}\n");
    let mut seen = HashSet::new();
    let mut defs = Vec::new();
    for f in &c.functions {
        for ty in f.params.iter().map(|p| &p.ty).chain(&f.result) {
            named_types(ty, &mut seen, &mut defs);
        }
    }
    for def in defs {
        for line in def.lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    for f in &c.functions {
        out.push_str("    ");
        out.push_str(&f.wit_signature());
        out.push_str(";\n");
    }
    out
}

/// Definitions of the named types in `ty`, dependencies first, each name once.
fn named_types<'a>(ty: &'a Type, seen: &mut HashSet<&'a str>, defs: &mut Vec<String>) {
    for child in ty.children() {
        named_types(child, seen, defs);
    }
    if let Some(name) = ty.name() {
        if !name.is_empty() && seen.insert(name) {
            defs.extend(ty.wit_definition());
        }
    }
}
