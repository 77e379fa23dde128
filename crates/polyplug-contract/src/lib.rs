//! The polyplug contract model: what a contract's functions and types are, as owned Rust values,
//! and every way to get one in and out.
//!
//! * [`Contract`], [`Function`], [`Param`] and [`Type`] are the model: the WIT subset polyplug
//!   supports (integers, floats, `bool`, `char`, `string`, `list<u8>`, `list<T>`, records, enums,
//!   flags, `option`, `result` and tuples). [`Contract::validate`] checks polyplug's rules, and
//!   `Display`/[`Type::wit`]/[`Function::wit_signature`]/[`Contract::to_wit`] spell it in WIT.
//! * [`Contract::from_desc`] reads and validates a peer's raw descriptor graph
//!   ([`polyplug_abi::ContractDesc`]); [`RawContract`] builds an owned, address-stable graph from
//!   the model, so a contract known only at run time can be registered through the C ABI.
//! * [`CompiledContract`] keeps a contract with its raw graph and per-function C layouts
//!   ([`FuncLayout`], [`TypeLayout`]), all computed by [`polyplug_abi::layout`], the one layout
//!   algorithm, so dynamic callers and VM loaders can marshal arguments without generated code.
//! * [`walk`] reads and writes single values in that C layout, guided by their types, checking
//!   everything a peer could have corrupted: the one marshaller every dynamic caller and VM
//!   loader is built on.
//! * With the `json` feature, the `json` module marshals `serde_json` values to and from the C
//!   layout of a function's arguments and result: calls without generated code.
//! * With the `wit` feature, the `wit` module parses `.wit` files into contracts, one per interface, with
//!   `file:line:column` errors for anything outside the subset.
//!
//! The crate is pure data and allocation: no global state, no I/O outside the `wit` module.
//!
//! ```
//! use polyplug_contract::{Contract, Function, Param, Type, Version};
//!
//! let contract = Contract::new(
//!     "demo:text/filter",
//!     Version::new(1, 2, 0),
//!     vec![Function::new(
//!         "process",
//!         vec![Param::new("line", Type::String)],
//!         Some(Type::option(Type::String)),
//!     )],
//! );
//! assert_eq!(
//!     contract.functions[0].wit_signature(),
//!     "process: func(line: string) -> option<string>"
//! );
//! // A provider registers `compiled.desc()`; a dynamic caller marshals with the layouts.
//! let compiled = contract.compile()?;
//! let process = &compiled.layouts()[0];
//! assert_eq!(process.param_offsets, [0]);
//! assert_eq!(process.result.as_ref().and_then(|r| r.payload_offset()), Some(8));
//! # Ok::<(), polyplug_contract::ContractError>(())
//! ```
#![deny(missing_docs)]

mod compiled;
mod error;
#[cfg(feature = "json")]
pub mod json;
mod layout;
pub mod limits;
mod model;
pub mod names;
mod raw;
mod reference;
mod render;
mod validate;
pub mod walk;
#[cfg(feature = "wit")]
pub mod wit;

pub use compiled::CompiledContract;
pub use error::{ContractError, ErrorKind};
pub use layout::{FuncLayout, Shape, TypeLayout};
pub use model::{Contract, Function, Param, Type};
pub use polyplug_abi::{Layout, Version};
pub use raw::RawContract;
pub use reference::{validate_name, ContractKey, ContractRef};
