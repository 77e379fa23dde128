//! The provider registry.
//!
//! * **Reads take no lock.** `find` reads an immutable [`Snapshot`] published through an
//!   epoch-managed atomic pointer; `resolve` indexes a [`SlotTable`] whose slots never move and
//!   checks the handle's generation against the occupant's. Both only pin the epoch (a
//!   thread-local operation), so they scale with threads.
//! * **Writes are serialised** by one mutex: a writer validates everything first, then fills the
//!   slots, then publishes a new snapshot, so all providers of a transaction appear at once or
//!   none do. Retired snapshots and entries are freed after the epoch grace period.

mod entry;
mod slots;
mod snapshot;

pub use entry::{BundleId, OwnerId, HOST_OWNER};
pub(crate) use entry::{PendingProvider, ProviderEntry};

use crate::contract::ContractKey;
use crate::error::{Error, ErrorKind};
use crossbeam_epoch::{self as epoch, Atomic, Guard, Owned};
use polyplug_abi::{Handle, Interface, Version};
use slots::SlotTable;
use snapshot::{ProviderRef, Snapshot};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

struct WriterState {
    free: Vec<u32>,
    next_index: u32,
    seq: u64,
}

/// See the module docs.
pub(crate) struct Registry {
    slots: SlotTable,
    snapshot: Atomic<Snapshot>,
    writer: Mutex<WriterState>,
}

/// A transaction's provider with the priority and owner it is registered under.
pub(crate) struct Registration {
    pub(crate) provider: PendingProvider,
    pub(crate) priority: i32,
}

/// Entries unpublished by [`Registry::remove`] or [`Registry::replace`], not yet freed.
///
/// [`Retired::release`] (or dropping it) waits until no guarded call can still be inside one
/// of them, then hands them to the epoch collector; only after that may the code they point
/// into (a library, a VM) be released.
#[must_use = "retired entries must be released before their library is closed"]
#[derive(Default)]
pub(crate) struct Retired {
    entries: Vec<*const ProviderEntry>,
}

// SAFETY: the entries are unreachable from the registry; whoever holds `Retired` owns them.
unsafe impl Send for Retired {}

impl Retired {
    /// Waits out in-flight guarded calls, then schedules the entries to be freed after the
    /// epoch grace period (pinned readers of their metadata finish first).
    pub(crate) fn release(mut self) {
        let entries = self.take();
        if entries.is_empty() {
            return;
        }
        crate::guard::synchronize();
        let guard = epoch::pin();
        for e in entries {
            // SAFETY: unreachable for new readers; pinned readers finish before the free, and
            // each pointer is retired exactly once.
            unsafe { guard.defer_destroy(epoch::Shared::from(e)) };
        }
        guard.flush();
    }

    fn take(&mut self) -> Vec<*const ProviderEntry> {
        std::mem::take(&mut self.entries)
    }
}

