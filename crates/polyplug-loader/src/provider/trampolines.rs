//! One C entry point per function index.
//!
//! The calling convention (`fn(instance, args, ret, ctx)`) carries no function index, so a
//! provider whose functions are Rust closures needs a distinct C function for each table slot.
//! Without libffi (no code is generated at run time), the kit compiles them ahead of time:
//! `entry::<I>` for every `I` below [`MAX_FUNCTIONS`]. Each finds function `I` of the provider
//! its `instance` leads to and jumps to that function's shim, which runs the closure. A
//! provider's table is the first `n` of them.

use polyplug_abi::{CallCtx, ContractFn};
use polyplug_contract::limits::MAX_FUNCTIONS;
use std::ffi::c_void;

/// The C entry point of function `I`.
unsafe extern "C" fn entry<const I: usize>(
    instance: *mut c_void,
    args: *const c_void,
    ret: *mut c_void,
    ctx: *mut CallCtx,
) -> u32 {
    // SAFETY: the caller keeps the contract-call promise for function `I` of the provider
    // `instance` belongs to, which is what `find` and the shim need.
    match unsafe { super::find(I, instance) } {
        // SAFETY: as above.
        Ok((entry, target)) => unsafe { ((*entry).shim)(entry, target, args, ret, ctx) },
        Err(status) => super::refused(ctx, status),
    }
}

macro_rules! row {
    ($b:expr) => {
        [
            entry::<{ $b }>,
            entry::<{ $b + 1 }>,
            entry::<{ $b + 2 }>,
            entry::<{ $b + 3 }>,
            entry::<{ $b + 4 }>,
            entry::<{ $b + 5 }>,
            entry::<{ $b + 6 }>,
            entry::<{ $b + 7 }>,
            entry::<{ $b + 8 }>,
            entry::<{ $b + 9 }>,
            entry::<{ $b + 10 }>,
            entry::<{ $b + 11 }>,
            entry::<{ $b + 12 }>,
            entry::<{ $b + 13 }>,
            entry::<{ $b + 14 }>,
            entry::<{ $b + 15 }>,
        ]
    };
}

macro_rules! block {
    ($b:expr) => {
        [
            row!($b),
            row!($b + 16),
            row!($b + 32),
            row!($b + 48),
            row!($b + 64),
            row!($b + 80),
            row!($b + 96),
            row!($b + 112),
            row!($b + 128),
            row!($b + 144),
            row!($b + 160),
            row!($b + 176),
            row!($b + 192),
            row!($b + 208),
            row!($b + 224),
            row!($b + 240),
        ]
    };
}

/// `TABLE[i >> 8][(i >> 4) & 15][i & 15]` is `entry::<i>`.
static TABLE: [[[ContractFn; 16]; 16]; 16] = [
    block!(0),
    block!(256),
    block!(512),
    block!(768),
    block!(1024),
    block!(1280),
    block!(1536),
    block!(1792),
    block!(2048),
    block!(2304),
    block!(2560),
    block!(2816),
    block!(3072),
    block!(3328),
    block!(3584),
    block!(3840),
];

const _: () = assert!(
    MAX_FUNCTIONS == 16 * 16 * 16,
    "one entry per possible function"
);

/// The entry point of function `index`, or `None` at or past [`MAX_FUNCTIONS`].
#[inline]
pub(crate) fn entry_for(index: usize) -> Option<ContractFn> {
    (index < MAX_FUNCTIONS).then(|| TABLE[index >> 8][(index >> 4) & 15][index & 15])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_has_its_own_entry() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..MAX_FUNCTIONS {
            let f = entry_for(i).expect("in range");
            assert!(seen.insert(f as usize), "entry {i} is shared");
        }
        assert!(entry_for(MAX_FUNCTIONS).is_none());
    }
}
