//! What the demo reads from its environment: `HOST` (127.0.0.1), `PORT` (3000),
//! `ADMIN_TOKEN` and `ADMIN_UI_PASSWORD` (each generated when unset), `REDIS_URL` (unset: the process runs alone; set: it
//! shares rooms, users and counts with every chat process on that Redis), and
//! `RECOVERY_WINDOW_MS` (how long a dropped user may come back as if nothing happened, 15 s).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rand::distr::{Alphanumeric, SampleString};

/// The settings of one run.
#[derive(Debug)]
pub(crate) struct Config {
    /// The address to listen on.
    pub host: String,
    /// The TCP port to listen on.
    pub port: u16,
    /// What `/admin` sockets must present.
    pub admin_token: Secret,
    /// The password of the Admin UI's user `admin`.
    pub admin_ui_password: Secret,
    /// The Redis the chat processes share (`REDIS_URL`), if any. Never logged: it may hold a
    /// password.
    pub redis_url: Option<String>,
    /// How long a user whose connection dropped may come back to the same socket, rooms and
    /// missed messages; the room hears that the user left only after it.
    pub recovery_window: Duration,
}

impl Config {
    /// Reads the environment.
    pub(crate) fn from_env() -> Result<Config, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Ok(Config {
            host: var("HOST").unwrap_or_else(|| "127.0.0.1".to_owned()),
            port: roomcast_examples::port()?,
            admin_token: var("ADMIN_TOKEN").map_or_else(Secret::generate, Secret::given),
            admin_ui_password: var("ADMIN_UI_PASSWORD")
                .map_or_else(Secret::generate, Secret::given),
            redis_url: var("REDIS_URL"),
            recovery_window: roomcast_examples::env_millis("RECOVERY_WINDOW_MS")?
                .unwrap_or(Duration::from_secs(15)),
        })
    }
}

/// A token or password, set by the operator or generated. Its `Debug` does not show it.
#[derive(Clone)]
pub(crate) struct Secret {
    secret: Arc<str>,
    generated: bool,
}

impl Secret {
    /// The secret set by the operator.
    pub(crate) fn given(secret: String) -> Secret {
        Secret {
            secret: secret.into(),
            generated: false,
        }
    }

    /// A fresh random secret (32 alphanumeric characters, about 190 bits).
    pub(crate) fn generate() -> Secret {
        Secret {
            secret: Alphanumeric.sample_string(&mut rand::rng(), 32).into(),
            generated: true,
        }
    }

    /// Whether this secret was generated (and must be shown to the operator).
    pub(crate) fn generated(&self) -> bool {
        self.generated
    }

    /// The secret.
    pub(crate) fn as_str(&self) -> &str {
        &self.secret
    }

    /// Whether `given` is the secret. Takes the same time wherever they differ, so that the
    /// time of a refusal says nothing about how much of a guess was right.
    pub(crate) fn matches(&self, given: &str) -> bool {
        let (given, expected) = (given.as_bytes(), self.secret.as_bytes());
        given.len() == expected.len()
            && given
                .iter()
                .zip(expected)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("generated", &self.generated)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_themselves() {
        let token = Secret::given("s3cret".into());
        assert!(token.matches("s3cret"));
        for wrong in ["", "s3cre", "s3cret!", "S3cret", "s3crex"] {
            assert!(!token.matches(wrong), "{wrong:?}");
        }
        assert!(!token.generated());
    }

    #[test]
    fn generated_tokens_are_long_random_and_not_debug_printed() {
        let (a, b) = (Secret::generate(), Secret::generate());
        assert!(a.generated());
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.as_str(), b.as_str());
        assert!(!format!("{a:?}").contains(a.as_str()));
    }
}
