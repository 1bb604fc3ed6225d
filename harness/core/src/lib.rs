//! fcbench-core: everything about measuring function-call latency that is neither a terminal
//! nor an engine. The CLI, the TUI, reports and the CI gate are thin layers over it.

pub mod agreement;
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

#[cfg(test)]
pub(crate) mod scripted;
