//! An owned descriptor graph built from the model, for registering a contract that exists only
//! at run time (one parsed from WIT by a VM loader) through the C ABI.

use crate::error::{ContractError, ErrorKind, Located};
use crate::model::{Contract, Type};
use polyplug_abi::layout;
use polyplug_abi::types::CONTRACT_DESC_SIZE_V1;
use polyplug_abi::{ContractDesc, FieldDesc, FuncDesc, Str, TypeDesc};
use std::fmt;
use std::ptr;

/// A contract's raw descriptor graph, owned and at a fixed address.
///
/// Every node is a separate heap allocation made once at construction and freed on drop, so the
/// pointer from [`RawContract::desc`] and every pointer inside the graph stay valid for as long as
/// the `RawContract` lives, even when the value itself moves. The graph is never mutated, so it
/// may be read from any thread.
pub struct RawContract {
    desc: *const ContractDesc,
    /// Owns every node `desc` reaches; read only by its `Drop`.
    _store: Store,
}

// SAFETY: the graph is immutable after construction and owned by this value alone; sharing or
// sending it is sharing or sending read-only memory.
unsafe impl Send for RawContract {}
// SAFETY: as above.
unsafe impl Sync for RawContract {}

impl RawContract {
    /// Builds the graph of a contract after checking it with [`Contract::validate`] and computing
    /// its C layouts, so the result is accepted by `Contract::from_desc` and the runtime.
    pub fn new(contract: &Contract) -> Result<RawContract, ContractError> {
        contract.validate()?;
        let mut store = Store::default();
        let funcs: Vec<FuncDesc> = contract
            .functions
            .iter()
            .map(|f| {
                let params: Vec<FieldDesc> = f
                    .params
                    .iter()
                    .map(|p| FieldDesc {
                        name: store.str(&p.name),
                        ty: store.ty(&p.ty),
                    })
                    .collect();
                let param_count = count(params.len());
                FuncDesc {
                    name: store.str(&f.name),
                    params: store.slice(params),
                    param_count,
                    flags: 0,
                    result: f.result.as_ref().map_or(ptr::null(), |r| store.ty(r)),
                }
            })
            .collect();
        let func_count = count(funcs.len());
        let desc = ContractDesc {
            struct_size: CONTRACT_DESC_SIZE_V1,
            func_count,
            name: store.str(&contract.name),
            version: contract.version,
            funcs: store.slice(funcs),
        };
        let desc = store.own(desc);
        let raw = RawContract {
            desc,
            _store: store,
        };
        for (i, (f, model)) in raw.functions().iter().zip(&contract.functions).enumerate() {
            // SAFETY: the graph was just built from a valid contract; every pointer is null or
            // points into `raw.store`.
            let checked = unsafe { layout::args_layout(f, None).and(layout::result_layout(f)) };
            checked.map_err(|e| {
                Located::new(ErrorKind::Layout(e))
                    .in_function(i, &model.name)
                    .finish(contract.to_string())
            })?;
        }
        Ok(raw)
    }

    /// The description, valid for as long as `self` lives: what a provider registers.
    pub fn desc(&self) -> *const ContractDesc {
        self.desc
    }

    /// The description as a reference.
    pub fn contract_desc(&self) -> &ContractDesc {
        // SAFETY: `desc` points to a live allocation owned by `self._store` and never mutated.
        unsafe { &*self.desc }
    }

    /// The function descriptors, in table order.
    pub fn functions(&self) -> &[FuncDesc] {
        let d = self.contract_desc();
        if d.func_count == 0 {
            return &[];
        }
        // SAFETY: `funcs` is the allocation of `func_count` descriptors made in `new`, owned by
        // `self.store`.
        unsafe { std::slice::from_raw_parts(d.funcs, d.func_count as usize) }
    }
}

impl fmt::Debug for RawContract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.contract_desc();
        f.debug_struct("RawContract")
            .field("desc", &self.desc)
            .field("version", &d.version)
            .field("func_count", &d.func_count)
            .finish()
    }
}

