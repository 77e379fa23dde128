//! `polyplug new --lang rust|c <dir>`: a new plugin that builds, loads and passes its own test.
//!
//! The directory's last component is the plugin's name: lowercase kebab-case (`my-plugin`), a
//! WIT identifier. It becomes the bundle's name and the package of a starter contract,
//! `local:<name>/api@0.1.0` (`greet: func(name: string) -> string`, `add: func(a: s32, b: s32)
//! -> s32`), which the plugin implements:
//!
//! * **Rust** (`--lang rust`): a cdylib crate on `polyplug-guest`, whose `build.rs` generates
//!   the contract's glue with `polyplugc::build::rust`; `tests/plugin.rs` loads the directory as
//!   a bundle and calls the plugin through the runtime (typed caller and JSON). The crate is a
//!   workspace of its own, with path dependencies on a polyplug checkout (the crates are not on
//!   crates.io) and a copy of that checkout's `Cargo.lock`.
//! * **C** (`--lang c`): `<name>.c` implementing the `_impl` functions of the header that
//!   `polyplugc --lang c` generates, and `test_host.c`, which loads the bundle and calls it
//!   through the header's typed caller; a `Makefile` generates the header and builds both.
//!
//! Both get `wit/<name>.wit`, a `bundle.toml` naming the library where the build puts it (with
//! `wit = "wit"`, so `polyplug check` finds the contract) and a `.gitignore`.
//!
//! The polyplug checkout is `--polyplug-path`, by default the one this `polyplug` was built
//! from. `new` refuses a name that is not valid, an existing directory that is not empty, and a
//! checkout without the crates or header the plugin needs. It writes the files into a temporary
//! directory beside the target and renames it into place, so a failure leaves nothing behind.

use crate::CliResult;
use clap::ValueEnum;
use std::fs;
use std::path::{Path, PathBuf};

/// The language of the plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Lang {
    /// A Rust crate on polyplug-guest.
    Rust,
    /// C on the header polyplugc generates, built by make.
    C,
}

/// The checkout this binary was built from: the default of `--polyplug-path`.
const BUILT_FROM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The starter contract's interface and version, and the bundle's version.
const INTERFACE: &str = "api";
const VERSION: &str = "0.1.0";

/// Names the plugin may not have in Rust: the polyplug crates it depends on.
const RUST_RESERVED: &[&str] = &[
    "polyplug",
    "polyplug-abi",
    "polyplug-contract",
    "polyplug-guest",
    "polyplugc",
];

/// WIT's keywords: as a package name, the WIT writes such a name as `%name`.
const WIT_KEYWORDS: &[&str] = &[
    "use",
    "type",
    "func",
    "u8",
    "u16",
    "u32",
    "u64",
    "s8",
    "s16",
    "s32",
    "s64",
    "f32",
    "f64",
    "char",
    "resource",
    "own",
    "borrow",
    "record",
    "flags",
    "variant",
    "enum",
    "bool",
    "string",
    "option",
    "result",
    "future",
    "stream",
    "error-context",
    "list",
    "map",
    "as",
    "from",
    "static",
    "interface",
    "tuple",
    "world",
    "import",
    "export",
    "package",
    "constructor",
    "include",
    "with",
    "async",
];

pub(crate) fn run(lang: Lang, dir: &Path, polyplug_path: Option<&Path>) -> CliResult {
    let name = plugin_name(dir)?;
    if lang == Lang::Rust && RUST_RESERVED.contains(&name) {
        return Err(format!(
            "a Rust plugin cannot be named `{name}`: that is the name of a polyplug crate it depends on"
        )
        .into());
    }
    if lang == Lang::C && snake(name) == "test_host" {
        return Err(format!(
            "a C plugin cannot be named `{name}`: its source would be test_host.c, the test's"
        )
        .into());
    }
    check_target(dir)?;
    let polyplug = checkout(lang, polyplug_path)?;
    let names = Names::new(name, &polyplug);
    let mut files = match lang {
        Lang::Rust => rust_files(&names),
        Lang::C => c_files(&names),
    };
    if lang == Lang::Rust {
        // The checkout's lock pins what polyplug is tested with; cargo trims what the plugin
        // does not use on its first build.
        if let Ok(lock) = fs::read_to_string(polyplug.join("Cargo.lock")) {
            files.push(("Cargo.lock".into(), lock));
        }
    }
    write_all(dir, &files)?;
    print!("{}", next_steps(lang, dir, &names, &files));
    Ok(())
}

