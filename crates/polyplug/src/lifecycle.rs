//! Unload and reload of loaded bundles.
//!
//! Both run in two phases. Under the lifecycle lock the old providers are unpublished (unload)
//! or swapped for the new code (reload), so from then on no new call can reach the old code.
//! Then, with the lock released, the runtime waits until no guarded call is still inside the
//! old code ([`crate::registry::Retired::release`]) and only then asks the loader to release
//! it (`fini`, `dlclose`). Waiting outside the lock means a guarded call that is itself loading
//! or inspecting bundles cannot deadlock against the unload waiting for it.
//! See `docs/LIFECYCLE.md` for what each call path may assume.

use crate::contract::ContractInfo;
use crate::error::{ErrorKind, Result};
use crate::events::ReloadEvent;
use crate::guard;
use crate::inner::{unload_with, BundleRecord, Lifecycle};
use crate::load::check_declared;
use crate::registry::{Registration, Retired};
use crate::runtime::Runtime;
use crossbeam_epoch as epoch;
use polyplug_abi::{Handle, LogLevel, ReloadPhase};
use polyplug_loader::Manifest;
use std::ffi::c_void;

pub use crate::runtime::BundleId;

/// How [`Runtime::unload_bundle_with`] treats bundles that depend on the one unloaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnloadOptions {
    /// Unload the dependents first (transitively) instead of refusing.
    pub cascade: bool,
}

/// Old code that has been unpublished and waits to be released.
struct Retiring {
    retired: Retired,
    bundles: Vec<(BundleRecord, *mut c_void)>,
}

impl Retiring {
    /// Waits for in-flight guarded calls, then lets each loader release its old code.
    fn finish(self, rt: &Runtime) {
        self.retired.release();
        for (record, state) in self.bundles {
            unload_with(rt.inner(), &record.loader, &record.manifest.name, state);
        }
    }
}

impl Lifecycle {
    /// The bundles that must go before `id` can: those that require a contract which, once
    /// the bundles already chosen are gone, nothing else provides. Returned with `id` first
    /// and each dependent after what it depends on, so unloading runs in reverse.
    fn closure(&self, rt: &Runtime, id: BundleId) -> Vec<BundleId> {
        let guard = epoch::pin();
        let mut chosen = vec![id];
        let mut gone: Vec<Handle> = Vec::new();
        if let Some(b) = self.bundles.get(&id) {
            gone.extend(b.handles.iter().copied());
        }
        loop {
            let next = self.bundles.iter().find(|(bid, b)| {
                !chosen.contains(bid)
                    && b.manifest.requires.iter().any(|r| {
                        let mut any = false;
                        let mut all_gone = true;
                        rt.inner()
                            .registry
                            .find_all_with(r.key(), &r.version, &guard, |h| {
                                any = true;
                                all_gone &= gone.contains(&h);
                            });
                        any && all_gone
                    })
            });
            let Some((&bid, b)) = next else {
                return chosen;
            };
            chosen.push(bid);
            gone.extend(b.handles.iter().copied());
        }
    }
}

impl Runtime {
    /// Unloads bundle `id`, refusing if other bundles depend on it. See
    /// [`Runtime::unload_bundle_with`].
    pub fn unload_bundle(&self, id: BundleId) -> Result<()> {
        self.unload_bundle_with(id, UnloadOptions::default())
            .map(drop)
    }

