//! The pieces of roomcast's benchmark programs: the Socket.IO load generator (`loadgen`) and the
//! WebSocket writer comparison (`ws-crates`).

pub mod cli;
pub mod client;
pub mod clock;
pub mod jsonl;
pub mod load;
pub mod os;
pub mod procstat;
pub mod report;
pub mod rng;
pub mod scenarios;
pub mod servers;
pub mod sio;
pub mod stats;
pub mod wsframe;
pub mod wsserver;

/// The error type of the benchmark programs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A result with [`BoxError`].
pub type Res<T> = Result<T, BoxError>;