/// The plugin's name: the directory's last component, validated.
fn plugin_name(dir: &Path) -> CliResult<&str> {
    let name = dir
        .file_name()
        .ok_or_else(|| {
            format!(
                "`{}` does not end in a directory name, which would be the plugin's name",
                dir.display()
            )
        })?
        .to_str()
        .ok_or_else(|| format!("`{}` is not valid UTF-8", dir.display()))?;
    validate_name(name)?;
    Ok(name)
}

/// A plugin name is lowercase kebab-case and a WIT identifier: words of ASCII lowercase letters
/// and digits joined by single `-`, the first starting with a letter.
fn validate_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "`{name}` is not a valid plugin name: {why} (use lowercase kebab-case, e.g. `my-plugin`)"
        ))
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return bad(&format!(
            "`{c}` is not a lowercase ASCII letter, a digit or `-`"
        ));
    }
    if name.split('-').any(str::is_empty) {
        return bad("`-` must join two words");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return bad("it must start with a letter");
    }
    Ok(())
}

/// `dir` must not exist, or be an empty directory.
fn check_target(dir: &Path) -> CliResult {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(format!("`{}` already exists and is not empty", dir.display()).into());
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dir.exists() && !dir.is_dir() => {
            Err(format!("`{}` already exists and is not a directory", dir.display()).into())
        }
        Err(e) => Err(format!("cannot read `{}`: {e}", dir.display()).into()),
    }
}

/// The polyplug checkout, absolute, after checking it has what a plugin in `lang` builds with.
fn checkout(lang: Lang, given: Option<&Path>) -> CliResult<PathBuf> {
    let (path, hint) = match given {
        Some(p) => (
            p.to_path_buf(),
            "--polyplug-path must name a polyplug checkout",
        ),
        None => (
            PathBuf::from(BUILT_FROM),
            "the checkout this polyplug was built from has moved; pass --polyplug-path <checkout>",
        ),
    };
    let path = fs::canonicalize(&path)
        .map_err(|e| format!("polyplug checkout `{}`: {e} ({hint})", path.display()))?;
    let needed: &[&str] = match lang {
        Lang::Rust => &[
            "crates/polyplug-guest/Cargo.toml",
            "crates/polyplugc/Cargo.toml",
            "crates/polyplug/Cargo.toml",
        ],
        Lang::C => &[
            "include/polyplug.h",
            "crates/polyplugc/Cargo.toml",
            "crates/polyplug/Cargo.toml",
        ],
    };
    if let Some(missing) = needed.iter().find(|f| !path.join(f).is_file()) {
        return Err(format!(
            "`{}` is not a polyplug checkout: it has no {missing} ({hint})",
            path.display()
        )
        .into());
    }
    let text = path.to_str().ok_or_else(|| {
        format!(
            "the polyplug checkout's path `{}` is not valid UTF-8",
            path.display()
        )
    })?;
    // make splits words at blanks and expands `$`; `#` starts a comment.
    if lang == Lang::C && text.contains(|c: char| c.is_whitespace() || "$#\\'\"".contains(c)) {
        return Err(format!(
            "the polyplug checkout's path `{text}` has a character make cannot take in a path (a blank, $, #, a quote or \\): use a path without, e.g. a symbolic link"
        )
        .into());
    }
    Ok(path)
}

/// Everything the templates name.
struct Names {
    /// `my-plugin`.
    name: String,
    /// `my_plugin`: the Rust library's and the C source's name.
    snake: String,
    /// The name in the WIT package: `%name` for a WIT keyword.
    wit_name: String,
    /// `local:my-plugin/api`.
    contract: String,
    /// `local_my_plugin_api`: the generated files' stem and the C prefix.
    stem: String,
    /// `libmy_plugin.so` (the platform's shared library name).
    library: String,
    /// The checkout, as written into a Makefile.
    polyplug: String,
    /// The checkout, inside a TOML basic string.
    polyplug_toml: String,
}