    /// Unloads bundle `id` and returns the ids unloaded, in order.
    ///
    /// Its handles go stale at once: `resolve` reports a stale handle and a guarded call returns
    /// `StaleHandle`. The call returns after every guarded call still running the bundle's
    /// code has returned and the loader has released it (`fini`, library closed). Bundles
    /// that require a contract only this bundle provides block the unload with
    /// [`ErrorKind::HasDependents`], unless `opts.cascade` unloads them first.
    ///
    /// Cached interface pointers into the bundle must not be called after this starts: that
    /// path is the host's to quiesce (`docs/LIFECYCLE.md`).
    pub fn unload_bundle_with(&self, id: BundleId, opts: UnloadOptions) -> Result<Vec<BundleId>> {
        if guard::inside_call() {
            return Err(ErrorKind::InsideGuardedCall {
                operation: "unload a bundle",
            }
            .into());
        }
        let (order, retiring) = {
            let mut lc = self.inner().lifecycle()?;
            let lc = &mut lc.state;
            let name = match lc.bundles.get(&id) {
                Some(b) => b.manifest.name.clone(),
                None => return Err(ErrorKind::NoSuchBundle(id).into()),
            };
            let closure = lc.closure(self, id);
            if closure.len() > 1 && !opts.cascade {
                let dependents = closure[1..]
                    .iter()
                    .filter_map(|d| lc.bundles.get(d).map(|b| b.manifest.name.clone()))
                    .collect();
                return Err(ErrorKind::HasDependents {
                    bundle: name,
                    dependents,
                }
                .into());
            }
            let order: Vec<BundleId> = closure.into_iter().rev().collect();
            let mut handles = Vec::new();
            let mut bundles = Vec::new();
            for bid in &order {
                if let Some(mut b) = lc.bundles.remove(bid) {
                    handles.extend(b.handles.iter().copied());
                    lc.unloading.insert(b.manifest.name.clone());
                    let state = std::mem::replace(&mut b.state, std::ptr::null_mut());
                    bundles.push((b, state));
                }
            }
            let retired = self.inner().registry.remove(&handles);
            (order, Retiring { retired, bundles })
        };
        let names: Vec<String> = retiring
            .bundles
            .iter()
            .map(|(b, _)| b.manifest.name.clone())
            .collect();
        retiring.finish(self);
        if let Ok(mut lc) = self.inner().lifecycle() {
            for n in &names {
                lc.state.unloading.remove(n);
            }
        }
        for n in &names {
            self.inner()
                .log_with(LogLevel::Info, || format!("bundle `{n}` unloaded"));
        }
        Ok(order)
    }

    /// Reloads bundle `id` from disk while the host runs (only if the runtime was built with
    /// [`crate::RuntimeBuilder::hot_reload`]).
    ///
    /// It re-reads `bundle.toml`, loads the new code through the loader (the native loader maps
    /// a fresh copy of the library), and checks that it provides the same contracts with
    /// compatible versions (same major, minor not lower, no function removed). Then every
    /// provider's interface is swapped in place: handles stay valid, revision words change,
    /// and a guarded call runs either the old or the new code, never a released one. The old
    /// code is released once no guarded call is inside it. On any failure the old version keeps
    /// serving and the error says why. Phases go to the `on_reload` observer.
    pub fn reload_bundle(&self, id: BundleId) -> Result<()> {
        if !self.inner().hot_reload {
            return Err(ErrorKind::ReloadDisabled.into());
        }
        if guard::inside_call() {
            return Err(ErrorKind::InsideGuardedCall {
                operation: "reload a bundle",
            }
            .into());
        }
        let name = {
            let lc = self.inner().lifecycle()?;
            match lc.state.bundles.get(&id) {
                Some(b) => b.manifest.name.clone(),
                None => return Err(ErrorKind::NoSuchBundle(id).into()),
            }
        };
        let event = |phase, error| {
            self.inner().reload_sink.emit(&ReloadEvent {
                bundle: id,
                name: &name,
                phase,
                error,
            })
        };
        event(ReloadPhase::Preparing, None);
        match self.swap_code(id) {
            Ok(retiring) => {
                retiring.finish(self);
                self.inner()
                    .log_with(LogLevel::Info, || format!("bundle `{name}` reloaded"));
                event(ReloadPhase::Reloaded, None);
                Ok(())
            }
            Err(e) => {
                self.inner().log_with(LogLevel::Warn, || {
                    format!("reload of bundle `{name}` failed: {e}")
                });
                event(ReloadPhase::Failed, Some(&e));
                Err(e)
            }
        }
    }

