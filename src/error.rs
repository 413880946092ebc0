//! Error kinds that decide the process exit code.

use std::fmt;

/// A problem with what the user typed or chose and can fix (a bad argument,
/// an unusable output target, a size beyond the card, no adapter at all).
/// Exit code 2. Any other error (a device, driver or internal failure)
/// exits 1.
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
    /// A result disagreed with the CPU reference, or `health` found a fault.
    pub const UNVERIFIED: i32 = 1;
    /// A device, driver or internal failure (the same code as a wrong
    /// result: no trustworthy number came out).
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    /// Stopped by Ctrl-C (SIGINT), after writing what was finished: 128 + 2,
    /// as shells report a process ended by SIGINT.
    pub const INTERRUPTED: i32 = 130;
}

/// Whether `e` is the user's to fix: a [`UsageError`] anywhere in its chain
/// (also under added context).
pub fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<UsageError>().is_some())
}

/// Whether `e` comes from writing to a reader that went away (stdout piped
/// into `head`): not a failure, the reader has what it wanted.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The exit code for an error that ended a command: 0 for a closed stdout,
/// 2 for a usage error, 1 for anything else.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if is_broken_pipe(e) {
        exit::OK
    } else if is_usage(e) {
        exit::USAGE
    } else {
        exit::FAILED
    }
}
