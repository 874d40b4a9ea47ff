//! The HTTP side: an axum router for the pages, the client bundle, the Admin UI and the
//! metrics, with Socket.IO mounted around it as a tower layer (`io.layer()`).

use std::sync::Arc;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use roomcast::Server;
use roomcast_admin::UiBundle;
use roomcast_metrics::Metrics;

use crate::assets::{ClientBundle, StaticFile, JS, STATIC_FILES};

/// Where the Admin UI is served (its files' paths are relative to it).
pub(crate) const ADMIN_UI_PATH: &str = "/admin-ui/";

/// The pages only reach their own origin (Socket.IO included) and run no inline code.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Everything the process serves over HTTP.
pub(crate) fn router(
    io: &Server,
    client: ClientBundle,
    admin_ui: UiBundle,
    metrics: Arc<Metrics>,
) -> Router {
    let admin_ui = Arc::new(admin_ui);
    let index = admin_ui.clone();
    let site = STATIC_FILES
        .iter()
        .fold(Router::new(), |site, file| {
            site.route(file.path, get(move || async move { serve_file(file) }))
        })
        .route(
            "/admin-ui",
            get(|| async { Redirect::permanent(ADMIN_UI_PATH) }),
        )
        .route(
            ADMIN_UI_PATH,
            get(move || async move { serve_ui_file(&index, "") }),
        )
        .route(
            "/admin-ui/{*path}",
            get(move |Path(path): Path<String>| async move { serve_ui_file(&admin_ui, &path) }),
        )
        .route("/metrics", get(move || async move { metrics.response() }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not found\n") });
    let ClientBundle { script, source_map } = client;
    site
        // Socket.IO answers every request under /socket.io/ and hands the others to the site.
        .layer(io.layer())
        // Routes added after `layer` are outside it: the client bundle is served before
        // Socket.IO sees the request, as Node's server does it (`serveClient`).
        .route(
            ClientBundle::SCRIPT_PATH,
            get(move || async move { ([(header::CONTENT_TYPE, JS)], script) }),
        )
        .route(
            ClientBundle::SOURCE_MAP_PATH,
            get(move || async move {
                match source_map {
                    Some(map) => ([(header::CONTENT_TYPE, JSON)], map).into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
}

const JSON: &str = "application/json";

/// A file of the Admin UI's bundle. The bundle is the npm package's, not ours: it gets no
/// content security policy of ours, as on admin.socket.io.
fn serve_ui_file(bundle: &UiBundle, path: &str) -> Response {
    match bundle.file(path) {
        Some((content_type, body)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "Not found\n").into_response(),
    }
}

fn serve_file(file: &'static StaticFile) -> Response {
    let headers = [
        (header::CONTENT_TYPE, file.content_type),
        // Compiled in: a new build may change it under the same path.
        (header::CACHE_CONTROL, "no-cache"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    ];
    (headers, file.body).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::{to_bytes, Body, Bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn get_path(app: &Router, path: &str) -> (StatusCode, String, Bytes) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, content_type, body)
    }

    fn app() -> Router {
        let client = ClientBundle {
            script: Bytes::from_static(b"/* socket.io */"),
            source_map: None,
        };
        let io = Server::new();
        let metrics = Metrics::install(&io);
        let admin_ui = crate::assets::admin_ui().expect("npm ci has run");
        router(&io, client, admin_ui, metrics)
    }

    #[tokio::test]
    async fn serves_the_pages() {
        let app = app();
        for file in &STATIC_FILES {
            let (status, content_type, body) = get_path(&app, file.path).await;
            assert_eq!(status, StatusCode::OK, "{}", file.path);
            assert_eq!(content_type, file.content_type, "{}", file.path);
            assert_eq!(body, file.body.as_bytes(), "{}", file.path);
        }
        let (status, _, _) = get_path(&app, "/nothing-here").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn serves_the_client_bundle_in_front_of_socket_io() {
        let app = app();
        let (status, content_type, body) = get_path(&app, ClientBundle::SCRIPT_PATH).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, JS);
        assert_eq!(body, "/* socket.io */");
        let (status, _, _) = get_path(&app, ClientBundle::SOURCE_MAP_PATH).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn serves_the_admin_ui_under_its_path() {
        let app = app();
        let request = Request::get("/admin-ui").body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(response.headers()[header::LOCATION], ADMIN_UI_PATH);
        let (status, content_type, body) = get_path(&app, ADMIN_UI_PATH).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "text/html; charset=utf-8");
        let index = String::from_utf8_lossy(&body).into_owned();
        // Every script the page loads is served, relative to the page.
        let scripts: Vec<&str> = index
            .split("src=")
            .skip(1)
            .filter_map(|rest| rest.trim_start_matches('"').split(['"', ' ', '>']).next())
            .filter(|src| src.ends_with(".js"))
            .collect();
        assert!(!scripts.is_empty(), "{index}");
        for script in scripts {
            let path = format!("{ADMIN_UI_PATH}{}", script.trim_start_matches("./"));
            let (status, content_type, _) = get_path(&app, &path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(content_type, JS, "{path}");
        }
        let (status, _, _) = get_path(&app, "/admin-ui/js/nothing.js").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn serves_the_metrics() {
        let (status, content_type, body) = get_path(&app(), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, roomcast_metrics::CONTENT_TYPE);
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("# TYPE roomcast_events_received counter"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[tokio::test]
    async fn socket_io_answers_its_own_path() {
        let app = app();
        let (status, _, body) = get_path(&app, "/socket.io/?EIO=4&transport=polling").await;
        assert_eq!(status, StatusCode::OK);
        let open = String::from_utf8_lossy(&body);
        assert!(
            open.starts_with("0{") && open.contains("\"sid\":"),
            "{open}"
        );
    }
}
