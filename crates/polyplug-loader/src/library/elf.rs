//! A structural check of ELF shared objects before `dlopen`, so that a file that is not a
//! library, or a library cut short, gets a precise error instead of whatever the system loader
//! says (or a crash inside it).

use std::io::Read;
use std::path::Path;

/// What is wrong with a file, if anything.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// Not an ELF shared object at all.
    NotLibrary(String),
    /// An ELF shared object whose tables or segments extend past the end of the file.
    Truncated(String),
}

fn u16_at(b: &[u8], off: usize, le: bool) -> u64 {
    let x = [b[off], b[off + 1]];
    (if le {
        u16::from_le_bytes(x)
    } else {
        u16::from_be_bytes(x)
    }) as u64
}
fn u32_at(b: &[u8], off: usize, le: bool) -> u64 {
    let x = [b[off], b[off + 1], b[off + 2], b[off + 3]];
    (if le {
        u32::from_le_bytes(x)
    } else {
        u32::from_be_bytes(x)
    }) as u64
}
fn u64_at(b: &[u8], off: usize, le: bool) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[off..off + 8]);
    if le {
        u64::from_le_bytes(x)
    } else {
        u64::from_be_bytes(x)
    }
}

/// Checks the ELF header, the program and section header tables, and that every loadable
/// segment lies inside the file.
pub fn check(path: &Path) -> Result<(), Problem> {
    let mut file = std::fs::File::open(path).map_err(|e| Problem::NotLibrary(e.to_string()))?;
    let len = file
        .metadata()
        .map_err(|e| Problem::NotLibrary(e.to_string()))?
        .len();
    let mut head = vec![0u8; 64];
    let n = file
        .read(&mut head)
        .map_err(|e| Problem::NotLibrary(e.to_string()))?;
    if n < 4 || &head[..4] != b"\x7fELF" {
        return Err(Problem::NotLibrary("no ELF magic number".into()));
    }
    let is64 = match head[4] {
        1 => false,
        2 => true,
        c => return Err(Problem::NotLibrary(format!("unknown ELF class {c}"))),
    };
    let le = match head[5] {
        1 => true,
        2 => false,
        d => {
            return Err(Problem::NotLibrary(format!(
                "unknown ELF data encoding {d}"
            )))
        }
    };
    let header_len = if is64 { 64 } else { 52 };
    if n < header_len {
        return Err(Problem::Truncated(format!(
            "the ELF header needs {header_len} bytes, the file has {len}"
        )));
    }
    let e_type = u16_at(&head, 16, le);
    if e_type != 3 {
        return Err(Problem::NotLibrary(format!(
            "ELF type {e_type} is not a shared object (3)"
        )));
    }
    let (phoff, shoff, phentsize, phnum, shentsize, shnum) = if is64 {
        (
            u64_at(&head, 32, le),
            u64_at(&head, 40, le),
            u16_at(&head, 54, le),
            u16_at(&head, 56, le),
            u16_at(&head, 58, le),
            u16_at(&head, 60, le),
        )
    } else {
        (
            u32_at(&head, 28, le),
            u32_at(&head, 32, le),
            u16_at(&head, 42, le),
            u16_at(&head, 44, le),
            u16_at(&head, 46, le),
            u16_at(&head, 48, le),
        )
    };
    let ph_end = phoff.saturating_add(phentsize.saturating_mul(phnum));
    if ph_end > len {
        return Err(Problem::Truncated(format!(
            "program headers end at byte {ph_end}, the file has {len}"
        )));
    }
    if shnum > 0 {
        let sh_end = shoff.saturating_add(shentsize.saturating_mul(shnum));
        if sh_end > len {
            return Err(Problem::Truncated(format!(
                "section headers end at byte {sh_end}, the file has {len}"
            )));
        }
    }
    let min_entry = if is64 { 56 } else { 32 };
    if phnum > 0 && phentsize < min_entry {
        return Err(Problem::NotLibrary(format!(
            "program header entries of {phentsize} bytes are too small"
        )));
    }
    let mut table = vec![0u8; (phentsize * phnum) as usize];
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(phoff))
        .map_err(|e| Problem::Truncated(e.to_string()))?;
    file.read_exact(&mut table)
        .map_err(|e| Problem::Truncated(e.to_string()))?;
    for i in 0..phnum as usize {
        let ph = &table[i * phentsize as usize..];
        const PT_LOAD: u64 = 1;
        if u32_at(ph, 0, le) != PT_LOAD {
            continue;
        }
        let (offset, filesz) = if is64 {
            (u64_at(ph, 8, le), u64_at(ph, 32, le))
        } else {
            (u32_at(ph, 4, le), u32_at(ph, 16, le))
        };
        let end = offset.saturating_add(filesz);
        if end > len {
            return Err(Problem::Truncated(format!(
                "loadable segment {i} ends at byte {end}, the file has {len}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(bytes).expect("write");
        f
    }

    fn this_process_library() -> Vec<u8> {
        // libc is a shared object on every Linux host this runs on; find it via /proc.
        let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
        let path = maps
            .lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .find(|p| p.contains("libc.so") || p.contains("libc-"))
            .expect("libc mapped");
        std::fs::read(path).expect("read libc")
    }

    #[test]
    fn real_library_passes_and_cut_library_fails() {
        let lib = this_process_library();
        assert_eq!(check(write(&lib).path()), Ok(()));
        for cut in [10, 63, 1000, lib.len() / 2] {
            let f = write(&lib[..cut]);
            assert!(
                matches!(check(f.path()), Err(Problem::Truncated(_))),
                "cut at {cut}: {:?}",
                check(f.path())
            );
        }
    }

    #[test]
    fn other_files_are_not_libraries() {
        assert!(matches!(
            check(write(b"").path()),
            Err(Problem::NotLibrary(_))
        ));
        assert!(matches!(
            check(write(b"#!/bin/sh\necho hi\n").path()),
            Err(Problem::NotLibrary(_))
        ));
        let mut exe = this_process_library();
        exe[16] = 2; // ET_EXEC
        assert!(
            matches!(check(write(&exe).path()), Err(Problem::NotLibrary(m)) if m.contains("type 2"))
        );
    }
}
