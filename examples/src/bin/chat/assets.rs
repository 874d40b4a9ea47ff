//! What the web server sends: the pages, compiled in from `examples/chat-web/`, and the
//! browser build of socket.io-client, read at start from the `node_modules` that `npm ci`
//! fills.

use std::io;
use std::path::{Path, PathBuf};

use axum::body::Bytes;

/// A file compiled into the binary.
#[derive(Debug)]
pub(crate) struct StaticFile {
    /// Where it is served.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its content.
    pub body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
pub(crate) const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The pages and what they load.
pub(crate) static STATIC_FILES: [StaticFile; 5] = [
    StaticFile {
        path: "/",
        content_type: HTML,
        body: include_str!("../../../chat-web/index.html"),
    },
    StaticFile {
        path: "/admin",
        content_type: HTML,
        body: include_str!("../../../chat-web/admin.html"),
    },
    StaticFile {
        path: "/assets/style.css",
        content_type: CSS,
        body: include_str!("../../../chat-web/style.css"),
    },
    StaticFile {
        path: "/assets/chat.js",
        content_type: JS,
        body: include_str!("../../../chat-web/chat.js"),
    },
    StaticFile {
        path: "/assets/admin.js",
        content_type: JS,
        body: include_str!("../../../chat-web/admin.js"),
    },
];

/// The browser build of socket.io-client, served where Node's server serves it.
#[derive(Debug, Clone)]
pub(crate) struct ClientBundle {
    /// `socket.io.min.js`.
    pub script: Bytes,
    /// `socket.io.min.js.map`, when the package has it.
    pub source_map: Option<Bytes>,
}

/// Why the client bundle could not be loaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BundleError {
    /// No `node_modules` with it where it was looked for.
    #[error(
        "socket.io-client's browser build is missing: no {DIST}/{SCRIPT} in {} or its parent \
         directories, nor in {}. Run `npm ci` in the repository first.",
        .cwd.display(),
        .workspace.display()
    )]
    Missing {
        /// The working directory.
        cwd: PathBuf,
        /// The workspace this binary was built from.
        workspace: PathBuf,
    },
    /// It is there but cannot be read.
    #[error("cannot read {}: {source}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Where `npm ci` puts the browser builds, relative to the directory holding `node_modules`.
const DIST: &str = "node_modules/socket.io-client/dist";
const SCRIPT: &str = "socket.io.min.js";
const SOURCE_MAP: &str = "socket.io.min.js.map";

impl ClientBundle {
    /// The path of the script.
    pub(crate) const SCRIPT_PATH: &'static str = "/socket.io/socket.io.min.js";
    /// The path of its source map.
    pub(crate) const SOURCE_MAP_PATH: &'static str = "/socket.io/socket.io.min.js.map";

    /// Finds `node_modules/socket.io-client/dist` as Node would from the working directory
    /// (there or in a parent), else in the workspace this binary was built from.
    pub(crate) fn load() -> Result<ClientBundle, BundleError> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let found = cwd
            .ancestors()
            .chain([workspace.as_path()])
            .find_map(|root| ClientBundle::load_from(&root.join(DIST)).transpose());
        found.unwrap_or_else(|| Err(BundleError::Missing { cwd, workspace }))
    }

    /// The bundle in `dist`, `None` if the script is not there.
    fn load_from(dist: &Path) -> Result<Option<ClientBundle>, BundleError> {
        let read = |name: &str| {
            let path = dist.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => Ok(Some(Bytes::from(bytes))),
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(BundleError::Unreadable { path, source }),
            }
        };
        let Some(script) = read(SCRIPT)? else {
            return Ok(None);
        };
        Ok(Some(ClientBundle {
            script,
            source_map: read(SOURCE_MAP)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_load_what_is_served() {
        let served: Vec<&str> = STATIC_FILES.iter().map(|file| file.path).collect();
        for page in STATIC_FILES.iter().filter(|file| file.content_type == HTML) {
            for needed in [ClientBundle::SCRIPT_PATH, "/assets/style.css"] {
                assert!(page.body.contains(needed), "{} loads {needed}", page.path);
            }
            for (start, _) in page.body.match_indices("\"/assets/") {
                let path = &page.body[start + 1..];
                let path = &path[..path.find('"').unwrap_or(path.len())];
                assert!(served.contains(&path), "{} loads {path}", page.path);
            }
        }
    }

    #[test]
    fn a_missing_bundle_says_what_to_run() {
        let dir = std::env::temp_dir().join("roomcast-chat-no-bundle");
        assert!(matches!(ClientBundle::load_from(&dir), Ok(None)));
        let error = BundleError::Missing {
            cwd: dir.clone(),
            workspace: dir,
        };
        assert!(error.to_string().contains("npm ci"), "{error}");
    }
}
