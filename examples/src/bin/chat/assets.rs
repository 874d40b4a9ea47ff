//! What the web server sends: the pages, compiled in from `examples/chat-web/`, and the
//! browser build of socket.io-client and the Admin UI's bundle, read at start from the
//! `node_modules` that `npm ci` fills.

use std::io;
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use roomcast_admin::UiBundle;

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

/// Why a bundle from `node_modules` could not be loaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BundleError {
    /// No `node_modules` with it where it was looked for.
    #[error(
        "{what} is missing: no {file} in {} or its parent directories, nor in {}. \
         Run `npm ci` in the repository first.",
        .cwd.display(),
        .workspace.display()
    )]
    Missing {
        /// The bundle.
        what: &'static str,
        /// The file that was looked for, relative to the directory holding `node_modules`.
        file: &'static str,
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
/// Where `npm ci` puts the Admin UI's bundle.
const ADMIN_UI_DIST: &str = "node_modules/@socket.io/admin-ui/ui/dist";

/// Finds `relative` as Node would find a package from the working directory (there or in a
/// parent), else in the workspace this binary was built from.
fn find(what: &'static str, relative: &'static str) -> Result<PathBuf, BundleError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let found = cwd
        .ancestors()
        .chain([workspace.as_path()])
        .map(|root| root.join(relative))
        .find(|path| path.exists());
    found.ok_or(BundleError::Missing {
        what,
        file: relative,
        cwd,
        workspace,
    })
}

impl ClientBundle {
    /// The path of the script.
    pub(crate) const SCRIPT_PATH: &'static str = "/socket.io/socket.io.min.js";
    /// The path of its source map.
    pub(crate) const SOURCE_MAP_PATH: &'static str = "/socket.io/socket.io.min.js.map";

    /// Reads socket.io-client's browser build from the `node_modules` [`find`] finds.
    pub(crate) fn load() -> Result<ClientBundle, BundleError> {
        let dist = find("socket.io-client's browser build", DIST)?;
        let read = |name: &str| {
            let path = dist.join(name);
            std::fs::read(&path)
                .map(Bytes::from)
                .map_err(|source| BundleError::Unreadable { path, source })
        };
        let source_map = match read(SOURCE_MAP) {
            Ok(map) => Some(map),
            Err(BundleError::Unreadable { source, .. })
                if source.kind() == io::ErrorKind::NotFound =>
            {
                None
            }
            Err(error) => return Err(error),
        };
        Ok(ClientBundle {
            script: read(SCRIPT)?,
            source_map,
        })
    }
}

/// The official Admin UI's bundle (`@socket.io/admin-ui`'s `ui/dist`), from the `node_modules`
/// [`find`] finds.
pub(crate) fn admin_ui() -> Result<UiBundle, BundleError> {
    let dist = find("the Admin UI's bundle", ADMIN_UI_DIST)?;
    UiBundle::load(&dist).map_err(|source| BundleError::Unreadable { path: dist, source })
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
    fn bundles_are_found_in_the_workspace() {
        let client = ClientBundle::load().expect("npm ci has run");
        assert!(!client.script.is_empty());
        let ui = admin_ui().expect("npm ci has run");
        assert!(ui.file("").is_some());
    }

    #[test]
    fn a_missing_bundle_says_what_to_run() {
        let error = find("nothing", "node_modules/nothing-here/dist").unwrap_err();
        assert!(matches!(error, BundleError::Missing { .. }));
        assert!(error.to_string().contains("npm ci"), "{error}");
    }
}
