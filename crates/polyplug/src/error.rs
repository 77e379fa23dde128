//! Errors of the Rust API, and their mapping to ABI status codes for the C API.
//!
//! [`Error`] is one pointer wide (its [`ErrorKind`] is boxed), so a `Result<T>` costs little
//! more than a `T`: a typed call that succeeds moves its value, not an 80-byte error slot.
//! `docs/PERFORMANCE.md` ("Contracts and dynamic calls") measured what the wide error cost.

use polyplug_abi::{Handle, Status, Version};
use std::fmt;
use std::path::PathBuf;

/// An error of the runtime: what went wrong is its [`kind`](Error::kind), and each kind maps to
/// one [`Status`]. Build one from an [`ErrorKind`] with `.into()`.
#[derive(thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<ErrorKind>);

impl Error {
    /// What went wrong.
    #[inline]
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// What went wrong, to amend it.
    pub(crate) fn kind_mut(&mut self) -> &mut ErrorKind {
        &mut self.0
    }

    /// What went wrong, by value (to match on its fields).
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// The status code the C API reports for this error.
    pub fn status(&self) -> Status {
        self.0.status()
    }
}

impl From<ErrorKind> for Error {
    #[cold]
    fn from(kind: ErrorKind) -> Error {
        Error(Box::new(kind))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// Everything that can go wrong in the runtime. Each variant maps to one [`Status`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bundle directory or its `bundle.toml` could not be read.
    #[error("cannot read bundle at {path}: {source}")]
    BundleIo {
        /// What was being read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `bundle.toml` is malformed.
    #[error("{path}: malformed bundle.toml: {message}")]
    InvalidManifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong, with line and column when the parser gave them.
        message: String,
    },
    /// The bundle names a loader that was never added.
    #[error("bundle `{bundle}` needs loader `{loader}`, which is not registered")]
    UnknownLoader {
        /// The bundle.
        bundle: String,
        /// The missing loader.
        loader: String,
    },
    /// A bundle of this name is already loaded.
    #[error("a bundle named `{name}` is already loaded")]
    BundleAlreadyLoaded {
        /// The bundle name.
        name: String,
    },
    /// A contract the bundle requires is not provided.
    #[error("bundle `{bundle}` requires `{contract}`, which no loaded bundle or host provides")]
    MissingDependency {
        /// The bundle.
        bundle: String,
        /// The missing contract, `name@version`.
        contract: String,
    },
    /// A loader library was built for another ABI major version.
    #[error("`{name}` was built for ABI {found:#x}, but this runtime speaks ABI {expected:#x}")]
    AbiMismatch {
        /// The bundle or loader.
        name: String,
        /// The version it declares.
        found: u32,
        /// The runtime's version.
        expected: u32,
    },
    /// A table from a peer is malformed (too small, unknown non-zero tail, null entries...).
    #[error("`{name}`: malformed {table}: {reason}")]
    InvalidTable {
        /// The bundle, loader or host object.
        name: String,
        /// Which table.
        table: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// What the plugin registered differs from what `bundle.toml` declares.
    #[error("bundle `{bundle}`: registered providers differ from bundle.toml (declared but not registered: [{}]; registered but not declared: [{}])", missing.join(", "), unexpected.join(", "))]
    ProvidersMismatch {
        /// The bundle.
        bundle: String,
        /// Declared in the manifest, not registered.
        missing: Vec<String>,
        /// Registered, not declared.
        unexpected: Vec<String>,
    },
    /// One bundle registered the same contract twice.
    #[error("`{owner}` registers `{contract}` more than once")]
    DuplicateProvider {
        /// The bundle (or `host`).
        owner: String,
        /// The contract.
        contract: String,
    },
    /// Two different contract names have the same id.
    #[error("contract `{contract}` has id {id:#018x}, which already belongs to `{existing}`")]
    ContractIdCollision {
        /// The new contract.
        contract: String,
        /// The contract already registered under the id.
        existing: String,
        /// The shared id.
        id: u64,
    },
    /// A contract description is malformed.
    #[error("invalid contract `{contract}`: {reason}")]
    InvalidContract {
        /// The contract (or what could be read of its name).
        contract: String,
        /// What is wrong.
        reason: String,
    },
    /// A loader could not load (or reload) a bundle: its status and message, as every loader
    /// reports a failure through its vtable (for the native loader: a missing or truncated
    /// library, a missing symbol, another ABI major, a failed or panicking init...).
    #[error("bundle `{bundle}`: loader `{loader}` failed ({status:?}): {message}")]
    LoaderFailed {
        /// The loader.
        loader: String,
        /// The bundle.
        bundle: String,
        /// The loader's status.
        status: Status,
        /// The loader's message.
        message: String,
    },
    /// A loader library could not be opened or has no entry symbol.
    #[error("cannot use loader library: {0}")]
    LoaderLibrary(#[source] polyplug_loader::library::LibraryError),
    /// A loader of this name is already registered.
    #[error("a loader named `{name}` is already registered")]
    LoaderAlreadyExists {
        /// The loader name.
        name: String,
    },
    /// No provider matches.
    #[error("no provider of `{contract}` compatible with version {min_version}")]
    NotFound {
        /// The contract.
        contract: String,
        /// The requested minimum version.
        min_version: Version,
    },
    /// No bundle with this id is loaded.
    #[error("no bundle with id {0} is loaded")]
    NoSuchBundle(u64),
    /// The handle's provider was unregistered (or the handle was never valid).
    #[error("stale handle {{index: {}, generation: {}}}", handle.index, handle.generation)]
    StaleHandle {
        /// The handle.
        handle: Handle,
    },
    /// A caller's argument is invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A contract call returned a failure status.
    #[error("call to {contract}.{function} failed ({status:?}): {message}")]
    CallFailed {
        /// The contract.
        contract: String,
        /// The function.
        function: String,
        /// The provider's status.
        status: Status,
        /// The provider's message, or the status description.
        message: String,
    },
    /// Memory for a call context could not be allocated.
    #[error("out of memory")]
    OutOfMemory,
    /// Reload is not switched on in the runtime's configuration.
    #[error("hot reload is disabled in this runtime's configuration")]
    ReloadDisabled,
    /// The bundle is still being unloaded (waiting for in-flight calls); try again after.
    #[error("bundle `{name}` is still being unloaded")]
    BundleUnloading {
        /// The bundle's name.
        name: String,
    },
    /// Other loaded bundles need a contract only this bundle provides.
    #[error("bundle `{bundle}` is required by [{}]: unload those first, or unload with cascade", dependents.join(", "))]
    HasDependents {
        /// The bundle asked to unload.
        bundle: String,
        /// The bundles that would lose a required contract.
        dependents: Vec<String>,
    },
    /// A reload produced code that cannot replace the running version; the old one still serves.
    #[error("cannot reload bundle `{bundle}`: {reason}; the loaded version keeps serving")]
    ReloadIncompatible {
        /// The bundle.
        bundle: String,
        /// What differs.
        reason: String,
    },
    /// A lifecycle change was asked for from inside a guarded call on the same thread; it would
    /// wait for that very call to return.
    #[error("cannot {operation} from inside a guarded call: it would wait for the call making it")]
    InsideGuardedCall {
        /// What was asked (`unload a bundle`, ...).
        operation: &'static str,
    },
}

impl ErrorKind {
    /// The status code the C API reports for this error.
    pub fn status(&self) -> Status {
        match self {
            ErrorKind::BundleIo { .. } => Status::NotFound,
            ErrorKind::NotFound { .. }
            | ErrorKind::NoSuchBundle(_)
            | ErrorKind::UnknownLoader { .. } => Status::NotFound,
            ErrorKind::InvalidManifest { .. } | ErrorKind::InvalidContract { .. } => {
                Status::InvalidManifest
            }
            ErrorKind::BundleAlreadyLoaded { .. }
            | ErrorKind::DuplicateProvider { .. }
            | ErrorKind::LoaderAlreadyExists { .. } => Status::AlreadyExists,
            ErrorKind::MissingDependency { .. } => Status::MissingDependency,
            ErrorKind::LoaderLibrary(e) => e.status(),
            ErrorKind::AbiMismatch { .. } | ErrorKind::InvalidTable { .. } => Status::AbiMismatch,
            ErrorKind::ProvidersMismatch { .. } => Status::ContractMismatch,
            ErrorKind::ContractIdCollision { .. } => Status::IdCollision,
            ErrorKind::LoaderFailed { status, .. } | ErrorKind::CallFailed { status, .. } => {
                *status
            }
            ErrorKind::StaleHandle { .. } => Status::StaleHandle,
            ErrorKind::InvalidArgument(_) => Status::InvalidArgument,
            ErrorKind::OutOfMemory => Status::OutOfMemory,
            ErrorKind::ReloadDisabled => Status::Unsupported,
            ErrorKind::HasDependents { .. }
            | ErrorKind::InsideGuardedCall { .. }
            | ErrorKind::BundleUnloading { .. } => Status::Busy,
            ErrorKind::ReloadIncompatible { .. } => Status::ContractMismatch,
        }
    }
}

impl From<polyplug_loader::ManifestError> for Error {
    #[cold]
    fn from(e: polyplug_loader::ManifestError) -> Error {
        match e {
            polyplug_loader::ManifestError::Io { path, source } => {
                ErrorKind::BundleIo { path, source }.into()
            }
            polyplug_loader::ManifestError::Invalid { path, message } => {
                ErrorKind::InvalidManifest { path, message }.into()
            }
        }
    }
}

/// Result of the runtime's Rust API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_wide() {
        // What keeps a successful typed call's `Result` small (see the module docs).
        assert_eq!(size_of::<Error>(), size_of::<usize>());
        assert_eq!(size_of::<Result<()>>(), size_of::<usize>());
    }

    #[test]
    fn error_shows_and_maps_its_kind() {
        let e: Error = ErrorKind::StaleHandle {
            handle: Handle::NULL,
        }
        .into();
        assert_eq!(e.status(), Status::StaleHandle);
        assert_eq!(e.to_string(), e.kind().to_string());
        assert_eq!(format!("{e:?}"), format!("{:?}", e.kind()));
        let io: Error = ErrorKind::BundleIo {
            path: "x".into(),
            source: std::io::Error::other("gone"),
        }
        .into();
        let source = std::error::Error::source(&io).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("gone"));
        assert!(matches!(io.into_kind(), ErrorKind::BundleIo { .. }));
    }
}
