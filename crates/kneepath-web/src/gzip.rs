//! gzip for responses, compressed whole and at once.
//!
//! Every page is rendered in memory before it is sent, so it is compressed
//! in one call and the compressor's state (a few hundred KB) is freed
//! before the first byte goes out. A streaming compressor (tower-http's)
//! keeps that state for every response still being written: with 64 slow
//! clients that was about 30 MB of the server's peak memory (BENCHMARKS.md).
//! Bodies of unknown or large size, already encoded ones and binary types
//! pass through untouched.

use std::io::Write;

use axum::body::Body;
use axum::body::HttpBody as _;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Smaller bodies are not worth compressing.
const MIN: u64 = 1024;
/// Larger ones (none of our pages) are sent as they are.
const MAX: u64 = 4 * 1024 * 1024;

/// Whether an `Accept-Encoding` value accepts gzip (`gzip` or `*`, not
/// with `q=0`).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|part| {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        let refused = it.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

fn compressible(content_type: &str) -> bool {
    let t = content_type.to_ascii_lowercase();
    t.starts_with("text/") || t.contains("json") || t.contains("xml") || t.contains("javascript")
}

pub async fn gzip(req: Request, next: Next) -> Response {
    let wants = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_gzip);
    let res = next.run(req).await;
    if !wants || res.headers().contains_key(header::CONTENT_ENCODING) {
        return res;
    }
    let fits = res
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| (MIN..=MAX).contains(&n));
    let text = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(compressible);
    if !fits || !text {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // The size is known and bounded: this reads memory, not a stream.
    let bytes = match axum::body::to_bytes(body, MAX as usize).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "a response body could not be read for compression");
            let mut failed = Response::new(Body::from("The page could not be sent."));
            *failed.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
            return failed;
        }
    };
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    let packed = match enc.write_all(&bytes).and_then(|()| enc.finish()) {
        Ok(p) => p,
        // Compression into memory does not fail; if it did, send as is.
        Err(_) => return Response::from_parts(parts, Body::from(bytes)),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, Body::from(packed))
}

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn accept_encoding_values() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("gzip, deflate, br, zstd"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("br, deflate"));
        assert!(!accepts_gzip(""));
    }
}
