//! Reading a peer's extensible struct, the way Linux reads `clone3` arguments.
//!
//! * A struct smaller than the first published size is refused.
//! * A smaller struct (an older peer) is zero-extended: zero means "the old behaviour".
//! * A larger struct (a newer peer) is accepted only if the tail this version does not know is
//!   all zero; otherwise the peer asked for something we cannot honour.

use crate::tables::{BundleInfo, HostApi, Interface, LoaderVtable, RuntimeConfig};
use crate::types::ContractDesc;
use core::mem::{offset_of, size_of, MaybeUninit};

/// A `repr(C)` struct that starts with `u32 struct_size` and grows only at its end.
///
/// # Safety
/// The type must start with a `u32` size field, and the all-zero bit pattern must be a valid
/// value of it (only integers, raw pointers, views and `Option` function pointers).
pub unsafe trait Extensible: Copy {
    /// The first published size: every field up to it is mandatory.
    const MIN_SIZE: u32;
}

// SAFETY: each type below starts with `struct_size: u32` and holds only zero-valid fields.
unsafe impl Extensible for Interface {
    // `create_instance`/`destroy_instance` are optional: a stateless provider may omit them.
    const MIN_SIZE: u32 = offset_of!(Interface, create_instance) as u32;
}
// SAFETY: as above.
unsafe impl Extensible for HostApi {
    const MIN_SIZE: u32 = size_of::<HostApi>() as u32;
}
// SAFETY: as above.
unsafe impl Extensible for LoaderVtable {
    // `destroy` and `reload` are optional.
    const MIN_SIZE: u32 = offset_of!(LoaderVtable, destroy) as u32;
}
// SAFETY: as above.
unsafe impl Extensible for RuntimeConfig {
    const MIN_SIZE: u32 = offset_of!(RuntimeConfig, log) as u32;
}
// SAFETY: as above.
unsafe impl Extensible for BundleInfo {
    const MIN_SIZE: u32 = size_of::<BundleInfo>() as u32;
}
// SAFETY: as above.
unsafe impl Extensible for ContractDesc {
    const MIN_SIZE: u32 = size_of::<ContractDesc>() as u32;
}

/// Why a peer's struct was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReconcileError {
    /// The pointer was null.
    Null,
    /// `struct_size` is below the first published size.
    TooSmall {
        /// The size the peer declared.
        size: u32,
        /// The smallest size accepted.
        min: u32,
    },
    /// The peer is newer and set a field this version does not know.
    UnknownTail {
        /// The size the peer declared.
        size: u32,
        /// The size this version knows.
        known: u32,
    },
}

impl core::fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReconcileError::Null => f.write_str("null table pointer"),
            ReconcileError::TooSmall { size, min } => {
                write!(f, "struct_size {size} is below the minimum {min}")
            }
            ReconcileError::UnknownTail { size, known } => write!(
                f,
                "struct_size {size} is larger than the {known} bytes this runtime knows, and the extra bytes are not zero"
            ),
        }
    }
}

/// Copies a peer's struct into a value of this version's size (see the module docs). The
/// result's `struct_size` is this version's size.
///
/// # Safety
/// `src` must be null or point to at least as many readable bytes as its `struct_size` says.
pub unsafe fn reconcile<T: Extensible>(src: *const T) -> Result<T, ReconcileError> {
    if src.is_null() {
        return Err(ReconcileError::Null);
    }
    // SAFETY: every extensible struct starts with its size.
    let size = unsafe { (src as *const u32).read_unaligned() };
    let known = size_of::<T>() as u32;
    if size < T::MIN_SIZE {
        return Err(ReconcileError::TooSmall {
            size,
            min: T::MIN_SIZE,
        });
    }
    if size > known {
        // SAFETY: the peer declared `size` readable bytes.
        let tail = unsafe {
            core::slice::from_raw_parts(
                (src as *const u8).add(known as usize),
                (size - known) as usize,
            )
        };
        if tail.iter().any(|&b| b != 0) {
            return Err(ReconcileError::UnknownTail { size, known });
        }
    }
    let mut out = MaybeUninit::<T>::zeroed();
    // SAFETY: both regions hold at least `min(size, known)` bytes and do not overlap; the
    // zeroed rest is a valid value by the trait's contract.
    unsafe {
        core::ptr::copy_nonoverlapping(
            src as *const u8,
            out.as_mut_ptr() as *mut u8,
            size.min(known) as usize,
        );
        (out.as_mut_ptr() as *mut u32).write(known);
        Ok(out.assume_init())
    }
}

