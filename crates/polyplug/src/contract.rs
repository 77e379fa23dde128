//! The runtime's owned copy of a contract description (names and references live in
//! `polyplug-contract` and are re-exported here).

use polyplug_abi::layout::Layout;
use polyplug_abi::{ContractDesc, Version};
pub use polyplug_contract::{validate_name, ContractKey, ContractRef};
use polyplug_contract::{CompiledContract, Contract, ContractError};
use std::sync::Arc;

/// One function of a registered contract, with its layouts computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// The function's name.
    pub name: String,
    /// Layout of the argument struct.
    pub args: Layout,
    /// Layout of the result ([`Layout::EMPTY`] when there is none).
    pub ret: Layout,
}

/// The runtime's owned, validated copy of a [`ContractDesc`].
#[derive(Clone, Debug)]
pub struct ContractInfo {
    /// `package:interface`.
    pub name: String,
    /// The provided version.
    pub version: Version,
    /// `contract_id(name, version.major)`.
    pub id: u64,
    /// The functions, in table order.
    pub funcs: Vec<FuncInfo>,
    /// The whole contract: every function's parameter and result types with their C layouts,
    /// read from the provider's descriptor at registration. What dynamic callers
    /// ([`crate::Runtime::call_json`]), `polyplug inspect` and scripting SDKs work from.
    pub model: Arc<CompiledContract>,
}

impl PartialEq for ContractInfo {
    fn eq(&self, other: &ContractInfo) -> bool {
        self.name == other.name
            && self.version == other.version
            && self.id == other.id
            && self.funcs == other.funcs
            && self.model.contract() == other.model.contract()
    }
}

impl Eq for ContractInfo {}

impl ContractInfo {
    /// The contract as a reference (`name@version`).
    pub fn as_ref(&self) -> ContractRef {
        ContractRef {
            name: self.name.clone(),
            version: self.version,
        }
    }

    /// Reads and validates a contract description from a peer, with
    /// [`Contract::from_desc`] (every rule of the contract model: names, bounds, types and
    /// layouts), and keeps the compiled model. On failure: the contract as far as it could be
    /// named (`name@version`, or `<unnamed>`) and what is wrong, with where.
    ///
    /// # Safety
    /// `desc` must be null or point to a description whose pointers are null or valid.
    pub unsafe fn from_desc(desc: *const ContractDesc) -> Result<ContractInfo, (String, String)> {
        let split = |e: ContractError| {
            let reason = if e.path.is_empty() {
                e.kind.to_string()
            } else {
                format!("{}: {}", e.path, e.kind)
            };
            (e.contract, reason)
        };
        // SAFETY: forwarded to the caller.
        let contract = unsafe { Contract::from_desc(desc) }.map_err(split)?;
        let model = contract.compile().map_err(split)?;
        let c = model.contract();
        let funcs = c
            .functions
            .iter()
            .zip(model.layouts())
            .map(|(f, l)| FuncInfo {
                name: f.name.clone(),
                args: l.args,
                ret: l.ret,
            })
            .collect();
        Ok(ContractInfo {
            name: c.name.clone(),
            version: c.version,
            id: c.id(),
            funcs,
            model: Arc::new(model),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyplug_abi::{contract_id, FieldDesc, FuncDesc, TypeDesc, TypeKind};

    static U32: TypeDesc = TypeDesc::scalar(TypeKind::U32);
    static P: [FieldDesc; 1] = [FieldDesc::new("x", &U32)];
    static F: [FuncDesc; 2] = [
        FuncDesc::new("inc", &P, Some(&U32)),
        FuncDesc::new("noop", &[], None),
    ];
    static DUP: [FuncDesc; 2] = [
        FuncDesc::new("inc", &P, Some(&U32)),
        FuncDesc::new("inc", &[], None),
    ];
    static BAD_TY: TypeDesc = TypeDesc::scalar(TypeKind::Option);
    static BP: [FieldDesc; 1] = [FieldDesc::new("x", &BAD_TY)];
    static BAD: [FuncDesc; 1] = [FuncDesc::new("f", &BP, None)];

    #[test]
    fn descriptions_are_validated() {
        let ok = ContractDesc::new("t:c/counter", Version::new(1, 2, 0), &F);
        // SAFETY: static descriptors.
        let info = unsafe { ContractInfo::from_desc(&ok) }.expect("valid");
        assert_eq!(info.funcs.len(), 2);
        assert_eq!(info.funcs[0].args, Layout { size: 4, align: 4 });
        assert_eq!(info.funcs[1].ret, Layout::EMPTY);
        assert_eq!(info.id, contract_id("t:c/counter", 1));
        let inc = &info.model.contract().functions[0];
        assert_eq!(inc.wit_signature(), "inc: func(x: u32) -> u32");
        assert_eq!(info.model.layouts()[0].args, info.funcs[0].args);

        let dup = ContractDesc::new("t:c/counter", Version::new(1, 0, 0), &DUP);
        // SAFETY: static descriptors.
        assert!(unsafe { ContractInfo::from_desc(&dup) }
            .unwrap_err()
            .1
            .contains("declared twice"));
        let bad = ContractDesc::new("t:c/counter", Version::new(1, 0, 0), &BAD);
        // SAFETY: static descriptors.
        assert!(unsafe { ContractInfo::from_desc(&bad) }
            .unwrap_err()
            .1
            .contains("null"));
        let badname = ContractDesc::new("counter", Version::new(1, 0, 0), &F);
        // SAFETY: static descriptors.
        assert!(unsafe { ContractInfo::from_desc(&badname) }.is_err());
        // SAFETY: null is allowed.
        assert!(unsafe { ContractInfo::from_desc(std::ptr::null()) }.is_err());
    }
}
