//! Error kinds that decide the process exit code.

use std::fmt;

/// A problem with what the user asked for or with the machine (bad argument,
/// no adapter, a feature the card lacks). Exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Builds an `anyhow::Error` carrying a [`UsageError`], like `anyhow!`.
#[macro_export]
macro_rules! usage {
    ($($arg:tt)*) => {
        anyhow::Error::new($crate::error::UsageError(format!($($arg)*)))
    };
}

/// Returns early with a [`UsageError`], like `anyhow::bail!`.
#[macro_export]
macro_rules! usage_bail {
    ($($arg:tt)*) => {
        return Err($crate::usage!($($arg)*))
    };
}

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    pub const UNVERIFIED: i32 = 1;
    pub const USAGE: i32 = 2;
}
