//! The dashboard's compiled files (`/pkg/…`: its script, wasm and stylesheet), served from
//! memory, compressed once with brotli and gzip, and cached by browsers for good.
//!
//! Pages name each file with its content's hash (`/pkg/hookhub.wasm?v=1f0c…`), so a browser may
//! keep it a year without asking again (`immutable`): a new build changes the hash and so the
//! URL. A request without the current hash (an old page, a person typing it) is answered
//! `no-cache` with an ETag, so it is never stale. A file rebuilt under a running hub (during
//! `cargo leptos watch`) is read and compressed again when its modification time changes.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use app::AssetUrls;

/// The dashboard's files, by name, as last read from `pkg_dir`.
#[derive(Clone)]
pub struct Assets {
    pkg_dir: PathBuf,
    output_name: &'static str,
    files: Arc<Mutex<HashMap<String, Arc<Asset>>>>,
}

/// One file, and its compressed forms once they are made.
struct Asset {
    modified: Option<SystemTime>,
    /// The first 16 hex digits of the SHA-256 of its bytes.
    hash: String,
    content_type: HeaderValue,
    identity: bytes::Bytes,
    /// Made in the background after the file is read (a second or two for the release wasm);
    /// until then the file is sent as it is.
    compressed: OnceLock<Compressed>,
}

#[derive(Default)]
struct Compressed {
    gzip: Option<bytes::Bytes>,
    brotli: Option<bytes::Bytes>,
}

#[derive(Deserialize)]
pub struct Version {
    v: Option<String>,
}

impl Assets {
    /// The files cargo-leptos built into `site_dir`.
    pub fn for_site(site_dir: &Path) -> Self {
        Self {
            pkg_dir: site_dir.join(super::SITE_PKG_DIR),
            output_name: super::SITE_NAME,
            files: Arc::default(),
        }
    }

    /// Reads and compresses the page's three files now, so the first visitor does not wait.
    pub async fn warm(&self) {
        for name in self.names() {
            let _ = self.get(&name).await;
        }
    }

    /// The URLs a page loads its script, wasm and stylesheet from, each with the hash of the
    /// file as last read. One not read yet (or missing) is named without a hash, and so is
    /// not cached for good.
    pub fn urls(&self) -> AssetUrls {
        let [js, wasm, css] = self.names().map(|name| match self.cached(&name) {
            Some(asset) => format!("/pkg/{name}?v={}", asset.hash),
            None => format!("/pkg/{name}"),
        });
        AssetUrls { js, wasm, css }
    }

    fn names(&self) -> [String; 3] {
        let name = self.output_name;
        [
            format!("{name}.js"),
            format!("{name}.wasm"),
            format!("{name}.css"),
        ]
    }

    /// The file `name` as it is on disk now; `None` if there is none (or the name would leave
    /// the directory).
    async fn get(&self, name: &str) -> Option<Arc<Asset>> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return None;
        }
        let path = self.pkg_dir.join(name);
        let modified = tokio::fs::metadata(&path).await.ok()?.modified().ok();
        if let Some(asset) = self.cached(name)
            && asset.modified == modified
        {
            return Some(asset);
        }
        let bytes = tokio::fs::read(&path).await.ok()?;
        let asset = Arc::new(Asset::new(name, bytes, modified));
        if let Ok(mut files) = self.files.lock() {
            files.insert(name.to_owned(), Arc::clone(&asset));
        }
        let compressing = Arc::clone(&asset);
        tokio::task::spawn_blocking(move || compressing.compress());
        Some(asset)
    }

    fn cached(&self, name: &str) -> Option<Arc<Asset>> {
        self.files.lock().ok()?.get(name).cloned()
    }
}

impl Asset {
    fn new(name: &str, bytes: Vec<u8>, modified: Option<SystemTime>) -> Self {
        Self {
            modified,
            hash: hex::encode(Sha256::digest(&bytes))[..16].to_owned(),
            content_type: content_type(name),
            identity: bytes.into(),
            compressed: OnceLock::new(),
        }
    }

