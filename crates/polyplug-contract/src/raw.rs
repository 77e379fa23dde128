//! The bridge to the C ABI's descriptor graph ([`polyplug_abi::ContractDesc`]): reading a
//! peer's graph into the model ([`Contract::from_desc`](crate::Contract::from_desc)) and building
//! an owned graph from the model ([`RawContract`]).

mod owned;
mod read;

pub use owned::RawContract;
