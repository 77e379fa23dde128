//! Provider handles.

/// Names a provider: a slot index plus the generation the slot had when the handle was issued.
/// A handle whose generation no longer matches its slot is stale and is never dereferenced.
/// Generation zero is never issued, so an all-zero handle is always invalid.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Handle {
    /// Index of the registry slot.
    pub index: u32,
    /// Generation of the slot when the handle was issued (never zero).
    pub generation: u32,
}

impl Handle {
    /// The invalid handle.
    ///
    /// cbindgen:ignore
    pub const NULL: Handle = Handle {
        index: 0,
        generation: 0,
    };

    /// True for a handle that can never resolve.
    pub const fn is_null(&self) -> bool {
        self.generation == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn layout() {
        assert_eq!((size_of::<Handle>(), align_of::<Handle>()), (8, 4));
        assert_eq!(
            (offset_of!(Handle, index), offset_of!(Handle, generation)),
            (0, 4)
        );
        assert!(Handle::NULL.is_null());
    }
}
