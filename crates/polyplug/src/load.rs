//! Adding loaders and loading bundles: the pipeline from a bundle directory to committed
//! providers (`docs/ARCHITECTURE.md`, "Loading a bundle").

use crate::call::CallContext;
use crate::contract::ContractRef;
use crate::error::{ErrorKind, Result};
use crate::host_api::Transaction;
use crate::inner::{unload_with, BundleId, BundleRecord};
use crate::loader::LoaderEntry;
use crate::registry::Registration;
use crate::runtime::Runtime;
use crossbeam_epoch as epoch;
use polyplug_abi::{BundleInfo, LoaderVtable, LogLevel, Status, Str};
use polyplug_loader::{LoaderTable, Manifest};
use std::ffi::c_void;
use std::path::Path;
use std::sync::Arc;

impl Runtime {
    /// Adds a loader by its vtable. The runtime copies the table.
    ///
    /// # Safety
    /// `vtable` must be null or valid, and the functions and state it names must stay valid
    /// until the runtime is dropped.
    pub unsafe fn add_loader(&self, vtable: *const LoaderVtable) -> Result<()> {
        // SAFETY: forwarded to the caller.
        let entry = unsafe { LoaderEntry::new(vtable, None) }?;
        // A refused table stays the caller's (it may share its state with a registered one,
        // the same loader added twice): it must not be destroyed here.
        self.insert_loader(entry, LoaderEntry::disown)
    }

    /// Adds a loader built with the loader kit (`polyplug-loader`), taking ownership of it:
    /// the runtime destroys it when dropped, or at once if it is refused.
    pub fn add_loader_table(&self, table: LoaderTable) -> Result<()> {
        // SAFETY: the kit's table and its state live until `destroy`, which now only the
        // runtime calls (or `table`'s drop, if the table is refused).
        let entry = unsafe { LoaderEntry::new(table.as_ptr(), None) }?;
        // Refused, the entry gives the table back and `table`'s drop destroys it, once.
        self.insert_loader(entry, LoaderEntry::disown)?;
        let _ = table.into_raw();
        Ok(())
    }

    /// Adds a loader from a library exporting `pp_loader_entry`. The table the entry hands out
    /// belongs to the runtime: it is destroyed when the runtime is dropped, or at once if the
    /// loader is refused (an invalid table, or a name already taken).
    pub fn add_loader_library(&self, path: impl AsRef<Path>) -> Result<()> {
        let entry = LoaderEntry::from_library(path.as_ref())?;
        self.insert_loader(entry, drop)
    }

    /// Registers a validated loader, or hands it to `refused` (which disowns or destroys it)
    /// and says why.
    fn insert_loader(&self, entry: LoaderEntry, refused: impl FnOnce(LoaderEntry)) -> Result<()> {
        let mut lc = match self.inner().lifecycle() {
            Ok(lc) => lc,
            Err(e) => {
                refused(entry);
                return Err(e);
            }
        };
        if lc.state.loaders.contains_key(&entry.name) {
            let e = ErrorKind::LoaderAlreadyExists {
                name: entry.name.clone(),
            };
            refused(entry);
            return Err(e.into());
        }
        self.inner()
            .log_with(LogLevel::Debug, || format!("loader `{}` added", entry.name));
        lc.state.loaders.insert(entry.name.clone(), Arc::new(entry));
        Ok(())
    }