/// True when a struct of `struct_size` bytes contains the field at `offset` of `size` bytes:
/// how a peer checks for a field appended after the struct it received was built.
pub const fn has_field(struct_size: u32, offset: usize, size: usize) -> bool {
    (struct_size as usize) >= offset + size
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctx::CallCtx;

    fn iface() -> Interface {
        Interface {
            struct_size: size_of::<Interface>() as u32,
            func_count: 0,
            contract: core::ptr::null(),
            funcs: core::ptr::null(),
            provider: 0x1234 as *mut core::ffi::c_void,
            create_instance: None,
            destroy_instance: None,
        }
    }

    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Newer {
        base: Interface,
        extra: u64,
    }

    #[test]
    fn current_size_round_trips() {
        let i = iface();
        // SAFETY: a live local.
        let r = unsafe { reconcile(&i) }.expect("accepted");
        assert_eq!(r.provider, i.provider);
        assert_eq!(r.struct_size as usize, size_of::<Interface>());
    }

    #[test]
    fn older_peer_is_zero_extended() {
        let mut i = iface();
        i.struct_size = Interface::MIN_SIZE;
        // Garbage past the declared size must be ignored, not read.
        i.create_instance = Some(dummy_create);
        // SAFETY: a live local, larger than its declared size.
        let r = unsafe { reconcile(&i) }.expect("accepted");
        assert!(r.create_instance.is_none() && r.destroy_instance.is_none());
        assert_eq!(r.struct_size as usize, size_of::<Interface>());
    }

    unsafe extern "C" fn dummy_create(
        _: *mut core::ffi::c_void,
        _: *mut *mut core::ffi::c_void,
        _: *mut CallCtx,
    ) -> u32 {
        0
    }

    #[test]
    fn too_small_is_refused() {
        let mut i = iface();
        i.struct_size = Interface::MIN_SIZE - 1;
        // SAFETY: a live local.
        let got = unsafe { reconcile(&i) }.map(|_| ());
        assert_eq!(
            got,
            Err(ReconcileError::TooSmall {
                size: Interface::MIN_SIZE - 1,
                min: Interface::MIN_SIZE
            })
        );
        // SAFETY: null is allowed.
        let got = unsafe { reconcile::<Interface>(core::ptr::null()) }.map(|_| ());
        assert_eq!(got, Err(ReconcileError::Null));
    }

    #[test]
    fn newer_peer_needs_zero_tail() {
        let mut n = Newer {
            base: iface(),
            extra: 0,
        };
        n.base.struct_size = size_of::<Newer>() as u32;
        // A pointer to the whole struct, so reading past `base` stays in bounds.
        let whole = |n: &Newer| n as *const Newer as *const Interface;
        // SAFETY: `n` holds `size_of::<Newer>()` bytes.
        assert!(unsafe { reconcile(whole(&n)) }.is_ok());
        n.extra = 7;
        // SAFETY: as above.
        let got = unsafe { reconcile(whole(&n)) }.map(|_| ());
        assert_eq!(
            got,
            Err(ReconcileError::UnknownTail {
                size: size_of::<Newer>() as u32,
                known: size_of::<Interface>() as u32
            })
        );
    }

    #[test]
    fn field_presence() {
        assert!(has_field(16, 8, 8));
        assert!(!has_field(15, 8, 8));
    }
}
