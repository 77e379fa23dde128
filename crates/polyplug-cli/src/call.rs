//! `polyplug call <bundle-dir> <contract> <function> [<json-args>]`: one dynamic call.
//!
//! The contract is `namespace:package/interface`, or with a version (`...@1.2`), which the
//! provider's version must satisfy. Arguments are a JSON array in parameter order or an object
//! keyed by parameter name (default `[]`); the result is printed as pretty JSON (`null` for a
//! function without one). The JSON mapping is `polyplug_contract::json`'s.

use crate::load::{load, Setup};
use crate::CliResult;
use polyplug::serde_json::{self, Value};
use polyplug::{ContractRef, Error, ErrorKind, Handle, Version};
use std::path::Path;

pub(crate) fn run(
    dir: &Path,
    contract: &str,
    function: &str,
    args: &str,
    setup: &Setup,
) -> CliResult {
    let args: Value =
        serde_json::from_str(args).map_err(|e| format!("the arguments are not valid JSON: {e}"))?;
    let loaded = load(dir, setup)?;
    let handle = pick(&loaded, contract)?;
    let mut cx = loaded.rt.call_context()?;
    match loaded.rt.call_json(handle, function, &args, &mut cx) {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
        Err(e) => match e.into_kind() {
            // The runtime's messages say what is invalid; the prefix adds nothing here.
            ErrorKind::InvalidArgument(message) => Err(message.into()),
            kind => Err(Error::from(kind).into()),
        },
    }
}

/// The bundle's provider of `contract` (`name` or `name@version`).
fn pick(loaded: &crate::load::Loaded, contract: &str) -> CliResult<Handle> {
    let (name, min) = match contract.split_once('@') {
        Some(_) => {
            let r: ContractRef = contract.parse()?;
            (r.name, Some(r.version))
        }
        None => (contract.to_owned(), None),
    };
    let providers = loaded.providers()?;
    let matches = |v: &Version| min.is_none_or(|min| v.satisfies(&min));
    if let Some((h, _)) = providers
        .iter()
        .find(|(_, c)| c.name == name && matches(&c.version))
    {
        return Ok(*h);
    }
    let provided: Vec<String> = providers
        .iter()
        .map(|(_, c)| c.as_ref().to_string())
        .collect();
    Err(format!(
        "bundle `{}` does not provide `{contract}`; it provides: {}",
        loaded.bundle.manifest.name,
        if provided.is_empty() {
            "nothing".to_owned()
        } else {
            provided.join(", ")
        }
    )
    .into())
}
