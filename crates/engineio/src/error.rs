//! Errors: the HTTP errors of Node's engine.io, and the ones a caller of this crate can act on.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;

/// The error of [`Socket::send`](crate::Socket::send).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The session is closed or closing.
    #[error("the session is closed")]
    Closed,
    /// The session's outgoing queue is over `max_buffered_bytes`; the session is being closed.
    #[error("the session's outgoing queue is full")]
    QueueFull,
}

/// The protocol errors of Node's engine.io (`Server.errors`), answered to bad requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HttpError {
    UnknownTransport = 0,
    UnknownSid = 1,
    BadHandshakeMethod = 2,
    BadRequest = 3,
    Forbidden = 4,
    UnsupportedProtocolVersion = 5,
}

impl HttpError {
    fn message(self) -> &'static str {
        match self {
            HttpError::UnknownTransport => "Transport unknown",
            HttpError::UnknownSid => "Session ID unknown",
            HttpError::BadHandshakeMethod => "Bad handshake method",
            HttpError::BadRequest => "Bad request",
            HttpError::Forbidden => "Forbidden",
            HttpError::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }

    /// The answer to a plain HTTP request: status 403 for `Forbidden`, else 400, with the JSON
    /// body `{"code":N,"message":"..."}`.
    pub(crate) fn response(self, message: Option<&str>) -> Response<Full<Bytes>> {
        let status = match self {
            HttpError::Forbidden => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = serde_json::json!({
            "code": self as u8,
            "message": message.unwrap_or(self.message()),
        });
        let mut res = Response::new(Full::new(Bytes::from(body.to_string())));
        *res.status_mut() = status;
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res
    }

    /// The answer to a WebSocket upgrade request: a plain `400 Bad Request` whose body is the
    /// message, and the connection closes (Node's `abortUpgrade`).
    pub(crate) fn upgrade_response(self, message: Option<&str>) -> Response<Full<Bytes>> {
        let body = Bytes::from(message.unwrap_or(self.message()).to_owned());
        let mut res = Response::new(Full::new(body));
        *res.status_mut() = StatusCode::BAD_REQUEST;
        let headers = res.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        res
    }
}

/// A response with a status and an empty body.
pub(crate) fn empty_response(status: StatusCode) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = status;
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(res: Response<Full<Bytes>>) -> String {
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn json_errors_match_node() {
        let cases = [
            (
                HttpError::UnknownTransport,
                400,
                r#"{"code":0,"message":"Transport unknown"}"#,
            ),
            (
                HttpError::UnknownSid,
                400,
                r#"{"code":1,"message":"Session ID unknown"}"#,
            ),
            (
                HttpError::BadHandshakeMethod,
                400,
                r#"{"code":2,"message":"Bad handshake method"}"#,
            ),
            (
                HttpError::BadRequest,
                400,
                r#"{"code":3,"message":"Bad request"}"#,
            ),
            (
                HttpError::Forbidden,
                403,
                r#"{"code":4,"message":"Forbidden"}"#,
            ),
            (
                HttpError::UnsupportedProtocolVersion,
                400,
                r#"{"code":5,"message":"Unsupported protocol version"}"#,
            ),
        ];
        for (error, status, expected) in cases {
            let res = error.response(None);
            assert_eq!(res.status().as_u16(), status);
            assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
            assert_eq!(body(res).await, expected);
        }
        let refused = HttpError::Forbidden.response(Some("no thanks"));
        assert_eq!(body(refused).await, r#"{"code":4,"message":"no thanks"}"#);
    }

    #[tokio::test]
    async fn upgrade_errors_are_plain_text() {
        let res = HttpError::UnknownSid.upgrade_response(None);
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers()[header::CONNECTION], "close");
        assert_eq!(body(res).await, "Session ID unknown");
    }
}
