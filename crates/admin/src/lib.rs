//! The server side of the official Socket.IO Admin UI (`@socket.io/admin-ui` 0.5) for roomcast,
//! so that the UI — hosted at admin.socket.io, or served by the same server from the npm
//! package's bundle ([`UiBundle`]) — shows a roomcast server as it shows a Node one: its
//! namespaces, sockets, rooms, clients and (in development mode) every event, and acts on them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use roomcast_admin::{instrument, AdminOptions, Auth, Mode};
//!
//! let io = roomcast::Server::new();
//! instrument(&io, AdminOptions {
//!     namespace: "/admin".into(),
//!     auth: Auth::Basic {
//!         username: "admin".into(),
//!         password_hash: bcrypt::hash("changeit", 10)?,
//!     },
//!     mode: Mode::Development,
//!     ..AdminOptions::default()
//! })?;
//! # Ok(()) }
//! ```
//!
//! In the UI's connection form, the server URL is the bare origin (no path), and under
//! "Advanced options" the admin namespace is [`AdminOptions::namespace`]. A UI served from
//! another origin (the hosted one) needs CORS with that exact origin and credentials
//! (`options.engine.cors = Some(Cors { origin: CorsOrigin::List(vec!["https://admin.socket.io".into()]), credentials: true })`).
//!
//! With a cluster adapter, everything goes through the adapter as in Node: each server's stats
//! reach every UI (told apart by [`AdminOptions::server_id`]), `all_sockets` fetches every
//! server's sockets, and actions reach sockets wherever they are.

mod auth;
mod instrument;
mod options;
mod serialize;
mod stats;
mod time;
mod ui;
mod watch;

pub use instrument::{instrument, AdminError};
pub use options::{AdminOptions, Auth, Mode};
pub use ui::UiBundle;
