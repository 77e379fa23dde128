//! A contract ready to be registered and called: the model, its raw descriptors and its layouts,
//! computed once.

use crate::error::ContractError;
use crate::layout::{func_layouts, FuncLayout};
use crate::model::{Contract, Function};
use crate::raw::RawContract;
use polyplug_abi::ContractDesc;

/// A validated contract with its raw descriptor graph and per-function layouts. Immutable, and
/// `Send + Sync`, so one value can serve every thread that calls the contract.
#[derive(Debug)]
pub struct CompiledContract {
    contract: Contract,
    raw: RawContract,
    layouts: Vec<FuncLayout>,
}

impl CompiledContract {
    /// Validates the contract, builds its raw graph and computes its layouts.
    pub fn new(contract: Contract) -> Result<CompiledContract, ContractError> {
        let raw = RawContract::new(&contract)?;
        let layouts = func_layouts(&raw, &contract)?;
        Ok(CompiledContract {
            contract,
            raw,
            layouts,
        })
    }

    /// The model.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// The raw descriptor graph.
    pub fn raw(&self) -> &RawContract {
        &self.raw
    }

    /// The raw description, valid while `self` lives: what a provider registers.
    pub fn desc(&self) -> *const ContractDesc {
        self.raw.desc()
    }

    /// The layouts of every function, in table order.
    pub fn layouts(&self) -> &[FuncLayout] {
        &self.layouts
    }

    /// Function `index` of the table and its layout.
    pub fn function(&self, index: usize) -> Option<(&Function, &FuncLayout)> {
        Some((
            self.contract.functions.get(index)?,
            self.layouts.get(index)?,
        ))
    }

    /// The function called `name`: its table index, model and layout.
    pub fn find(&self, name: &str) -> Option<(usize, &Function, &FuncLayout)> {
        let (i, f) = self.contract.function(name)?;
        Some((i, f, self.layouts.get(i)?))
    }

    /// Gives the model back.
    pub fn into_contract(self) -> Contract {
        self.contract
    }
}

impl Contract {
    /// Validates the contract and computes its raw graph and layouts.
    pub fn compile(self) -> Result<CompiledContract, ContractError> {
        CompiledContract::new(self)
    }
}
