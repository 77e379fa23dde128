//! The error a guest returns from a contract function or from its init.

use polyplug_abi::Status;
use std::borrow::Cow;
use std::fmt;

/// A failed call: a [`Status`] code and a message for the caller.
///
/// The message travels back in the caller's call context (copied into its arena), so a host
/// sees it as `Error::CallFailed { message, .. }`. [`Error::new`] uses [`Status::Error`], the
/// status of a failure the provider reports itself; [`Error::with_status`] picks another one.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: Cow<'static, str>,
}

impl Error {
    /// A failure with status [`Status::Error`].
    pub fn new(message: impl Into<Cow<'static, str>>) -> Error {
        Error::with_status(Status::Error, message)
    }

    /// A failure with `status`. [`Status::Ok`] is not a failure: it becomes [`Status::Error`].
    pub fn with_status(status: Status, message: impl Into<Cow<'static, str>>) -> Error {
        let status = if status.is_ok() {
            Status::Error
        } else {
            status
        };
        Error {
            status,
            message: message.into(),
        }
    }

    /// Malformed input from the peer ([`Status::InvalidArgument`]).
    pub fn invalid_argument(message: impl Into<Cow<'static, str>>) -> Error {
        Error::with_status(Status::InvalidArgument, message)
    }

    /// The call arena could not hold a result ([`Status::OutOfMemory`]).
    pub fn out_of_memory() -> Error {
        Error::with_status(
            Status::OutOfMemory,
            "the caller's call arena cannot hold the result",
        )
    }

    /// The status code the caller receives.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The message the caller receives.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `context: ` before its message (e.g. the argument it is about).
    pub fn context(self, context: &str) -> Error {
        Error {
            status: self.status,
            message: format!("{context}: {}", self.message).into(),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}: {:?})", self.status, self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::new(message)
    }
}

impl From<&'static str> for Error {
    fn from(message: &'static str) -> Error {
        Error::new(message)
    }
}

/// A value the peer sent that breaks the ABI's rules: [`Status::InvalidArgument`], so `?` on a
/// decoder of [`crate::rt`] reports it to the caller.
impl From<polyplug_abi::check::Malformed> for Error {
    fn from(e: polyplug_abi::check::Malformed) -> Error {
        Error::invalid_argument(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(Error::new("x").status(), Status::Error);
        assert_eq!(
            Error::with_status(Status::Busy, "later").status(),
            Status::Busy
        );
        assert_eq!(Error::with_status(Status::Ok, "no").status(), Status::Error);
        let e = Error::invalid_argument("bad").context("argument `s`");
        assert_eq!(e.status(), Status::InvalidArgument);
        assert_eq!(e.message(), "argument `s`: bad");
        assert_eq!(e.to_string(), "argument `s`: bad");
        assert_eq!(Error::from("m"), Error::new("m"));
        assert_eq!(Error::from(String::from("m")), Error::new("m"));
        assert_eq!(Error::out_of_memory().status(), Status::OutOfMemory);
        let e = Error::from(polyplug_abi::check::Malformed::new("bad tag"));
        assert_eq!(e, Error::invalid_argument("bad tag"));
    }
}
