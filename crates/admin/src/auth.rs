//! Who may connect to the admin namespace: with basic auth, a known session id, or the user
//! name and a password matching its bcrypt hash — then a new session id (16 hex digits) that
//! the UI keeps to log in again.

use std::collections::{HashMap, HashSet};

use parking_lot::Mutex;
use rand::Rng;
use roomcast::value::Value;
use roomcast::{ConnectError, Sid, Socket};

use crate::options::Auth;

/// The refusal the UI knows (`invalid credentials`).
fn refused() -> ConnectError {
    ConnectError::new("invalid credentials")
}

/// Sessions, and the ids given to sockets that have not received theirs yet.
#[derive(Debug)]
pub(crate) struct Gate {
    auth: Auth,
    sessions: Mutex<HashSet<String>>,
    issued: Mutex<HashMap<Sid, String>>,
}

impl Gate {
    pub(crate) fn new(auth: Auth) -> Gate {
        Gate {
            auth,
            sessions: Mutex::new(HashSet::new()),
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// Lets `socket` in, or refuses it; a login by password gets a new session.
    pub(crate) async fn admit(&self, socket: &Socket) -> Result<(), ConnectError> {
        let Auth::Basic {
            username,
            password_hash,
        } = &self.auth
        else {
            return Ok(());
        };
        let auth = &socket.handshake().auth;
        let field = |name: &str| auth.get(name).and_then(Value::as_str);
        if let Some(session) = field("sessionId") {
            if self.sessions.lock().contains(session) {
                return Ok(());
            }
        }
        let (Some(given_user), Some(password)) = (field("username"), field("password")) else {
            return Err(refused());
        };
        if given_user != username {
            return Err(refused());
        }
        // bcrypt is slow on purpose: off the runtime's threads.
        let (password, hash) = (password.to_owned(), password_hash.clone());
        let verified = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .map_err(|_| refused())?;
        if !matches!(verified, Ok(true)) {
            return Err(refused());
        }
        let session = format!("{:016x}", rand::rng().random::<u64>());
        self.sessions.lock().insert(session.clone());
        self.issued.lock().insert(socket.id(), session);
        Ok(())
    }

    /// The session id given to `socket` when it logged in, to send it once connected.
    pub(crate) fn take_issued(&self, socket: &Socket) -> Option<String> {
        self.issued.lock().remove(&socket.id())
    }
}