/// A count bounded by validation; saturates rather than panicking should that ever change.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The allocations of one graph. Each is leaked into a raw pointer when made, so that moving the
/// owner moves no node and asserts no uniqueness over memory the graph points into, and is
/// reclaimed in `Drop`, also when building stops half way.
#[derive(Default)]
struct Store {
    types: Vec<*mut TypeDesc>,
    fields: Vec<*mut [FieldDesc]>,
    funcs: Vec<*mut [FuncDesc]>,
    strings: Vec<*mut str>,
    contract: Option<*mut ContractDesc>,
}

impl Store {
    fn str(&mut self, s: &str) -> Str {
        if s.is_empty() {
            return Str::EMPTY;
        }
        let p = Box::into_raw(Box::<str>::from(s));
        self.strings.push(p);
        Str {
            ptr: p.cast::<u8>(),
            len: s.len(),
        }
    }

    /// Builds a type's node after its children, so each pointer it stores is final.
    fn ty(&mut self, t: &Type) -> *const TypeDesc {
        let mut d = TypeDesc {
            kind: t.kind() as u32,
            field_count: 0,
            name: Str::EMPTY,
            fields: ptr::null(),
            elem: ptr::null(),
            err: ptr::null(),
        };
        match t {
            Type::List(e) | Type::Option(e) => d.elem = self.ty(e),
            Type::Result { ok, err } => {
                d.elem = ok.as_deref().map_or(ptr::null(), |t| self.ty(t));
                d.err = err.as_deref().map_or(ptr::null(), |t| self.ty(t));
            }
            Type::Record { name, fields } => {
                let fs: Vec<FieldDesc> = fields
                    .iter()
                    .map(|(n, t)| FieldDesc {
                        name: self.str(n),
                        ty: self.ty(t),
                    })
                    .collect();
                d.name = self.str(name);
                d.field_count = count(fs.len());
                d.fields = self.slice(fs);
            }
            Type::Tuple(elems) => {
                let fs: Vec<FieldDesc> = elems
                    .iter()
                    .map(|t| FieldDesc {
                        name: Str::EMPTY,
                        ty: self.ty(t),
                    })
                    .collect();
                d.field_count = count(fs.len());
                d.fields = self.slice(fs);
            }
            Type::Enum {
                name,
                cases: labels,
            }
            | Type::Flags {
                name,
                flags: labels,
            } => {
                let fs: Vec<FieldDesc> = labels
                    .iter()
                    .map(|l| FieldDesc {
                        name: self.str(l),
                        ty: ptr::null(),
                    })
                    .collect();
                d.name = self.str(name);
                d.field_count = count(fs.len());
                d.fields = self.slice(fs);
            }
            _ => {}
        }
        let p = Box::into_raw(Box::new(d));
        self.types.push(p);
        p
    }

    fn slice<T: Sliced>(&mut self, items: Vec<T>) -> *const T {
        if items.is_empty() {
            return ptr::null();
        }
        let p = Box::into_raw(items.into_boxed_slice());
        T::keep(self, p);
        p.cast::<T>()
    }

    fn own(&mut self, d: ContractDesc) -> *const ContractDesc {
        let p = Box::into_raw(Box::new(d));
        self.contract = Some(p);
        p
    }
}

/// The element types the store keeps slices of.
trait Sliced: Sized {
    fn keep(store: &mut Store, p: *mut [Self]);
}

impl Sliced for FieldDesc {
    fn keep(store: &mut Store, p: *mut [Self]) {
        store.fields.push(p);
    }
}

impl Sliced for FuncDesc {
    fn keep(store: &mut Store, p: *mut [Self]) {
        store.funcs.push(p);
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // SAFETY: every pointer came from `Box::into_raw` in this store and is freed once, here;
        // no reference into the graph outlives the store, since the owner's accessors borrow it.
        unsafe {
            self.types.iter().for_each(|&p| free(p));
            self.fields.iter().for_each(|&p| free(p));
            self.funcs.iter().for_each(|&p| free(p));
            self.strings.iter().for_each(|&p| free(p));
            self.contract.into_iter().for_each(|p| free(p));
        }
    }
}

/// Reclaims an allocation leaked by `Box::into_raw`.
///
/// # Safety
/// `p` must come from `Box::into_raw` and not have been freed.
unsafe fn free<T: ?Sized>(p: *mut T) {
    // SAFETY: guaranteed by the caller.
    drop(unsafe { Box::from_raw(p) });
}
