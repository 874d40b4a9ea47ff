//! How the Admin UI is set up: the namespace it connects to, who may log in, whether it may act,
//! and how much it is told.

/// Who may log in to the Admin UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Anyone who can reach the namespace (Node's `auth: false`).
    None,
    /// A user name and the bcrypt hash of its password (`$2a$`, `$2b$` or `$2y$`), as Node's
    /// `{ type: "basic", username, password }`.
    Basic {
        /// The user name, compared exactly.
        username: String,
        /// The bcrypt hash of the password.
        password_hash: String,
    },
}

/// How much the Admin UI is told (Node's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Server stats only (Node's `"production"`).
    Production,
    /// Also every socket, room and event as they come and go (`"development"`).
    Development,
}

/// The options of [`instrument`](crate::instrument).
///
/// ```
/// use roomcast_admin::{AdminOptions, Auth, Mode};
///
/// let options = AdminOptions {
///     namespace: "/admin-ui".into(),
///     auth: Auth::Basic {
///         username: "admin".into(),
///         password_hash: "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS".into(),
///     },
///     mode: Mode::Development,
///     ..AdminOptions::default()
/// };
/// ```
#[derive(Debug, Clone)]
pub struct AdminOptions {
    /// The namespace the UI connects to (its "Admin namespace" field; default `/admin`).
    pub namespace: String,
    /// Who may log in.
    pub auth: Auth,
    /// No actions (join, leave, disconnect, emit) from the UI.
    pub readonly: bool,
    /// How much the UI is told.
    pub mode: Mode,
    /// This server's name in the UI (default: the host name).
    pub server_id: Option<String>,
}

impl Default for AdminOptions {
    fn default() -> Self {
        AdminOptions {
            namespace: "/admin".to_owned(),
            auth: Auth::None,
            readonly: false,
            mode: Mode::Production,
            server_id: None,
        }
    }
}
