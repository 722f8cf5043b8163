//! The HTTP/1.1 accept loop: hyper configured for hostile clients, serving the router until
//! shutdown.
//!
//! `axum::serve` gives no access to hyper's connection settings, and two of them matter here:
//! - **Header-read timeout.** The request timeout layer only starts once hyper has parsed the
//!   whole head, so a client trickling header bytes (slowloris) would hold its connection and
//!   task forever. hyper cuts such a connection once its timer runs out; the timer is only
//!   armed when the builder is given one, which `axum::serve` does not do.
//! - **problem+json for hyper's own answers.** A request line or header section hyper cannot
//!   parse (URI over 64 KiB, more than 100 headers, a head larger than hyper's read buffer, a
//!   malformed line) never reaches the router: hyper writes a bare `414`, `431` or `400` with no
//!   body and closes. [`ProblemOnParseError`] recognises that answer on its way out and writes
//!   the contract's problem+json in its place.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tower::ServiceExt;

use super::problem::Problem;

/// The local address a request's connection was accepted on (a request extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr(pub std::net::SocketAddr);

/// How long to wait before accepting again after `accept` failed (e.g. out of file
/// descriptors): retrying at once would spin on the same error.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and waits
/// for every open connection to finish its in-flight request. A client gets
/// `header_read_timeout` to send a request's whole head; each request carries the client's
/// address as [`ConnectInfo<std::net::SocketAddr>`] and the address it reached as [`LocalAddr`].
/// No upgrades (no route uses them).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Orders are small request/response pairs: Nagle's delay would only add latency.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        // The address the client reached (this host's, never a header's): the base of absolute
        // links when no `--public-url` is set.
        let local = match stream.local_addr() {
            Ok(local) => Some(LocalAddr(local)),
            Err(error) => {
                tracing::debug!(%error, "cannot read a connection's local address");
                None
            }
        };
        let service = router.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(remote));
            if let Some(local) = local {
                request.extensions_mut().insert(local);
            }
            request
        });
        let io = TokioIo::new(ProblemOnParseError::new(stream));
        let connection = builder.serve_connection(io, TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // A client that hangs up or times out mid-request is routine, not a server fault.
                tracing::debug!(%error, %remote, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// A connection that replaces hyper's bare parse-error answers with problem+json.
///
/// hyper answers a head it cannot parse with a status line and `content-length: 0`, no
/// `content-type`, and then closes the connection. The router never answers a 4xx without a
/// `content-type` (every error it makes is problem+json), so such a write can only be hyper's.
/// Nothing else on the connection is touched.
pub(super) struct ProblemOnParseError<IO> {
    inner: IO,
    /// The replacement answer and how much of it is written; once set, hyper's own bytes are
    /// discarded (it closes the connection right after its error answer).
    replacement: Option<(Vec<u8>, usize)>,
}

impl<IO> ProblemOnParseError<IO> {
    pub(super) fn new(inner: IO) -> Self {
        Self { inner, replacement: None }
    }
}

impl<IO: AsyncWrite + Unpin> ProblemOnParseError<IO> {
    /// Writes what is left of the replacement answer.
    fn poll_write_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some((bytes, written)) = &mut self.replacement {
            while *written < bytes.len() {
                let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                *written += n;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for ProblemOnParseError<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for ProblemOnParseError<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacement.is_none() {
            match hyper_parse_error_status(buf) {
                Some(status) => self.replacement = Some((problem_answer(status), 0)),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        // hyper's bytes count as written: the replacement goes out instead, now or at flush.
        match self.poll_write_replacement(cx) {
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Ready(Ok(())) | Poll::Pending => Poll::Ready(Ok(buf.len())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_replacement(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_replacement(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The status of hyper's automatic parse-error answer, when `buf` starts with one: status
/// 400, 414 or 431, a whole head in `buf`, `content-length: 0` and no `content-type`.
fn hyper_parse_error_status(buf: &[u8]) -> Option<StatusCode> {
    let status = match buf.get(..13)? {
        b"HTTP/1.1 400 " => StatusCode::BAD_REQUEST,
        b"HTTP/1.1 414 " => StatusCode::URI_TOO_LONG,
        b"HTTP/1.1 431 " => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => return None,
    };
    let end = buf.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let mut fields = head.split("\r\n").skip(1);
    let bodiless = fields.clone().any(|field| field.replace(' ', "") == "content-length:0");
    let typed = fields.any(|field| field.starts_with("content-type:"));
    (bodiless && !typed).then_some(status)
}

/// A complete HTTP/1.1 problem+json answer for `status`, closing the connection (as hyper's
/// would have).
fn problem_answer(status: StatusCode) -> Vec<u8> {
    let detail = match status {
        StatusCode::URI_TOO_LONG => "the request URI is longer than 65534 bytes",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            "the request has more than 100 header fields or they are too large"
        }
        _ => "the request line or a header field is malformed",
    };
    let body = serde_json::to_vec(&Problem::new(status, detail)).unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("Error");
    let mut answer = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bare_parse_error_answers_are_recognised() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 04:00:00 GMT\r\n\r\n";
        assert_eq!(hyper_parse_error_status(bare), Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        let uri = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_parse_error_status(uri), Some(StatusCode::URI_TOO_LONG));
    }

    #[test]
    fn the_routers_own_answers_are_left_alone() {
        let problem =
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_parse_error_status(problem), None);
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n";
        assert_eq!(hyper_parse_error_status(with_body), None);
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_parse_error_status(ok), None);
        let partial_head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n";
        assert_eq!(hyper_parse_error_status(partial_head), None);
    }

    #[test]
    fn the_replacement_is_a_whole_problem_json_answer() {
        let answer = String::from_utf8(problem_answer(StatusCode::URI_TOO_LONG)).expect("utf-8");
        let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");

        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let problem: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(problem["status"], 414);
        assert_eq!(problem["type"], "about:blank");
    }
}
