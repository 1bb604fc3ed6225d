//! Output formats for recorded runs. Every format reads the same records (`fcbench-core`'s
//! `record` module); each lives in its own module.

pub mod terminal;
