//! Status codes returned by every fallible ABI function.
//!
//! On the wire a status is a plain `u32`; [`Status::from_raw`] maps any word to a variant, so a
//! code from a newer peer never becomes an invalid Rust enum. Callers keep a default branch.

use core::ffi::CStr;

/// The outcome of a call across the ABI. `Ok` is zero; every other value is a failure.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// A failure the provider reported itself; the call context holds its message.
    Error = 1,
    /// An argument was malformed (bad UTF-8, out-of-range index, wrong size...).
    InvalidArgument = 2,
    /// A required pointer argument was null.
    NullPointer = 3,
    /// No provider, bundle, loader or symbol matched.
    NotFound = 4,
    /// A handle named a provider that has since been unregistered.
    StaleHandle = 5,
    /// A contract or bundle version does not satisfy the request.
    VersionMismatch = 6,
    /// A peer was built for an incompatible ABI, or sent a malformed table.
    AbiMismatch = 7,
    /// A panic or exception was caught before it could cross the boundary.
    Panic = 8,
    /// An allocation failed or a memory limit was reached.
    OutOfMemory = 9,
    /// The operation or capability is not supported by this peer.
    Unsupported = 10,
    /// The name is already taken (bundle, provider, loader).
    AlreadyExists = 11,
    /// A bundle's code could not be loaded.
    LoadFailed = 12,
    /// A plugin's entry point reported failure.
    InitFailed = 13,
    /// A `bundle.toml` or a contract description is malformed.
    InvalidManifest = 14,
    /// What a plugin registered differs from what its manifest declares.
    ContractMismatch = 15,
    /// Two different contract names hash to the same contract id.
    IdCollision = 16,
    /// The object is in use; retry later.
    Busy = 17,
    /// A time limit was exceeded.
    Timeout = 18,
    /// A resource limit other than memory or time was exceeded.
    LimitExceeded = 19,
    /// An output buffer was too small; the count out-parameter says how much is needed.
    BufferTooSmall = 20,
    /// A contract the bundle requires is not provided by anyone.
    MissingDependency = 21,
    /// A code this version does not know (from a newer peer).
    Unknown = 0x7FFF_FFFF,
}

/// Every known status, in code order (without `Unknown`).
const ALL_STATUSES: [Status; 22] = [
    Status::Ok,
    Status::Error,
    Status::InvalidArgument,
    Status::NullPointer,
    Status::NotFound,
    Status::StaleHandle,
    Status::VersionMismatch,
    Status::AbiMismatch,
    Status::Panic,
    Status::OutOfMemory,
    Status::Unsupported,
    Status::AlreadyExists,
    Status::LoadFailed,
    Status::InitFailed,
    Status::InvalidManifest,
    Status::ContractMismatch,
    Status::IdCollision,
    Status::Busy,
    Status::Timeout,
    Status::LimitExceeded,
    Status::BufferTooSmall,
    Status::MissingDependency,
];

impl Status {
    /// Every known status, in code order (without `Unknown`).
    pub const fn all() -> &'static [Status] {
        &ALL_STATUSES
    }

    /// Maps any word to a status. Total: codes this version does not know become `Unknown`.
    pub const fn from_raw(code: u32) -> Status {
        if (code as usize) < ALL_STATUSES.len() {
            ALL_STATUSES[code as usize]
        } else {
            Status::Unknown
        }
    }

    /// The code as it travels across the ABI.
    pub const fn raw(self) -> u32 {
        self as u32
    }

    /// True for [`Status::Ok`].
    pub const fn is_ok(self) -> bool {
        matches!(self, Status::Ok)
    }

    /// A short, static, NUL-terminated description (what `pp_errstr` returns).
    pub const fn description(self) -> &'static CStr {
        match self {
            Status::Ok => c"ok",
            Status::Error => c"the provider reported an error",
            Status::InvalidArgument => c"invalid argument",
            Status::NullPointer => c"a required pointer was null",
            Status::NotFound => c"not found",
            Status::StaleHandle => c"stale handle: the provider was unregistered",
            Status::VersionMismatch => c"version mismatch",
            Status::AbiMismatch => c"incompatible ABI version or malformed table",
            Status::Panic => c"a panic or exception was caught at the boundary",
            Status::OutOfMemory => c"out of memory",
            Status::Unsupported => c"unsupported",
            Status::AlreadyExists => c"already exists",
            Status::LoadFailed => c"the bundle's code could not be loaded",
            Status::InitFailed => c"the plugin's init failed",
            Status::InvalidManifest => c"malformed manifest or contract description",
            Status::ContractMismatch => c"registered providers differ from the manifest",
            Status::IdCollision => c"contract id collision",
            Status::Busy => c"busy",
            Status::Timeout => c"time limit exceeded",
            Status::LimitExceeded => c"resource limit exceeded",
            Status::BufferTooSmall => c"output buffer too small",
            Status::MissingDependency => c"a required contract is not provided",
            Status::Unknown => c"unknown status code",
        }
    }
}

impl From<u32> for Status {
    fn from(code: u32) -> Self {
        Status::from_raw(code)
    }
}

impl From<Status> for u32 {
    fn from(s: Status) -> u32 {
        s.raw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_is_total_and_round_trips() {
        for (i, s) in Status::all().iter().enumerate() {
            assert_eq!(s.raw(), i as u32);
            assert_eq!(Status::from_raw(i as u32), *s);
        }
        for code in [22u32, 23, 1000, 0x7FFF_FFFF, u32::MAX] {
            assert_eq!(Status::from_raw(code), Status::Unknown);
        }
        assert!(Status::Ok.is_ok() && !Status::Error.is_ok());
    }

    #[test]
    fn descriptions_are_distinct() {
        for (i, a) in Status::all().iter().enumerate() {
            for b in &Status::all()[i + 1..] {
                assert_ne!(a.description(), b.description());
            }
        }
    }

    #[test]
    fn layout() {
        assert_eq!(core::mem::size_of::<Status>(), 4);
        assert_eq!(core::mem::align_of::<Status>(), 4);
    }
}