impl Names {
    fn new(name: &str, polyplug: &Path) -> Names {
        let snake = snake(name);
        let contract = format!("local:{name}/{INTERFACE}");
        let polyplug = polyplug.display().to_string();
        Names {
            name: name.to_owned(),
            wit_name: if WIT_KEYWORDS.contains(&name) {
                format!("%{name}")
            } else {
                name.to_owned()
            },
            stem: snake_of_contract(&contract),
            contract,
            library: format!(
                "{}{snake}{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ),
            snake,
            polyplug_toml: toml_escape(&polyplug),
            polyplug,
        }
    }

    /// Fills the `{{key}}` placeholders of a template.
    fn render(&self, template: &str, description: &str, files: &str) -> String {
        let upper = self.stem.to_ascii_uppercase();
        let trait_name = {
            let mut cs = INTERFACE.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        };
        [
            ("{{name}}", self.name.as_str()),
            ("{{crate}}", &self.snake),
            ("{{wit_name}}", &self.wit_name),
            ("{{contract}}", &self.contract),
            ("{{interface}}", INTERFACE),
            ("{{interface_mod}}", INTERFACE),
            ("{{trait}}", &trait_name),
            ("{{version}}", VERSION),
            ("{{stem}}", &self.stem),
            ("{{prefix}}", &self.stem),
            ("{{PREFIX}}", &upper),
            ("{{library}}", &self.library),
            ("{{dll_suffix}}", std::env::consts::DLL_SUFFIX),
            ("{{polyplug}}", &self.polyplug),
            ("{{polyplug_toml}}", &self.polyplug_toml),
            ("{{description}}", description),
            ("{{files}}", files),
        ]
        .iter()
        .fold(template.to_owned(), |text, (key, value)| {
            text.replace(key, value)
        })
    }
}

/// `my-plugin` → `my_plugin`.
fn snake(kebab: &str) -> String {
    kebab.replace('-', "_")
}

/// `local:my-plugin/api` → `local_my_plugin_api`, as polyplugc names the generated files.
fn snake_of_contract(contract: &str) -> String {
    snake(&contract.replace([':', '/'], "_"))
}

/// `text` with what a TOML basic string must escape escaped.
fn toml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The files of a scaffold: (path relative to its directory, text).
type Files = Vec<(String, String)>;

fn rust_files(n: &Names) -> Files {
    let description = format!(
        "{}: greets and adds (the starter plugin of polyplug new)",
        n.name
    );
    let files = "src/lib.rs, tests/plugin.rs";
    let r = |t: &str| n.render(t, &description, files);
    vec![
        (
            "Cargo.toml".into(),
            r(include_str!("new/rust/Cargo.toml.tmpl")),
        ),
        ("build.rs".into(), r(include_str!("new/rust/build.rs.tmpl"))),
        ("src/lib.rs".into(), r(include_str!("new/rust/lib.rs.tmpl"))),
        (
            "tests/plugin.rs".into(),
            r(include_str!("new/rust/plugin.rs.tmpl")),
        ),
        (
            format!("wit/{}.wit", n.name),
            r(include_str!("new/contract.wit.tmpl")),
        ),
        (
            "bundle.toml".into(),
            r(include_str!("new/rust/bundle.toml.tmpl")),
        ),
        (".gitignore".into(), "/target\n".into()),
    ]
}

fn c_files(n: &Names) -> Files {
    let description = format!(
        "{}: greets and adds (the starter plugin of polyplug new)",
        n.name
    );
    let files = format!("{}.c, test_host.c, Makefile", n.snake);
    let r = |t: &str| n.render(t, &description, &files);
    vec![
        (
            format!("{}.c", n.snake),
            r(include_str!("new/c/plugin.c.tmpl")),
        ),
        (
            "test_host.c".into(),
            r(include_str!("new/c/test_host.c.tmpl")),
        ),
        ("Makefile".into(), r(include_str!("new/c/Makefile.tmpl"))),
        (
            format!("wit/{}.wit", n.name),
            r(include_str!("new/contract.wit.tmpl")),
        ),
        (
            "bundle.toml".into(),
            r(include_str!("new/c/bundle.toml.tmpl")),
        ),
        (".gitignore".into(), "/build\n".into()),
    ]
}

/// Writes `files` into a temporary directory beside `dir`, then renames it to `dir` (which
/// [`check_target`] found absent or empty).
fn write_all(dir: &Path, files: &Files) -> CliResult {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let staging = tempfile::Builder::new()
        .prefix(".polyplug-new-")
        .tempdir_in(&parent)
        .map_err(|e| format!("cannot create a directory in `{}`: {e}", parent.display()))?;
    for (rel, text) in files {
        let path = staging.path().join(rel);
        if let Some(p) = path.parent() {
            fs::create_dir_all(p).map_err(|e| format!("cannot create `{}`: {e}", p.display()))?;
        }
        fs::write(&path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    if dir.is_dir() {
        // Empty (checked): the rename needs it gone.
        fs::remove_dir(dir).map_err(|e| format!("cannot replace `{}`: {e}", dir.display()))?;
    }
    let staged = staging.keep();
    fs::rename(&staged, dir).map_err(|e| {
        let _ = fs::remove_dir_all(&staged);
        format!("cannot create `{}`: {e}", dir.display())
    })?;
    Ok(())
}

/// What was made, and the commands that build, test, check and call it.
fn next_steps(lang: Lang, dir: &Path, n: &Names, files: &Files) -> String {
    let shown = shell_word(&dir.display().to_string());
    let (what, build) = match lang {
        Lang::Rust => (
            "Rust",
            [
                ("cargo build", format!("builds target/debug/{}", n.library)),
                (
                    "cargo test",
                    "loads the bundle and calls the plugin through the runtime".to_owned(),
                ),
            ],
        ),
        Lang::C => (
            "C",
            [
                (
                    "make",
                    format!(
                        "generates build/{}.h with polyplugc, builds build/{}",
                        n.stem, n.library
                    ),
                ),
                (
                    "make test",
                    "builds test_host.c and runs it: it loads the bundle and calls the plugin"
                        .to_owned(),
                ),
            ],
        ),
    };
    let mut out = format!(
        "Created the {what} plugin `{}` in {shown}, providing {}@{VERSION}:\n",
        n.name, n.contract
    );
    let width = files.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    for (path, _) in files {
        out.push_str(&format!("  {path:width$}  {}\n", describe(path, lang)));
    }
    out.push_str("\nNext steps:\n");
    let call = format!("polyplug call . {} greet '[\"world\"]'", n.contract);
    let steps: Vec<(String, String)> = std::iter::once((format!("cd {shown}"), String::new()))
        .chain(build.iter().map(|(c, w)| ((*c).to_owned(), w.clone())))
        .chain([
            (
                "polyplug check .".to_owned(),
                "bundle.toml, the WIT and the library agree".to_owned(),
            ),
            (call, "prints \"Hello, world!\"".to_owned()),
        ])
        .collect();
    let width = steps.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    for (command, what) in steps {
        if what.is_empty() {
            out.push_str(&format!("  {command}\n"));
        } else {
            out.push_str(&format!("  {command:width$}  # {what}\n"));
        }
    }
    out
}

/// One line on what a scaffold file is.
fn describe(path: &str, lang: Lang) -> &'static str {
    match path {
        "Cargo.toml" => "the crate: a cdylib, with path dependencies on polyplug",
        "Cargo.lock" => "the dependency versions of the polyplug checkout",
        "build.rs" => "generates the contract's Rust code from the WIT",
        "src/lib.rs" => "the plugin",
        "tests/plugin.rs" => "the test: loads the bundle, calls the plugin",
        "test_host.c" => "the test: loads the bundle, calls the plugin",
        "Makefile" => "generates the header, builds the plugin and the test",
        "bundle.toml" => "what the runtime loads",
        ".gitignore" => match lang {
            Lang::Rust => "ignores target/",
            Lang::C => "ignores build/",
        },
        p if p.starts_with("wit/") => "the contract",
        _ => "the plugin",
    }
}

/// `word` as one shell word: quoted when it holds anything but plain path characters.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyplug_contract::wit;

    fn names(name: &str) -> Names {
        Names::new(name, Path::new("/opt/poly plug/\"q\""))
    }

    #[test]
    fn names_are_lowercase_kebab_case_wit_identifiers() {
        for good in ["x", "my-plugin", "log2", "a-2b", "stream"] {
            assert_eq!(validate_name(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("", "it is empty"),
            ("My", "`M` is not a lowercase ASCII letter"),
            ("my_plugin", "`_` is not"),
            ("a.b", "`.` is not"),
            ("-a", "`-` must join two words"),
            ("a--b", "`-` must join two words"),
            ("a-", "`-` must join two words"),
            ("2x", "it must start with a letter"),
            ("é", "`é` is not"),
        ] {
            let e = validate_name(bad).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
            assert!(e.contains("lowercase kebab-case"), "{e}");
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        for name in ["x", "my-plugin"] {
            let n = names(name);
            for (path, text) in rust_files(&n).iter().chain(&c_files(&n)) {
                assert!(
                    !text.contains("{{"),
                    "{name}: {path} keeps a placeholder:\n{text}"
                );
            }
        }
    }

    #[test]
    fn derived_names_follow_polyplugc_and_cargo() {
        let n = names("my-plugin");
        assert_eq!(n.contract, "local:my-plugin/api");
        assert_eq!(n.stem, "local_my_plugin_api");
        assert_eq!(n.snake, "my_plugin");
        assert_eq!(n.library, "libmy_plugin.so");
        let files = c_files(&n);
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "my_plugin.c",
                "test_host.c",
                "Makefile",
                "wit/my-plugin.wit",
                "bundle.toml",
                ".gitignore"
            ]
        );
        let c = &files[0].1;
        assert!(
            c.contains(
                "#define LOCAL_MY_PLUGIN_API_IMPLEMENTATION\n#include \"local_my_plugin_api.h\""
            ),
            "{c}"
        );
        assert!(
            c.contains("uint32_t local_my_plugin_api_greet_impl("),
            "{c}"
        );
        let rust = rust_files(&n);
        let lib = &rust
            .iter()
            .find(|(p, _)| p == "src/lib.rs")
            .expect("lib.rs")
            .1;
        assert!(
            lib.contains("include_contract!(\"local_my_plugin_api\")"),
            "{lib}"
        );
        assert!(lib.contains("impl api::Api for Plugin"), "{lib}");
        // The checkout's path is escaped for TOML.
        let toml = &rust[0].1;
        assert!(
            toml.contains(
                r#"polyplug-guest = { path = "/opt/poly plug/\"q\"/crates/polyplug-guest" }"#
            ),
            "{toml}"
        );
    }

    #[test]
    fn the_wit_parses_to_the_contract_bundle_toml_provides() {
        // `stream` is a WIT keyword: the package is written `%stream`.
        for name in ["x", "my-plugin", "stream"] {
            let n = names(name);
            for files in [rust_files(&n), c_files(&n)] {
                let (path, text) = files
                    .iter()
                    .find(|(p, _)| p.starts_with("wit/"))
                    .expect("a WIT file");
                let contracts =
                    wit::parse_str(path, text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
                assert_eq!(contracts.len(), 1);
                let c = &contracts[0];
                assert_eq!(c.to_string(), format!("local:{name}/api@0.1.0"));
                let names: Vec<&str> = c.functions.iter().map(|f| f.name.as_str()).collect();
                assert_eq!(names, ["greet", "add"]);
                let manifest = &files
                    .iter()
                    .find(|(p, _)| p == "bundle.toml")
                    .expect("bundle.toml")
                    .1;
                let m = polyplug::Manifest::parse(Path::new("/b"), manifest.clone())
                    .unwrap_or_else(|e| panic!("{name}: {e}\n{manifest}"));
                assert_eq!(m.name, name);
                assert_eq!(m.provides.len(), 1);
                assert_eq!(m.provides[0].to_string(), c.to_string());
                assert_eq!(m.wit, [Path::new("/b/wit")]);
                assert!(m.options.is_empty());
            }
        }
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("plugins/x"), "plugins/x");
        assert_eq!(shell_word("my dir/x"), "'my dir/x'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
