//! CORS headers, as Node's `cors` package writes them for engine.io's `cors` option.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::Full;

use crate::config::{Cors, CorsOrigin};

const METHODS: &str = "GET,HEAD,PUT,PATCH,POST,DELETE";

/// The value of `Access-Control-Allow-Origin` for a request from `origin`, and whether the
/// answer depends on the origin (then `Vary: Origin` is added).
fn allowed_origin(cors: &Cors, origin: Option<&HeaderValue>) -> (Option<HeaderValue>, bool) {
    match &cors.origin {
        CorsOrigin::Any => (Some(HeaderValue::from_static("*")), false),
        CorsOrigin::Mirror => (origin.cloned(), true),
        CorsOrigin::List(list) => {
            let allowed = origin.filter(|origin| {
                origin
                    .to_str()
                    .map(|origin| list.iter().any(|allowed| allowed == origin))
                    .unwrap_or(false)
            });
            (allowed.cloned(), true)
        }
    }
}

fn add_origin(cors: &Cors, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
    let (allowed, varies) = allowed_origin(cors, origin);
    if let Some(allowed) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    }
    if varies {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    if cors.credentials {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

/// Adds the CORS headers of a simple request.
pub(crate) fn decorate(cors: &Cors, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
    add_origin(cors, origin, headers);
}

/// Answers a preflight `OPTIONS` request: 204 with the allowed methods and the requested headers.
pub(crate) fn preflight<B>(cors: &Cors, req: &Request<B>) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::NO_CONTENT;
    let headers = res.headers_mut();
    add_origin(cors, req.headers().get(header::ORIGIN), headers);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(METHODS),
    );
    if let Some(requested) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
        headers.append(
            header::VARY,
            HeaderValue::from_static("Access-Control-Request-Headers"),
        );
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(origin: &str) -> Request<()> {
        Request::builder()
            .method("OPTIONS")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(())
            .unwrap()
    }

    #[test]
    fn any_origin_answers_star() {
        let res = preflight(&Cors::default(), &request("https://a.example"));
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_METHODS], METHODS);
        assert_eq!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "content-type"
        );
    }

    #[test]
    fn lists_answer_only_listed_origins() {
        let cors = Cors {
            origin: CorsOrigin::List(vec!["https://a.example".into()]),
            credentials: true,
        };
        let ok = preflight(&cors, &request("https://a.example"));
        assert_eq!(
            ok.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://a.example"
        );
        assert_eq!(
            ok.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS],
            "true"
        );
        let other = preflight(&cors, &request("https://b.example"));
        assert!(other
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());
    }
}
