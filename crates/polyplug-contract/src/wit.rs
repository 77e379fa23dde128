//! Contracts from WIT, the interface language of the WebAssembly component model.
//!
//! A WIT package becomes one [`Contract`] per interface: `package demo:text@1.2.0;` with
//! `interface filter { ... }` gives `demo:text/filter` at version 1.2.0, its functions in
//! declaration order (the order of a provider's function table). The package needs a version:
//! polyplug's identity and compatibility rules are semver.
//!
//! The supported subset is the model's: integers, floats, `bool`, `char`, `string`, `list<u8>`
//! (read as [`Type::Bytes`](crate::Type::Bytes)), `list<T>`, records, enums, flags, `option`,
//! `result` (with or without payloads), tuples, and type aliases (`type size = u32`) and `use`
//! of such types, which resolve to what they name. Anything else (resources and their handles
//! and methods, variants, `map`, fixed-length lists, `future`, `stream`, `error-context`, async
//! functions, functions declared in a world) is an error that names the file, line and column
//! of the offending item, as are wit-parser's own syntax and resolution errors.
//!
//! Lines and columns count from 1; columns count characters, not bytes. `use` of another package
//! resolves only against packages in the same source (nested `package x:y { ... }` blocks); a
//! `deps/` directory is not read.
//!
//! ```
//! use polyplug_contract::wit::parse_str;
//!
//! let source = "package demo:text@1.2.0;\n\ninterface filter {\n    process: func(line: string) -> option<string>;\n}\n";
//! let contracts = parse_str("filter.wit", source)?;
//! assert_eq!(contracts[0].to_string(), "demo:text/filter@1.2.0");
//!
//! let err = parse_str("filter.wit", "package demo:text@1.2.0;\ninterface filter {\n    f: func(s: stream<u8>);\n}\n")
//!     .unwrap_err();
//! assert!(err.to_string().starts_with("filter.wit:3:16: `stream<T>` is not supported"));
//! # Ok::<(), polyplug_contract::wit::WitError>(())
//! ```

mod convert;
mod source;

use crate::model::Contract;
use source::Sources;
use std::fmt;
use std::path::Path;
use wit_parser::Resolve;

/// A WIT file that could not be read, parsed, or turned into contracts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", Location(self))]
pub struct WitError {
    /// The file, as it was given (a path, or the name passed to [`parse_str`]).
    pub file: String,
    /// Line of the offending item, from 1; 0 when the error has no position (a file that cannot
    /// be read).
    pub line: u32,
    /// Column of the offending item in characters, from 1; 0 when the error has no position.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

/// `file:line:column`, or just `file` for an error without a position.
struct Location<'a>(&'a WitError);

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        if e.line == 0 {
            f.write_str(&e.file)
        } else {
            write!(f, "{}:{}:{}", e.file, e.line, e.column)
        }
    }
}

/// Parses WIT source text. `file_name` names the source in errors.
pub fn parse_str(file_name: &str, source: &str) -> Result<Vec<Contract>, WitError> {
    parse(Sources::new(vec![(
        file_name.to_owned(),
        source.to_owned(),
    )]))
}

/// Parses one `.wit` file.
pub fn parse_file(path: impl AsRef<Path>) -> Result<Vec<Contract>, WitError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| no_position(&name, e))?;
    parse(Sources::new(vec![(name, text)]))
}

/// Parses a package spread over the `.wit` files of a directory (not its subdirectories).
pub fn parse_dir(dir: impl AsRef<Path>) -> Result<Vec<Contract>, WitError> {
    let dir = dir.as_ref();
    let dir_name = dir.display().to_string();
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| no_position(&dir_name, e))? {
        let path = entry.map_err(|e| no_position(&dir_name, e))?.path();
        if path.extension().is_some_and(|x| x == "wit") && path.is_file() {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        return Err(WitError {
            file: dir_name,
            line: 0,
            column: 0,
            message: "no `.wit` files in this directory".into(),
        });
    }
    paths.sort();
    let files = paths
        .iter()
        .map(|p| {
            let name = p.display().to_string();
            std::fs::read_to_string(p)
                .map(|text| (name.clone(), text))
                .map_err(|e| no_position(&name, e))
        })
        .collect::<Result<_, _>>()?;
    parse(Sources::new(files))
}

/// Parses a `.wit` file, or the package in a directory of them.
pub fn parse_path(path: impl AsRef<Path>) -> Result<Vec<Contract>, WitError> {
    let path = path.as_ref();
    if path.is_dir() {
        parse_dir(path)
    } else {
        parse_file(path)
    }
}

fn no_position(file: &str, e: std::io::Error) -> WitError {
    WitError {
        file: file.to_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    }
}

/// wit-parser's message on one line, so `file:line:column: message` stays one line too.
fn one_line(e: &dyn fmt::Display) -> String {
    let text = e.to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(" ")
}

fn parse(sources: Sources) -> Result<Vec<Contract>, WitError> {
    let group = sources
        .source_map()
        .parse()
        .map_err(|(map, e)| sources.error(&map, e.kind().span(), one_line(&e)))?;
    let mut resolve = Resolve::new();
    let package = resolve
        .push_group(group)
        .map_err(|e| sources.error(&resolve.source_map, e.kind().span(), one_line(&e)))?;
    convert::contracts(&resolve, package, &sources)
}