    /// Names of the registered loaders.
    pub fn loaders(&self) -> Vec<String> {
        match self.inner().lifecycle() {
            Ok(lc) => lc.state.loaders.keys().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Loads the bundle in directory `dir`: reads `bundle.toml`, checks its requirements, runs
    /// its loader, checks that what it registered is what it declared, and registers all its
    /// providers at once. On any failure nothing stays registered or loaded.
    pub fn load_bundle(&self, dir: impl AsRef<Path>) -> Result<BundleId> {
        let manifest = Manifest::read(dir.as_ref())?;
        let mut lc = self.inner().lifecycle()?;
        if lc
            .state
            .bundles
            .values()
            .any(|b| b.manifest.name == manifest.name)
        {
            return Err(ErrorKind::BundleAlreadyLoaded {
                name: manifest.name,
            }
            .into());
        }
        if lc.state.unloading.contains(&manifest.name) {
            return Err(ErrorKind::BundleUnloading {
                name: manifest.name,
            }
            .into());
        }
        let loader = lc
            .state
            .loaders
            .get(&manifest.loader)
            .cloned()
            .ok_or_else(|| ErrorKind::UnknownLoader {
                bundle: manifest.name.clone(),
                loader: manifest.loader.clone(),
            })?;
        self.check_requirements(&manifest)?;
        let (state, mut txn) = self.run_loader(&loader, &manifest, None)?;
        let unload = |state| unload_with(self.inner(), &loader, &manifest.name, state);
        if let Err(e) = check_declared(&manifest, &txn) {
            unload(state);
            return Err(e);
        }
        let id = lc.state.next_bundle + 1;
        let regs = std::mem::take(&mut txn.pending)
            .into_iter()
            .map(|provider| Registration {
                provider,
                priority: manifest.priority,
            })
            .collect();
        let handles = match self.inner().registry.commit(id, &manifest.name, regs) {
            Ok(h) => h,
            Err(e) => {
                unload(state);
                return Err(e);
            }
        };
        lc.state.next_bundle = id;
        self.inner().log_with(LogLevel::Info, || {
            format!(
                "bundle `{}` {} loaded with {} provider(s)",
                manifest.name,
                manifest.version,
                handles.len()
            )
        });
        lc.state.bundles.insert(
            id,
            BundleRecord {
                manifest,
                loader,
                state,
                handles,
            },
        );
        Ok(id)
    }

    /// Fails unless every contract the manifest requires has a provider.
    pub(crate) fn check_requirements(&self, manifest: &Manifest) -> Result<()> {
        let guard = epoch::pin();
        for r in &manifest.requires {
            if self
                .inner()
                .registry
                .find(r.key(), &r.version, &guard)
                .is_none()
            {
                return Err(ErrorKind::MissingDependency {
                    bundle: manifest.name.clone(),
                    contract: r.to_string(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Runs a loader's `load` (or, with the old bundle state, its `reload` when it has one)
    /// through its vtable; returns its new bundle state and the transaction.
    pub(crate) fn run_loader(
        &self,
        loader: &LoaderEntry,
        m: &Manifest,
        old: Option<*mut c_void>,
    ) -> Result<(*mut c_void, Transaction)> {
        let utf8 = |p: &Path| {
            p.to_str().map(str::to_owned).ok_or_else(|| {
                ErrorKind::InvalidArgument(format!("path {} is not UTF-8", p.display()))
            })
        };
        let (dir, entry) = (utf8(&m.dir)?, utf8(&m.entry)?);
        let info = BundleInfo {
            struct_size: std::mem::size_of::<BundleInfo>() as u32,
            flags: 0,
            name: Str::new(&m.name),
            version: m.version,
            dir: Str::new(&dir),
            entry: Str::new(&entry),
            manifest: Str::new(&m.text),
        };
        let mut txn = Transaction::new(&m.name);
        let mut cx = CallContext::new(self.inner().call_arena_size, self.host_api())?;
        let mut state: *mut c_void = std::ptr::null_mut();
        let vt = &loader.vtable;
        let raw = match (old, vt.reload, vt.load) {
            // SAFETY: the loader's validated vtable, called with pointers that live for the
            // call; `old` is this loader's state for the bundle.
            (Some(old), Some(reload), _) => unsafe {
                reload(
                    vt.state,
                    self.host_api(),
                    &info,
                    old,
                    txn.as_registrar(),
                    &mut state,
                    cx.begin(),
                )
            },
            // A loader without `reload` reloads by loading the bundle afresh.
            // SAFETY: as above.
            (_, _, Some(load)) => unsafe {
                load(
                    vt.state,
                    self.host_api(),
                    &info,
                    txn.as_registrar(),
                    &mut state,
                    cx.begin(),
                )
            },
            _ => return Err(ErrorKind::InvalidArgument("loader without load".into()).into()),
        };
        let status = Status::from_raw(raw);
        let failed = match (status, txn.error.take()) {
            (Status::Ok, None) => None,
            (_, Some(e)) => Some(e),
            (s, None) => Some(
                ErrorKind::LoaderFailed {
                    loader: loader.name.clone(),
                    bundle: m.name.clone(),
                    status: s,
                    message: cx
                        .error_message()
                        .unwrap_or_else(|| s.description().to_string_lossy().into_owned()),
                }
                .into(),
            ),
        };
        if let Some(e) = failed {
            if status == Status::Ok {
                // The loader succeeded but a registration was refused: release what it loaded.
                unload_with(self.inner(), loader, &m.name, state);
            }
            self.inner().log_with(LogLevel::Warn, || {
                format!("bundle `{}` failed to load: {e}", m.name)
            });
            return Err(e);
        }
        Ok((state, txn))
    }
}

/// Checks that a transaction registered exactly the contracts the manifest declares.
pub(crate) fn check_declared(m: &Manifest, txn: &Transaction) -> Result<()> {
    let registered: Vec<ContractRef> = txn.pending.iter().map(|p| p.contract.as_ref()).collect();
    let missing: Vec<String> = m
        .provides
        .iter()
        .filter(|d| !registered.contains(d))
        .map(|d| d.to_string())
        .collect();
    let mut unexpected: Vec<String> = registered
        .iter()
        .filter(|r| !m.provides.contains(r))
        .map(|r| r.to_string())
        .collect();
    unexpected.dedup();
    if missing.is_empty() && unexpected.is_empty() {
        Ok(())
    } else {
        Err(ErrorKind::ProvidersMismatch {
            bundle: m.name.clone(),
            missing,
            unexpected,
        }
        .into())
    }
}
