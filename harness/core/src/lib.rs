//! fcbench-core: everything about measuring function-call latency that is neither a terminal
//! nor an engine. The CLI, the TUI, reports and the CI gate are thin layers over it.

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