    /// Makes the compressed forms: text and wasm shrink to a third or less; images and the
    /// like, and tiny files, are left as they are.
    fn compress(&self) {
        let compressible = self.content_type.to_str().is_ok_and(|t| {
            t.starts_with("text/")
                || ["javascript", "wasm", "json", "svg"]
                    .iter()
                    .any(|k| t.contains(k))
        });
        let bytes = &self.identity;
        let compressed = if compressible && bytes.len() > 1024 {
            Compressed {
                gzip: gzip(bytes),
                brotli: brotli(bytes),
            }
        } else {
            Compressed::default()
        };
        let _ = self.compressed.set(compressed);
    }
}

fn content_type(name: &str) -> HeaderValue {
    let extension = name.rsplit('.').next().unwrap_or_default();
    HeaderValue::from_static(match extension {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    })
}

fn gzip(bytes: &[u8]) -> Option<bytes::Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok().map(Into::into)
}

/// Brotli's best for files of the release build's size; a faster setting for larger ones (a
/// debug build's wasm is ten times larger, and the best would take a minute).
fn brotli(bytes: &[u8]) -> Option<bytes::Bytes> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: if bytes.len() <= 4 << 20 { 11 } else { 5 },
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).ok()?;
    Some(out.into())
}

/// `GET /pkg/{file}`: the file in the best encoding the client takes, cached for a year when
/// asked for by its current hash, revalidated by ETag otherwise.
pub async fn serve(
    State(assets): State<Assets>,
    UrlPath(name): UrlPath<String>,
    Query(version): Query<Version>,
    request_headers: HeaderMap,
) -> Response {
    let Some(asset) = assets.get(&name).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Weak: the same file in each encoding answers to it.
    let etag = format!("W/\"{}\"", asset.hash);
    let cache = if version.v.as_deref() == Some(asset.hash.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    let revalidated = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    if revalidated {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let accepted = request_headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let accepts = |coding: &str| {
        accepted.split(',').any(|part| {
            let mut pieces = part.split(';');
            let name = pieces.next().unwrap_or_default().trim();
            let refused =
                pieces.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case(coding) && !refused
        })
    };
    let compressed = asset.compressed.get();
    let (body, encoding) = match compressed.map(|c| (&c.brotli, &c.gzip)) {
        Some((Some(br), _)) if accepts("br") => (br.clone(), Some("br")),
        Some((_, Some(gz))) if accepts("gzip") => (gz.clone(), Some("gzip")),
        _ => (asset.identity.clone(), None),
    };
    headers.insert(header::CONTENT_TYPE, asset.content_type.clone());
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    (headers, Body::from(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_compressed_both_ways_and_both_decode_to_the_bytes() {
        let text = "let hookhub = 'dashboard';\n".repeat(200).into_bytes();
        let asset = Asset::new("hookhub.js", text.clone(), None);
        assert_eq!(asset.hash.len(), 16);
        asset.compress();
        let compressed = asset.compressed.get().unwrap();
        let gz = compressed.gzip.clone().expect("gzip");
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped)
            .unwrap();
        assert_eq!(unzipped, text);
        let br = compressed.brotli.clone().expect("brotli");
        let mut unbrotlied = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut unbrotlied).unwrap();
        assert_eq!(unbrotlied, text);
        assert!(br.len() < text.len() / 10);
    }

    #[test]
    fn small_and_binary_files_are_kept_as_they_are() {
        for asset in [
            Asset::new("a.js", b"x".to_vec(), None),
            Asset::new("a.png", vec![7; 4096], None),
        ] {
            asset.compress();
            let compressed = asset.compressed.get().unwrap();
            assert!(compressed.gzip.is_none() && compressed.brotli.is_none());
        }
    }
}
