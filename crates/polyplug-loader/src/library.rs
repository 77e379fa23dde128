//! Opening shared libraries safely: the native loader's plugins, and loader libraries.
//!
//! [`open`] checks, in order, that the file exists and is a complete ELF shared object (an
//! [`elf::check`] of its headers, so a truncated or foreign file gets a precise error instead of
//! whatever the system loader says), then `dlopen`s it with immediate binding, so a missing
//! dependency fails here and not in the middle of a call. [`open_fresh_copy`] maps a private
//! copy, so a reload gets the code now on disk even at a path already mapped.

pub mod elf;

use polyplug_abi::Status;
use std::path::{Path, PathBuf};

pub use libloading::Library;

/// Why a library could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The file does not exist.
    #[error("{} does not exist", path.display())]
    NotFound {
        /// The expected path.
        path: PathBuf,
    },
    /// The file is not a shared library.
    #[error("{} is not a shared library: {reason}", path.display())]
    NotLibrary {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// The file is a shared library cut short.
    #[error("{} is truncated: {reason}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// The system loader refused the library.
    #[error("cannot load {}: {message}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The system loader's message.
        message: String,
    },
    /// A symbol the library must export is missing.
    #[error("{} does not export `{symbol}`", path.display())]
    MissingSymbol {
        /// The file.
        path: PathBuf,
        /// The missing symbol.
        symbol: &'static str,
    },
}

impl LibraryError {
    /// The ABI status for this error: `NotFound` for a missing file, `LoadFailed` otherwise.
    pub fn status(&self) -> Status {
        match self {
            LibraryError::NotFound { .. } => Status::NotFound,
            _ => Status::LoadFailed,
        }
    }
}

/// Checks that `path` is a complete shared library, before anything maps it.
pub fn check(path: &Path) -> Result<(), LibraryError> {
    if !path.is_file() {
        return Err(LibraryError::NotFound {
            path: path.to_owned(),
        });
    }
    #[cfg(target_os = "linux")]
    match elf::check(path) {
        Ok(()) => {}
        Err(elf::Problem::NotLibrary(reason)) => {
            return Err(LibraryError::NotLibrary {
                path: path.to_owned(),
                reason,
            })
        }
        Err(elf::Problem::Truncated(reason)) => {
            return Err(LibraryError::Truncated {
                path: path.to_owned(),
                reason,
            })
        }
    }
    Ok(())
}

/// Checks the library ([`check`]), then `dlopen`s it with `RTLD_NOW | RTLD_LOCAL`.
pub fn open(path: &Path) -> Result<Library, LibraryError> {
    check(path)?;
    map(path, path)
}

/// `dlopen`s `file`, reporting failures against `shown` (the path the user knows).
fn map(file: &Path, shown: &Path) -> Result<Library, LibraryError> {
    let failed = |e: libloading::Error| LibraryError::Open {
        path: shown.to_owned(),
        message: e.to_string(),
    };
    #[cfg(unix)]
    {
        use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
        // SAFETY: loading a library runs its constructors; that is what loading native code
        // means, and the file was checked to be a complete shared object.
        unsafe { Library::open(Some(file), RTLD_NOW | RTLD_LOCAL) }
            .map(Into::into)
            .map_err(failed)
    }
    #[cfg(not(unix))]
    {
        // SAFETY: as above.
        unsafe { libloading::Library::new(file) }.map_err(failed)
    }
}

/// Maps a private copy of the library, so a reload gets the code now on disk even when the
/// path is the one already loaded (`dlopen` would hand back the mapped image by name). The copy
/// has a unique name (a stale image `dlclose` could not unload never matches it) and is
/// unlinked as soon as it is mapped: nothing is left behind, even after a crash. It goes to a
/// memory-backed directory when there is one, since creating and unlinking a file on a
/// journaled disk costs more than the rest of a reload.
pub fn open_fresh_copy(path: &Path) -> Result<Library, LibraryError> {
    check(path)?;
    let mut last = None;
    for dir in reload_dirs() {
        match open_copy_in(path, &dir) {
            Ok(lib) => return Ok(lib),
            // A memory-backed directory may be mounted `noexec`; the next one may work.
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| LibraryError::Open {
        path: path.to_owned(),
        message: "no directory to copy it to for reloading".into(),
    }))
}

fn open_copy_in(path: &Path, dir: &Path) -> Result<Library, LibraryError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let copy = dir.join(format!(
        "polyplug-{}-{}-{file}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::copy(path, &copy).map_err(|e| LibraryError::Open {
        path: path.to_owned(),
        message: format!("cannot copy it to {} for reloading: {e}", copy.display()),
    })?;
    let opened = map(&copy, path);
    let _ = std::fs::remove_file(&copy);
    opened
}

/// Where reload copies go, in order of preference: `POLYPLUG_RELOAD_DIR` if set; else
/// `/dev/shm` (tmpfs, on Linux) when it is a writable directory, then the system's temporary
/// directory.
fn reload_dirs() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("POLYPLUG_RELOAD_DIR") {
        return vec![PathBuf::from(dir)];
    }
    let mut dirs = Vec::with_capacity(2);
    let shm = Path::new("/dev/shm");
    if cfg!(target_os = "linux")
        && std::fs::metadata(shm).is_ok_and(|m| m.is_dir() && !m.permissions().readonly())
    {
        dirs.push(shm.to_owned());
    }
    dirs.push(std::env::temp_dir());
    dirs
}

/// The address of symbol `name` in `lib`, as a value of type `T` (a function pointer, or a
/// pointer to a static).
///
/// # Safety
/// `T` must be the symbol's real type, and the value must not be used after `lib` is closed.
pub unsafe fn symbol<T: Copy>(
    lib: &Library,
    path: &Path,
    name: &'static str,
) -> Result<T, LibraryError> {
    // SAFETY: forwarded to the caller.
    unsafe { lib.get::<T>(name.as_bytes()) }
        .map(|s| *s)
        .map_err(|_| LibraryError::MissingSymbol {
            path: path.to_owned(),
            symbol: name,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_foreign_files_are_refused_before_dlopen() {
        let e = open(Path::new("/nonexistent/libx.so")).unwrap_err();
        assert!(matches!(e, LibraryError::NotFound { .. }), "{e}");
        assert_eq!(e.status(), Status::NotFound);
        let f = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(f.path(), b"#!/bin/sh\n").expect("write");
        let e = open(f.path()).unwrap_err();
        assert!(
            matches!(e, LibraryError::NotLibrary { ref reason, .. } if reason.contains("ELF magic")),
            "{e}"
        );
        assert_eq!(e.status(), Status::LoadFailed);
        let e = open_fresh_copy(f.path()).unwrap_err();
        assert!(matches!(e, LibraryError::NotLibrary { .. }), "{e}");
    }
}
