//! A registered provider: the runtime's own copy of its interface, validated once.

use crate::contract::ContractInfo;
use crate::error::{Error, ErrorKind};
use polyplug_abi::{ext, ContractFn, Handle, Interface};

/// Identifies a loaded bundle. Never reused within one runtime.
pub type BundleId = u64;
/// Who registered a provider: a bundle (its [`BundleId`]), or the host ([`HOST_OWNER`]).
pub type OwnerId = BundleId;
/// The owner id of host-registered providers.
pub const HOST_OWNER: OwnerId = 0;

/// A provider validated and copied out of a peer's table, not yet in the registry.
pub(crate) struct PendingProvider {
    pub(crate) iface: Interface,
    pub(crate) funcs: Box<[Option<ContractFn>]>,
    pub(crate) contract: ContractInfo,
}

// SAFETY: the copied table holds function pointers and provider pointers that providers
// promise are usable from any thread (ABI rule); nothing here is thread-bound.
unsafe impl Send for PendingProvider {}

impl PendingProvider {
    /// Validates a peer's interface and copies it (and its function table) into runtime memory.
    ///
    /// # Safety
    /// `iface` must be null or point to an interface whose pointers are null or valid for at
    /// least as long as the provider stays registered.
    pub(crate) unsafe fn from_peer(
        iface: *const Interface,
        owner: &str,
    ) -> Result<PendingProvider, Error> {
        let table_err = |reason: String| ErrorKind::InvalidTable {
            name: owner.to_owned(),
            table: "provider interface",
            reason,
        };
        // SAFETY: forwarded to the caller.
        let mut copy = unsafe { ext::reconcile(iface) }.map_err(|e| table_err(e.to_string()))?;
        // SAFETY: forwarded to the caller.
        let contract = unsafe { ContractInfo::from_desc(copy.contract) }
            .map_err(|(contract, reason)| ErrorKind::InvalidContract { contract, reason })?;
        if copy.func_count as usize != contract.funcs.len() {
            return Err(table_err(format!(
                "the table has {} functions but contract `{}` declares {}",
                copy.func_count,
                contract.name,
                contract.funcs.len()
            ))
            .into());
        }
        if copy.create_instance.is_some() != copy.destroy_instance.is_some() {
            return Err(table_err(
                "create_instance and destroy_instance must be set together".into(),
            )
            .into());
        }
        let funcs: Box<[Option<ContractFn>]> = if copy.func_count == 0 {
            Box::new([])
        } else if copy.funcs.is_null() {
            return Err(table_err("the function table pointer is null".into()).into());
        } else {
            // SAFETY: a non-null table of `func_count` entries, as the caller guarantees.
            unsafe { std::slice::from_raw_parts(copy.funcs, copy.func_count as usize) }.into()
        };
        if let Some(i) = funcs.iter().position(Option::is_none) {
            return Err(table_err(format!(
                "function {i} (`{}`) is null",
                contract.funcs[i].name
            ))
            .into());
        }
        copy.funcs = funcs.as_ptr();
        Ok(PendingProvider {
            iface: copy,
            funcs,
            contract,
        })
    }
}

/// A provider in the registry. Immutable once published; retired through the epoch collector.
pub(crate) struct ProviderEntry {
    /// The runtime's copy of the table; `funcs` points into `_funcs`.
    pub(crate) iface: Interface,
    _funcs: Box<[Option<ContractFn>]>,
    pub(crate) contract: ContractInfo,
    pub(crate) priority: i32,
    pub(crate) owner: OwnerId,
    pub(crate) handle: Handle,
}

impl ProviderEntry {
    pub(crate) fn new(
        p: PendingProvider,
        priority: i32,
        owner: OwnerId,
        handle: Handle,
    ) -> ProviderEntry {
        ProviderEntry {
            iface: p.iface,
            _funcs: p.funcs,
            contract: p.contract,
            priority,
            owner,
            handle,
        }
    }
}
