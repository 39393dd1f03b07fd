//! The HTTP/1.1 server: how connections are accepted, how long a client may
//! take, and how many connections are open at once.
//!
//! - A request's headers must arrive within [`Settings::header_timeout`],
//!   measured from the moment the server is ready to read them: on a new
//!   connection from the accept, on a kept-alive one from the end of the
//!   last response. So a half-sent header and an idle keep-alive connection
//!   are both closed after it.
//! - A request's body must arrive in full within [`Settings::body_timeout`]
//!   from the first read of it ([`DeadlineBody`]); a trickled body fails
//!   with 408, and the connection is closed.
//! - A connection the server closes is closed in stages ([`Lingering`]):
//!   the response is sent, then the server stops writing and reads and
//!   discards what the client still sends (a request body no handler read)
//!   for a moment, so the kernel does not answer those bytes with a reset
//!   that would throw away the end of the response (RFC 9112 §9.6).
//! - At most [`Settings::max_connections`] connections are open, kept below
//!   the process's descriptor limit ([`connection_cap`]). When the cap is
//!   reached, a warning is logged and further connections wait in the
//!   listen queue until one closes; those already open keep being served.
//!
//! [`Settings::header_timeout`]: crate::Settings::header_timeout
//! [`Settings::body_timeout`]: crate::Settings::body_timeout
//! [`Settings::max_connections`]: crate::Settings::max_connections

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tower::Service;

use crate::AppState;

/// Descriptors kept free under the limit for everything but client
/// connections: the database, the knowledge base and templates, logs, and
/// the pipes of the PDF renderer.
pub const RESERVED_DESCRIPTORS: u64 = 64;

/// How many connections may be open at once: `wanted`, but at most the
/// soft descriptor limit less [`RESERVED_DESCRIPTORS`] (and at least 8).
/// Without a cap below the limit, idle sockets used up the descriptors and
/// `accept` failed with "Too many open files" for everyone.
pub fn connection_cap(wanted: usize) -> usize {
    #[cfg(unix)]
    if let Ok((soft, _)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        let room = soft.saturating_sub(RESERVED_DESCRIPTORS).max(8);
        return wanted.min(usize::try_from(room).unwrap_or(usize::MAX));
    }
    wanted
}

/// Serve the app on a bound listener until `shutdown` completes; then stop
/// accepting, let requests in flight finish (up to 10 s) and return.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cap = connection_cap(state.settings.max_connections);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.settings.header_timeout)
        .keep_alive(true);
    let router = crate::router(state);
    let open = Arc::new(Semaphore::new(cap));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut at_cap = false;
    tokio::pin!(shutdown);
    loop {
        let permit = match open.clone().try_acquire_owned() {
            Ok(p) => {
                at_cap = false;
                p
            }
            Err(_) => {
                if !at_cap {
                    tracing::warn!(
                        cap,
                        "connection cap reached: {cap} connections are open; new connections wait until one closes"
                    );
                    at_cap = true;
                }
                tokio::select! {
                    p = open.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // A connection that failed before it was accepted is
                    // nobody's problem; anything else (descriptors) is
                    // logged and retried after a pause.
                    if !is_connection_error(&e) {
                        tracing::error!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(remote));
            let mut router = router.clone();
            router.call(req.map(Body::new))
        });
        let io = TokioIo::new(Lingering::new(stream));
        let conn = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %remote, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("requests still running after 10 s; stopping anyway");
        }
    }
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Give every request body that may have content a deadline for arriving
/// in full (from the first read of it).
pub async fn body_deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.body().size_hint().exact() == Some(0) {
        return next.run(req).await;
    }
    let limit = state.settings.body_timeout;
    next.run(req.map(|b| Body::new(DeadlineBody::new(b, limit))))
        .await
}

/// A request body that fails with [`BodyTimedOut`] when it has not been
/// read in full within its time.
#[derive(Debug)]
pub struct DeadlineBody {
    inner: Body,
    limit: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl DeadlineBody {
    pub fn new(inner: Body, limit: Duration) -> Self {
        DeadlineBody {
            inner,
            limit,
            deadline: None,
        }
    }
}

/// The body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within its time")]
pub struct BodyTimedOut;

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let limit = this.limit;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => match deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether an error, or any error under it, is a body that timed out.
pub fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if err.is::<BodyTimedOut>() {
            return true;
        }
        next = err.source();
    }
    false
}

/// How long a closing connection reads what the client still sends.
pub const LINGER: Duration = Duration::from_secs(2);
/// At most this much is read and discarded while closing.
const LINGER_BYTES: usize = 256 * 1024;

/// A client connection that closes in stages: on shutdown it first sends
/// its FIN after everything written, then reads and discards whatever the
/// client still sends, until the client closes too, [`LINGER`] has passed
/// or [`LINGER_BYTES`] were read. Closing with unread bytes would make the
/// kernel send a reset, and a reset throws away the part of the response
/// the client has not read yet (a 120 KB FHIR Bundle arrived as 3.5 KB when
/// the request had a body no handler read).
#[derive(Debug)]
pub struct Lingering {
    inner: tokio::net::TcpStream,
    closing: Closing,
}

#[derive(Debug)]
enum Closing {
    Open,
    Draining { until: Pin<Box<Sleep>>, read: usize },
    Closed,
}

impl Lingering {
    pub fn new(inner: tokio::net::TcpStream) -> Self {
        Lingering {
            inner,
            closing: Closing::Open,
        }
    }
}

impl tokio::io::AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        loop {
            match &mut this.closing {
                Closing::Open => {
                    // The FIN goes after everything already written.
                    if let Err(e) = std::task::ready!(Pin::new(&mut this.inner).poll_shutdown(cx)) {
                        this.closing = Closing::Closed;
                        return Poll::Ready(Err(e));
                    }
                    this.closing = Closing::Draining {
                        until: Box::pin(tokio::time::sleep(LINGER)),
                        read: 0,
                    };
                }
                Closing::Draining { until, read } => {
                    if until.as_mut().poll(cx).is_ready() || *read >= LINGER_BYTES {
                        this.closing = Closing::Closed;
                        continue;
                    }
                    let mut scratch = [0u8; 8192];
                    let mut buf = tokio::io::ReadBuf::new(&mut scratch);
                    match tokio::io::AsyncRead::poll_read(Pin::new(&mut this.inner), cx, &mut buf) {
                        Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                            *read += buf.filled().len();
                        }
                        // The client closed too, or the socket failed.
                        Poll::Ready(_) => this.closing = Closing::Closed,
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Closing::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}
