//! The immutable lookup index that `find` reads without a lock: contract id → providers,
//! ordered by priority. Writers build a new snapshot and publish it atomically.

use crate::contract::ContractKey;
use polyplug_abi::{Handle, Version};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Contract ids are already FNV hashes: hashing them again would only cost time.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, id: u64) {
        self.0 = id;
    }
}

/// One provider as the index sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProviderRef {
    pub(crate) handle: Handle,
    pub(crate) version: Version,
    pub(crate) priority: i32,
    pub(crate) owner: u64,
    /// Registration order, to break priority ties by first-come.
    pub(crate) seq: u64,
}

/// All providers of one contract id.
#[derive(Clone, Debug)]
pub(crate) struct ContractProviders {
    pub(crate) name: Arc<str>,
    /// Highest priority first, then registration order.
    pub(crate) providers: Vec<ProviderRef>,
}

/// See the module docs.
#[derive(Clone, Default)]
pub(crate) struct Snapshot {
    pub(crate) by_id: HashMap<u64, ContractProviders, BuildHasherDefault<IdHasher>>,
}

impl Snapshot {
    #[inline]
    pub(crate) fn providers(&self, key: ContractKey<'_>) -> &[ProviderRef] {
        match self.by_id.get(&key.id) {
            Some(c) if &*c.name == key.name => &c.providers,
            _ => &[],
        }
    }

    #[inline]
    pub(crate) fn find(&self, key: ContractKey<'_>, min: &Version) -> Option<Handle> {
        self.providers(key)
            .iter()
            .find(|p| p.version.satisfies(min))
            .map(|p| p.handle)
    }

    pub(crate) fn insert(&mut self, name: &str, id: u64, p: ProviderRef) {
        let entry = self.by_id.entry(id).or_insert_with(|| ContractProviders {
            name: name.into(),
            providers: Vec::new(),
        });
        let at = entry
            .providers
            .iter()
            .position(|q| {
                (q.priority, std::cmp::Reverse(q.seq)) < (p.priority, std::cmp::Reverse(p.seq))
            })
            .unwrap_or(entry.providers.len());
        entry.providers.insert(at, p);
    }

    pub(crate) fn remove(&mut self, id: u64, handle: Handle) {
        if let Some(c) = self.by_id.get_mut(&id) {
            c.providers.retain(|p| p.handle != handle);
            if c.providers.is_empty() {
                self.by_id.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(index: u32, priority: i32, seq: u64, minor: u32) -> ProviderRef {
        ProviderRef {
            handle: Handle {
                index,
                generation: 1,
            },
            version: Version::new(1, minor, 0),
            priority,
            owner: 1,
            seq,
        }
    }

    #[test]
    fn ordered_by_priority_then_age() {
        let key = ContractKey::new("a:b/c", 1);
        let mut s = Snapshot::default();
        s.insert(key.name, key.id, p(0, 0, 0, 0));
        s.insert(key.name, key.id, p(1, 10, 1, 0));
        s.insert(key.name, key.id, p(2, 0, 2, 5));
        s.insert(key.name, key.id, p(3, 10, 3, 0));
        let order: Vec<u32> = s.providers(key).iter().map(|p| p.handle.index).collect();
        assert_eq!(order, [1, 3, 0, 2]);
        assert_eq!(
            s.find(key, &Version::new(1, 3, 0)).map(|h| h.index),
            Some(2)
        );
        assert_eq!(s.find(key, &Version::new(1, 6, 0)), None);
        assert!(s
            .providers(ContractKey {
                id: key.id,
                name: "x:y/z"
            })
            .is_empty());
        s.remove(
            key.id,
            Handle {
                index: 1,
                generation: 1,
            },
        );
        assert_eq!(s.providers(key).len(), 3);
    }
}
