//! Semantic versions of contracts and bundles.

use core::fmt;

/// A semantic version. Compatibility follows semver: same major, and the provider's
/// `(minor, patch)` at least the requested one.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Version {
    /// Incompatible changes.
    pub major: u32,
    /// Backwards-compatible additions.
    pub minor: u32,
    /// Fixes.
    pub patch: u32,
}

impl Version {
    /// Builds a version.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// True when a provider of version `self` satisfies a request for at least `required`.
    pub const fn satisfies(&self, required: &Version) -> bool {
        self.major == required.major
            && (self.minor > required.minor
                || (self.minor == required.minor && self.patch >= required.patch))
    }

    /// Parses `MAJOR[.MINOR[.PATCH]]`; missing parts are zero.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.split('.');
        let mut next = |required: bool| -> Option<u32> {
            match parts.next() {
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
                Some(_) => None,
                None if required => None,
                None => Some(0),
            }
        };
        let v = Version {
            major: next(true)?,
            minor: next(false)?,
            patch: next(false)?,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn layout() {
        assert_eq!((size_of::<Version>(), align_of::<Version>()), (12, 4));
        assert_eq!(offset_of!(Version, major), 0);
        assert_eq!(offset_of!(Version, minor), 4);
        assert_eq!(offset_of!(Version, patch), 8);
    }

    #[test]
    fn semver_rules() {
        let v = Version::new(1, 2, 3);
        assert!(v.satisfies(&Version::new(1, 0, 0)));
        assert!(v.satisfies(&Version::new(1, 2, 3)));
        assert!(!v.satisfies(&Version::new(1, 2, 4)));
        assert!(!v.satisfies(&Version::new(1, 3, 0)));
        assert!(!v.satisfies(&Version::new(2, 0, 0)));
        assert!(!v.satisfies(&Version::new(0, 2, 3)));
    }

    #[test]
    fn parse() {
        assert_eq!(Version::parse("1.2.3"), Some(Version::new(1, 2, 3)));
        assert_eq!(Version::parse("4"), Some(Version::new(4, 0, 0)));
        assert_eq!(Version::parse("4.1"), Some(Version::new(4, 1, 0)));
        for bad in ["", "1.", "a.b", "1.2.3.4", "-1", "1..2", "99999999999"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }
}
