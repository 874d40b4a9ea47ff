//! The Admin UI itself, served by the same server: the bundle the `@socket.io/admin-ui` npm
//! package ships (`ui/dist`), read once into memory. Its paths are relative and its routing
//! uses the URL's fragment, so it works under any path that ends with `/` (`/admin-ui/`).

use std::collections::HashMap;
use std::io;
use std::path::Path;

use bytes::Bytes;

/// The files of the bundle, by path under its directory (`index.html`, `js/app.….js`, …).
#[derive(Debug, Clone)]
pub struct UiBundle {
    files: HashMap<String, (&'static str, Bytes)>,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json" | "map") => "application/json",
        _ => "application/octet-stream",
    }
}

impl UiBundle {
    /// Reads the bundle under `dir` (e.g. `node_modules/@socket.io/admin-ui/ui/dist`).
    pub fn load(dir: &Path) -> io::Result<UiBundle> {
        let mut files = HashMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(current) = pending.pop() {
            for entry in std::fs::read_dir(&current)? {
                let path = entry?.path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let Ok(relative) = path.strip_prefix(dir) else {
                    continue;
                };
                let name = relative.to_string_lossy().replace('\\', "/");
                let body = Bytes::from(std::fs::read(&path)?);
                files.insert(name.clone(), (content_type(&name), body));
            }
        }
        if !files.contains_key("index.html") {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no index.html in {}", dir.display()),
            ));
        }
        Ok(UiBundle { files })
    }

    /// The file at `path` under the bundle's root (`""` is `index.html`), with its content type.
    pub fn file(&self, path: &str) -> Option<(&'static str, Bytes)> {
        let path = path.trim_start_matches('/');
        let path = if path.is_empty() { "index.html" } else { path };
        self.files.get(path).cloned()
    }

    /// How many files it has.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether it has none (never, once loaded).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_serves_its_files_by_relative_path() {
        let dir = std::env::temp_dir().join(format!("roomcast-ui-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("js")).unwrap();
        std::fs::write(dir.join("index.html"), "<html>").unwrap();
        std::fs::write(dir.join("js/app.js"), "run()").unwrap();
        let bundle = UiBundle::load(&dir).unwrap();
        assert_eq!(bundle.len(), 2);
        assert_eq!(bundle.file("").unwrap().0, "text/html; charset=utf-8");
        assert_eq!(&bundle.file("/js/app.js").unwrap().1[..], b"run()");
        assert!(bundle.file("missing.js").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(UiBundle::load(&dir).is_err());
    }
}