impl Drop for Retired {
    fn drop(&mut self) {
        if !self.entries.is_empty() {
            Retired {
                entries: self.take(),
            }
            .release();
        }
    }
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            slots: SlotTable::new(),
            snapshot: Atomic::new(Snapshot::default()),
            writer: Mutex::new(WriterState {
                free: Vec::new(),
                next_index: 0,
                seq: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, WriterState> {
        // A panic while holding the lock cannot leave the state half-published (publication is
        // the last step), so a poisoned lock is still consistent.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[inline]
    fn snapshot<'g>(&self, guard: &'g Guard) -> &'g Snapshot {
        // SAFETY: the snapshot pointer is never null (set in `new`, replaced only by non-null
        // snapshots), and a snapshot loaded under `guard` is not freed while it is pinned.
        unsafe { self.snapshot.load(Ordering::Acquire, guard).deref() }
    }

    /// The highest-priority provider of `key` satisfying `min`.
    #[inline]
    pub(crate) fn find(
        &self,
        key: ContractKey<'_>,
        min: &Version,
        guard: &Guard,
    ) -> Option<Handle> {
        self.snapshot(guard).find(key, min)
    }

    /// Every provider of `key` satisfying `min`, highest priority first.
    pub(crate) fn find_all_with(
        &self,
        key: ContractKey<'_>,
        min: &Version,
        guard: &Guard,
        mut f: impl FnMut(Handle),
    ) {
        self.snapshot(guard)
            .providers(key)
            .iter()
            .filter(|p| p.version.satisfies(min))
            .for_each(|p| f(p.handle));
    }

    /// The live provider named by `handle`, or `None` if the handle is stale or invalid. O(1).
    #[inline]
    pub(crate) fn resolve<'g>(
        &self,
        handle: Handle,
        guard: &'g Guard,
    ) -> Option<&'g ProviderEntry> {
        let slot = self.slots.get(handle.index)?;
        // SAFETY: an occupant loaded under `guard` is freed only after the guard is released.
        let entry = unsafe { slot.entry.load(Ordering::Acquire, guard).as_ref() }?;
        (entry.handle.generation == handle.generation).then_some(entry)
    }

    /// The interface and revision word of the live provider `handle` names, without pinning:
    /// the cached path. The interface stays valid until the provider is unregistered (the
    /// caller re-validates with the revision word); the revision word for the registry's life.
    /// Returns the revision seen too, read *before* the interface: if the interface changes
    /// in between, the caller holds a stale revision and re-resolves, never the reverse.
    #[inline]
    pub(crate) fn resolve_cached(
        &self,
        handle: Handle,
    ) -> Option<(*const Interface, &AtomicU32, u32)> {
        let slot = self.slots.get(handle.index)?;
        let seen = slot.revision.load(Ordering::Acquire);
        Some((slot.live_iface(handle.generation)?, &slot.revision, seen))
    }

    /// Registers every provider of a transaction, or none. Returns their handles in order.
    pub(crate) fn commit(
        &self,
        owner: OwnerId,
        owner_name: &str,
        regs: Vec<Registration>,
    ) -> Result<Vec<Handle>, Error> {
        let mut w = self.lock();
        let guard = epoch::pin();
        let current = self.snapshot(&guard);
        // Validate everything before touching a slot: a failure leaves no trace.
        for (i, r) in regs.iter().enumerate() {
            let c = &r.provider.contract;
            if let Some(existing) = current.by_id.get(&c.id) {
                if *existing.name != *c.name {
                    return Err(ErrorKind::ContractIdCollision {
                        contract: c.name.clone(),
                        existing: existing.name.to_string(),
                        id: c.id,
                    }
                    .into());
                }
                if existing.providers.iter().any(|p| p.owner == owner) {
                    return Err(ErrorKind::DuplicateProvider {
                        owner: owner_name.to_owned(),
                        contract: c.name.clone(),
                    }
                    .into());
                }
            }
            for earlier in &regs[..i] {
                let e = &earlier.provider.contract;
                if e.id == c.id && e.name != c.name {
                    return Err(ErrorKind::ContractIdCollision {
                        contract: c.name.clone(),
                        existing: e.name.clone(),
                        id: c.id,
                    }
                    .into());
                }
                if e.id == c.id {
                    return Err(ErrorKind::DuplicateProvider {
                        owner: owner_name.to_owned(),
                        contract: c.name.clone(),
                    }
                    .into());
                }
            }
        }
        let fresh_needed = regs.len().saturating_sub(w.free.len());
        if (w.next_index as u64) + fresh_needed as u64 > u32::MAX as u64 {
            return Err(
                ErrorKind::InvalidArgument("the registry is full (2^32 providers)".into()).into(),
            );
        }
        let mut next = current.clone();
        let mut handles = Vec::with_capacity(regs.len());
        for r in regs {
            let index = match w.free.pop() {
                Some(i) => i,
                None => {
                    w.next_index += 1;
                    w.next_index - 1
                }
            };
            let slot = self.slots.get_or_grow(index);
            let generation = slot.next_generation.load(Ordering::Relaxed);
            // Generation 0 is never issued, so the all-zero handle stays invalid after wrap-around.
            slot.next_generation
                .store(generation.wrapping_add(1).max(1), Ordering::Relaxed);
            let handle = Handle { index, generation };
            w.seq += 1;
            let c = &r.provider.contract;
            next.insert(
                &c.name,
                c.id,
                ProviderRef {
                    handle,
                    version: c.version,
                    priority: r.priority,
                    owner,
                    seq: w.seq,
                },
            );
            let entry = Owned::new(ProviderEntry::new(r.provider, r.priority, owner, handle));
            let iface = &entry.iface as *const Interface as *mut Interface;
            slot.entry.store(entry, Ordering::Release);
            slot.iface.store(iface, Ordering::Release);
            slot.live_generation.store(generation, Ordering::Release);
            slot.revision.fetch_add(1, Ordering::Release);
            handles.push(handle);
        }
        self.publish(next, &guard);
        Ok(handles)
    }

    /// Unregisters the providers named by `handles` (stale ones are skipped): their handles go
    /// stale and their slots' revision words change at once. The entries are handed back as
    /// [`Retired`]; releasing it waits for in-flight guarded calls, then frees them after the
    /// epoch grace period.
    pub(crate) fn remove(&self, handles: &[Handle]) -> Retired {
        self.unpublish(handles, &epoch::pin())
    }

    fn unpublish(&self, handles: &[Handle], guard: &Guard) -> Retired {
        let mut w = self.lock();
        let mut next = self.snapshot(guard).clone();
        let mut retired = Retired::default();
        for &h in handles {
            let Some(slot) = self.slots.get(h.index) else {
                continue;
            };
            let current = slot.entry.load(Ordering::Acquire, guard);
            // SAFETY: pinned (or exclusive); entries are only freed after the grace period.
            match unsafe { current.as_ref() } {
                Some(e) if e.handle == h => next.remove(e.contract.id, h),
                _ => continue,
            }
            // Generation first: a pin-free reader that sees the new pointer then sees it too.
            slot.live_generation.store(0, Ordering::Release);
            slot.iface.store(std::ptr::null_mut(), Ordering::Release);
            slot.entry.store(epoch::Shared::null(), Ordering::Release);
            slot.revision.fetch_add(1, Ordering::Release);
            retired.entries.push(current.as_raw());
            w.free.push(h.index);
        }
        self.publish(next, guard);
        retired
    }

    /// Replaces the occupants of `handles` with new providers in place (a reload): each handle
    /// stays valid, its slot's interface pointer is swapped atomically and its revision word
    /// bumped. All or nothing: a stale handle fails before any slot changes.
    pub(crate) fn replace(
        &self,
        owner: OwnerId,
        swaps: Vec<(Handle, Registration)>,
    ) -> Result<Retired, Error> {
        let guard = epoch::pin();
        let mut w = self.lock();
        let mut next = self.snapshot(&guard).clone();
        for (h, r) in &swaps {
            let slot = self.slots.get(h.index);
            // SAFETY: pinned.
            let live =
                slot.and_then(|s| unsafe { s.entry.load(Ordering::Acquire, &guard).as_ref() });
            match live {
                Some(e)
                    if e.handle == *h
                        && e.owner == owner
                        && e.contract.id == r.provider.contract.id => {}
                _ => return Err(ErrorKind::StaleHandle { handle: *h }.into()),
            }
        }
        let mut retired = Retired::default();
        for (h, r) in swaps {
            let Some(slot) = self.slots.get(h.index) else {
                continue;
            };
            w.seq += 1;
            let c = &r.provider.contract;
            next.remove(c.id, h);
            next.insert(
                &c.name,
                c.id,
                ProviderRef {
                    handle: h,
                    version: c.version,
                    priority: r.priority,
                    owner,
                    seq: w.seq,
                },
            );
            let entry = Owned::new(ProviderEntry::new(r.provider, r.priority, owner, h));
            let iface = &entry.iface as *const Interface as *mut Interface;
            let old = slot.entry.swap(entry, Ordering::AcqRel, &guard);
            // The generation is unchanged, so a pin-free reader gets either table; both stay
            // valid until the retired one is released.
            slot.iface.store(iface, Ordering::Release);
            slot.revision.fetch_add(1, Ordering::Release);
            retired.entries.push(old.as_raw());
        }
        self.publish(next, &guard);
        Ok(retired)
    }

    /// Like [`Registry::remove`], but frees the entries at once. `&mut self` proves that no
    /// other thread can be reading, so there is no grace period to wait for: used at teardown,
    /// where deferring would leave the memory to the global collector after the runtime is gone.
    pub(crate) fn remove_now(&mut self, handles: &[Handle]) {
        // SAFETY: exclusive access; with the unprotected guard the old snapshot is freed at once.
        let mut retired = self.unpublish(handles, unsafe { epoch::unprotected() });
        for e in retired.take() {
            // SAFETY: exclusive access: nothing can hold a reference into a removed entry, and
            // each retired pointer came from `Owned::new` and is freed exactly once.
            drop(unsafe { Box::from_raw(e as *mut ProviderEntry) });
        }
    }

    fn publish(&self, next: Snapshot, guard: &Guard) {
        let old = self
            .snapshot
            .swap(Owned::new(next), Ordering::AcqRel, guard);
        // SAFETY: the old snapshot is unreachable for new readers; pinned ones finish first.
        unsafe { guard.defer_destroy(old) };
        guard.flush();
    }

    /// The number of live providers.
    pub(crate) fn len(&self) -> usize {
        let guard = epoch::pin();
        self.snapshot(&guard)
            .by_id
            .values()
            .map(|c| c.providers.len())
            .sum()
    }

    /// Every live provider, for introspection.
    pub(crate) fn for_each_provider(&self, mut f: impl FnMut(&ProviderEntry)) {
        let guard = epoch::pin();
        self.slots.for_each(|slot| {
            // SAFETY: pinned.
            if let Some(e) = unsafe { slot.entry.load(Ordering::Acquire, &guard).as_ref() } {
                f(e)
            }
        });
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // SAFETY: `&mut self` proves no reader is left, so nothing can observe these pointers.
        unsafe {
            let unprotected = epoch::unprotected();
            let snap = self
                .snapshot
                .swap(epoch::Shared::null(), Ordering::AcqRel, unprotected);
            if !snap.is_null() {
                drop(snap.into_owned());
            }
            self.slots.for_each(|slot| {
                let e = slot
                    .entry
                    .swap(epoch::Shared::null(), Ordering::AcqRel, unprotected);
                if !e.is_null() {
                    drop(e.into_owned());
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyplug_abi::{CallCtx, ContractDesc, ContractFn, FuncDesc};
    use std::ffi::c_void;

    static FUNCS: [FuncDesc; 1] = [FuncDesc::new("ping", &[], None)];
    static A: ContractDesc = ContractDesc::new("t:r/a", Version::new(1, 0, 0), &FUNCS);
    unsafe extern "C" fn ping(
        _: *mut c_void,
        _: *const c_void,
        _: *mut c_void,
        _: *mut CallCtx,
    ) -> u32 {
        0
    }
    static TABLE: [Option<ContractFn>; 1] = [Some(ping)];
    static IFACE: Interface = Interface {
        struct_size: std::mem::size_of::<Interface>() as u32,
        func_count: 1,
        contract: &A,
        funcs: TABLE.as_ptr(),
        provider: std::ptr::null_mut(),
        create_instance: None,
        destroy_instance: None,
    };

    fn registration() -> Registration {
        // SAFETY: a static, valid interface.
        let provider = unsafe { PendingProvider::from_peer(&IFACE, "test") }.expect("valid");
        Registration {
            provider,
            priority: 0,
        }
    }

    #[test]
    fn reused_slots_refuse_old_handles_on_both_paths() {
        let reg = Registry::new();
        let first = reg.commit(1, "one", vec![registration()]).expect("commit")[0];
        let (_, rev, seen) = reg.resolve_cached(first).expect("live");
        reg.remove(&[first]).release();
        assert!(reg.resolve_cached(first).is_none());
        assert!(reg.resolve(first, &epoch::pin()).is_none());
        assert_ne!(rev.load(Ordering::Acquire), seen, "the revision word moved");
        let second = reg.commit(2, "two", vec![registration()]).expect("commit")[0];
        assert_eq!(second.index, first.index, "the freed slot is reused");
        assert_ne!(second.generation, first.generation);
        assert!(
            reg.resolve_cached(first).is_none(),
            "the old handle stays stale"
        );
        assert!(reg.resolve_cached(second).is_some());
        assert!(reg.resolve(second, &epoch::pin()).is_some());
        assert_eq!(reg.len(), 1);
    }
}