    /// Phase one of a reload: load the new code and swap it in. Returns the old code to retire.
    fn swap_code(&self, id: BundleId) -> Result<Retiring> {
        let mut lc = self.inner().lifecycle()?;
        let lc = &mut lc.state;
        let record = lc.bundles.get(&id).ok_or(ErrorKind::NoSuchBundle(id))?;
        let manifest = Manifest::read(&record.manifest.dir)?;
        let incompatible = |reason: String| ErrorKind::ReloadIncompatible {
            bundle: record.manifest.name.clone(),
            reason,
        };
        if manifest.name != record.manifest.name {
            return Err(
                incompatible(format!("bundle.toml now names it `{}`", manifest.name)).into(),
            );
        }
        if manifest.loader != record.manifest.loader {
            return Err(incompatible(format!(
                "bundle.toml now asks for loader `{}` instead of `{}`",
                manifest.loader, record.manifest.loader
            ))
            .into());
        }
        self.check_requirements(&manifest)?;
        let loader = record.loader.clone();
        let (state, mut txn) = self.run_loader(&loader, &manifest, Some(record.state))?;
        let discard = |state| unload_with(self.inner(), &loader, &manifest.name, state);
        if let Err(e) = check_declared(&manifest, &txn) {
            discard(state);
            return Err(e);
        }
        // Pair every old provider with its replacement, by contract.
        let guard = epoch::pin();
        let mut pending = std::mem::take(&mut txn.pending);
        let mut swaps = Vec::with_capacity(record.handles.len());
        for &h in &record.handles {
            let Some(old) = self.inner().registry.resolve(h, &guard) else {
                discard(state);
                return Err(ErrorKind::StaleHandle { handle: h }.into());
            };
            let old_c = &old.contract;
            let Some(at) = pending.iter().position(|p| p.contract.id == old_c.id) else {
                discard(state);
                return Err(incompatible(format!(
                    "the new code no longer provides `{}`",
                    old_c.as_ref()
                ))
                .into());
            };
            let new_c = &pending[at].contract;
            let reason = if !new_c.version.satisfies(&old_c.version) {
                Some(format!(
                    "`{}` goes from version {} to {}: a reload may only raise the minor or patch version",
                    old_c.name, old_c.version, new_c.version
                ))
            } else {
                changed_function(old_c, new_c).map(|what| {
                    format!(
                        "`{}` {what}; a reload may only append functions",
                        old_c.name
                    )
                })
            };
            if let Some(reason) = reason {
                discard(state);
                return Err(incompatible(reason).into());
            }
            swaps.push((
                h,
                Registration {
                    provider: pending.swap_remove(at),
                    priority: manifest.priority,
                },
            ));
        }
        if let Some(extra) = pending.first() {
            let extra = extra.contract.as_ref();
            discard(state);
            return Err(incompatible(format!(
                "the new code adds `{extra}`, which the loaded version did not provide; unload and load it instead"
            )).into());
        }
        drop(guard);
        let retired = match self.inner().registry.replace(id, swaps) {
            Ok(r) => r,
            Err(e) => {
                discard(state);
                return Err(e);
            }
        };
        let record = lc.bundles.get_mut(&id).ok_or(ErrorKind::NoSuchBundle(id))?;
        let old_state = std::mem::replace(&mut record.state, state);
        let old_record = BundleRecord {
            manifest: std::mem::replace(&mut record.manifest, manifest),
            loader: record.loader.clone(),
            state: std::ptr::null_mut(),
            handles: Vec::new(),
        };
        Ok(Retiring {
            retired,
            bundles: vec![(old_record, old_state)],
        })
    }
}

/// How the new contract's functions break the old ones, if they do: a function removed, or one
/// whose name, parameter or result types (not just their layouts) changed. Appended functions
/// are compatible: a caller built for the old contract never calls them.
fn changed_function(old: &ContractInfo, new: &ContractInfo) -> Option<String> {
    let (old_fns, new_fns) = (
        &old.model.contract().functions,
        &new.model.contract().functions,
    );
    if new_fns.len() < old_fns.len() {
        return Some(format!(
            "goes from {} functions to {}",
            old_fns.len(),
            new_fns.len()
        ));
    }
    old_fns
        .iter()
        .zip(new_fns)
        .find(|(o, n)| o != n)
        .map(|(o, n)| {
            format!(
                "changes `{}` into `{}`",
                o.wit_signature(),
                n.wit_signature()
            )
        })
}
