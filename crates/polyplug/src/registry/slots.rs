//! The slot table: a segmented array whose slots never move, so `resolve` is one index
//! computation and two loads, and a slot's revision word has a stable address for the
//! registry's whole life.

use super::entry::ProviderEntry;
use crossbeam_epoch::Atomic;
use polyplug_abi::Interface;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

/// Slots in the first segment; segment `k` holds `FIRST << k`.
const FIRST_BITS: u32 = 6;
/// Enough segments for every `u32` index.
const SEGMENTS: usize = 27;

/// One provider slot.
pub(crate) struct Slot {
    /// The current occupant, or null. Retired occupants are freed after the epoch grace period.
    pub(crate) entry: Atomic<ProviderEntry>,
    /// Bumped whenever the occupant changes (register, reload, unload): a cached caller
    /// re-validates with one acquire load and compare.
    pub(crate) revision: AtomicU32,
    /// Generation the next occupant gets. Written only under the registry's writer lock.
    pub(crate) next_generation: AtomicU32,
    /// The occupant's generation (0 while empty) and its interface, mirrored out of the entry
    /// so the cached path can resolve without pinning: it reads them as a seqlock and never
    /// dereferences the entry.
    pub(crate) live_generation: AtomicU32,
    pub(crate) iface: AtomicPtr<Interface>,
}

impl Slot {
    /// The occupant's interface if `generation` is still its generation. Lock-free and
    /// pin-free: the generation is read before and after the pointer, and writers clear the
    /// generation before they change the pointer, so a torn read is always refused.
    #[inline]
    pub(crate) fn live_iface(&self, generation: u32) -> Option<*const Interface> {
        if generation == 0 || self.live_generation.load(Ordering::Acquire) != generation {
            return None;
        }
        let iface = self.iface.load(Ordering::Acquire);
        (self.live_generation.load(Ordering::Acquire) == generation && !iface.is_null())
            .then_some(iface as *const Interface)
    }

    fn new() -> Slot {
        Slot {
            entry: Atomic::null(),
            revision: AtomicU32::new(0),
            next_generation: AtomicU32::new(1),
            live_generation: AtomicU32::new(0),
            iface: AtomicPtr::new(std::ptr::null_mut()),
        }
    }
}

/// See the module docs.
pub(crate) struct SlotTable {
    segments: [AtomicPtr<Slot>; SEGMENTS],
}

#[inline]
fn locate(index: u32) -> (usize, usize, usize) {
    let biased = index as u64 + (1 << FIRST_BITS);
    let msb = 63 - biased.leading_zeros();
    let segment = (msb - FIRST_BITS) as usize;
    (segment, (biased - (1u64 << msb)) as usize, 1usize << msb)
}

impl SlotTable {
    pub(crate) fn new() -> SlotTable {
        SlotTable {
            segments: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
        }
    }

    /// The slot at `index`, if its segment exists. Lock-free.
    #[inline]
    pub(crate) fn get(&self, index: u32) -> Option<&Slot> {
        let (segment, offset, _) = locate(index);
        let base = self.segments[segment].load(Ordering::Acquire);
        if base.is_null() {
            return None;
        }
        // SAFETY: a published segment holds `len` initialised slots and is never freed before
        // the table; `offset < len` by construction of `locate`.
        Some(unsafe { &*base.add(offset) })
    }

    /// The slot at `index`, allocating its segment. Called only under the writer lock.
    pub(crate) fn get_or_grow(&self, index: u32) -> &Slot {
        let (segment, offset, len) = locate(index);
        let mut base = self.segments[segment].load(Ordering::Acquire);
        if base.is_null() {
            let fresh: Box<[Slot]> = (0..len).map(|_| Slot::new()).collect();
            base = Box::into_raw(fresh) as *mut Slot;
            self.segments[segment].store(base, Ordering::Release);
        }
        // SAFETY: as in `get`; the segment was published above if it was missing.
        unsafe { &*base.add(offset) }
    }

    /// Calls `f` on every slot of every allocated segment.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Slot)) {
        for (segment, ptr) in self.segments.iter().enumerate() {
            let base = ptr.load(Ordering::Acquire);
            if base.is_null() {
                continue;
            }
            let len = 1usize << (segment as u32 + FIRST_BITS);
            // SAFETY: a published segment holds `len` initialised slots.
            unsafe { std::slice::from_raw_parts(base, len) }
                .iter()
                .for_each(&mut f);
        }
    }
}

impl Drop for SlotTable {
    fn drop(&mut self) {
        for (segment, ptr) in self.segments.iter_mut().enumerate() {
            let base = *ptr.get_mut();
            if base.is_null() {
                continue;
            }
            let len = 1usize << (segment as u32 + FIRST_BITS);
            // SAFETY: the segment was made by `Box::into_raw` of a `len`-slot boxed slice, and
            // `&mut self` proves no reader remains. Occupants were dropped by the registry.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(base, len)) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_covers_every_index_once() {
        assert_eq!(locate(0), (0, 0, 64));
        assert_eq!(locate(63), (0, 63, 64));
        assert_eq!(locate(64), (1, 0, 128));
        assert_eq!(locate(191), (1, 127, 128));
        assert_eq!(locate(192), (2, 0, 256));
        let (s, o, l) = locate(u32::MAX);
        assert!(s < SEGMENTS && o < l);
    }

    #[test]
    fn slots_are_stable() {
        let t = SlotTable::new();
        assert!(t.get(5).is_none());
        let a = t.get_or_grow(5) as *const Slot;
        let _ = t.get_or_grow(1000);
        assert_eq!(t.get(5).map(|s| s as *const Slot), Some(a));
        let mut n = 0;
        t.for_each(|_| n += 1);
        // Index 5 lives in segment 0 (64 slots), index 1000 in segment 4 (1024 slots).
        assert_eq!(n, 64 + 1024);
    }
}
