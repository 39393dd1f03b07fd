//! gzip for responses, compressed whole and at once.
//!
//! Every page is rendered in memory before it is sent, so it is compressed
//! in one call and the compressor's state (a few hundred KB) is freed
//! before the first byte goes out. A streaming compressor (tower-http's)
//! keeps that state for every response still being written: with 64 slow
//! clients that was about 30 MB of the server's peak memory (BENCHMARKS.md).
//! Bodies of unknown or large size, already encoded ones and binary types
//! pass through untouched.

use std::cell::RefCell;

use axum::body::Body;
use axum::body::HttpBody as _;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Smaller bodies are not worth compressing.
const MIN: u64 = 1024;
/// Larger ones (none of our pages) are sent as they are.
const MAX: u64 = 4 * 1024 * 1024;

thread_local! {
    /// Each thread's compressor, reset for every body: its state (about
    /// 300 KB) is made and zeroed once per thread, not once per page.
    static DEFLATE: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// `data` as a gzip member (RFC 1952: header, raw deflate, CRC-32, size),
/// compressed in one call; `None` if the compressor failed.
fn gzip_bytes(data: &[u8]) -> Option<Vec<u8>> {
    DEFLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let deflate = slot.get_or_insert_with(|| Compress::new(Compression::fast(), false));
        deflate.reset();
        // ID1 ID2, deflate, no flags, no time, no extra flags, unknown OS.
        let mut out = Vec::with_capacity(data.len() / 4 + 64);
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        loop {
            let read = usize::try_from(deflate.total_in()).ok()?;
            let rest = data.get(read..)?;
            let written = deflate.total_out();
            match deflate
                .compress_vec(rest, &mut out, FlushCompress::Finish)
                .ok()?
            {
                Status::StreamEnd => break,
                // No progress with room to spare: give up (sent as is).
                _ if deflate.total_out() == written
                    && usize::try_from(deflate.total_in()).ok()? == read
                    && out.len() < out.capacity() =>
                {
                    return None;
                }
                // The output is full: give it more room and go on.
                Status::Ok | Status::BufError => out.reserve(out.capacity().max(4096)),
            }
        }
        let mut crc = Crc::new();
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE: the input's length modulo 2^32.
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        Some(out)
    })
}

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
    let Some(packed) = gzip_bytes(&bytes) else {
        // Compression into memory does not fail; if it did, send as is.
        return Response::from_parts(parts, Body::from(bytes));
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
    use super::{accepts_gzip, gzip_bytes};

    #[test]
    fn bodies_read_back_the_same_and_the_compressor_is_reused() {
        use std::io::Read;
        let page: String = (0..4000).map(|i| format!("<td>{}</td>", i % 97)).collect();
        let noise: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        // One thread, one compressor: each body after the first starts
        // from a reset state.
        for body in [page.as_bytes(), &noise, b"", page.as_bytes()] {
            let packed = gzip_bytes(body).expect("compressed");
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&packed[..])
                .read_to_end(&mut back)
                .expect("valid gzip");
            assert_eq!(back, body);
        }
        assert!(gzip_bytes(page.as_bytes()).expect("compressed").len() < page.len() / 3);
    }

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
