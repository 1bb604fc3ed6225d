//! fcbench-core: everything about measuring function-call latency that is neither a terminal
//! nor an engine. The CLI, the TUI, reports and the CI gate are thin layers over it.

/// `Display` and `FromStr` for a fieldless enum, by its serde names (so the command line, the
/// terminal and the stored records spell each value the same way); input is case-insensitive
/// and serde's aliases are accepted.
macro_rules! display_via_serde {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let v = serde_json::to_value(self).map_err(|_| std::fmt::Error)?;
                f.write_str(v.as_str().ok_or(std::fmt::Error)?)
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                serde_json::from_value(serde_json::Value::String(s.to_ascii_lowercase()))
                    .map_err(|e| format!("`{s}`: {e}"))
            }
        }
    )*};
}

pub mod arm;
pub mod backend;
pub mod decode;
pub mod machine;
pub mod markers;
pub mod models;
pub mod noise;
pub mod protocol;
pub mod pyjson;
pub mod record;
pub mod rundir;
pub mod runner;
pub mod scenario;
pub mod score;
pub mod stats;
pub mod summary;
pub mod sweep;

// Helpers for tests only, here and in other crates (`features = ["test-support"]` in their
// dev-dependencies): never part of a binary that measures.
#[cfg(feature = "test-support")]
pub mod agreement;
#[cfg(any(test, feature = "test-support"))]
pub mod scripted;
