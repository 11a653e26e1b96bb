//! The dashboard's compiled files (`/pkg/…`: its script, wasm and stylesheet, and the icon),
//! served from memory, compressed once with brotli and gzip, and cached by browsers for good.
//!
//! A release binary built with `HOOKHUB_EMBED_SITE` carries the files inside it (`build.rs`)
//! and needs no directory beside it; any other reads them from `site_dir`.
//!
//! Pages name each file with its content's hash (`/pkg/hookhub.wasm?v=1f0c…`), so a browser may
//! keep it a year without asking again (`immutable`): a new build changes the hash and so the
//! URL. A request without the current hash (an old page, a person typing it) is answered
//! `no-cache` with an ETag, so it is never stale. A file rebuilt under a running hub (during
//! `cargo leptos watch`) is read and compressed again when its modification time changes.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use app::AssetUrls;

/// The site's files the binary carries, by their path in the site (`pkg/hookhub.wasm`); empty
/// unless it was built with `HOOKHUB_EMBED_SITE`.
static EMBEDDED: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/embedded_site.rs"));

/// The dashboard's files, by their path in the site, as last read.
#[derive(Clone)]
pub struct Assets {
    site_dir: PathBuf,
    files: Arc<Mutex<HashMap<String, Arc<Asset>>>>,
}

/// One file, and its compressed forms once they are made.
struct Asset {
    modified: Option<SystemTime>,
    /// The first 16 hex digits of the SHA-256 of its bytes.
    hash: String,
    content_type: HeaderValue,
    identity: Bytes,
    /// Made in the background after the file is read (a second or two for the release wasm);
    /// until then the file is sent as it is.
    compressed: OnceLock<Compressed>,
}

#[derive(Default)]
struct Compressed {
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
}

#[derive(Deserialize)]
pub struct Version {
    v: Option<String>,
}

impl Assets {
    /// The files the binary carries, or else those built into `site_dir`.
    pub fn for_site(site_dir: PathBuf) -> Self {
        Self {
            site_dir,
            files: Arc::default(),
        }
    }

    /// Whether the binary carries the site's files (and so ignores `site_dir`).
    pub fn embedded() -> bool {
        !EMBEDDED.is_empty()
    }

    /// Reads and compresses the page's three files now, so the first visitor does not wait.
    pub async fn warm(&self) {
        for path in Self::page_files() {
            let _ = self.get(&path).await;
        }
    }

    /// The URLs a page loads its script, wasm and stylesheet from, each with the hash of the
    /// file as last read. One not read yet (or missing) is named without a hash, and so is
    /// not cached for good.
    pub fn urls(&self) -> AssetUrls {
        let [js, wasm, css] = Self::page_files().map(|path| match self.cached(&path) {
            Some(asset) => format!("/{path}?v={}", asset.hash),
            None => format!("/{path}"),
        });
        AssetUrls { js, wasm, css }
    }

    fn page_files() -> [String; 3] {
        let (dir, name) = (super::SITE_PKG_DIR, super::SITE_NAME);
        [
            format!("{dir}/{name}.js"),
            format!("{dir}/{name}.wasm"),
            format!("{dir}/{name}.css"),
        ]
    }

    /// The file at `path` in the site (`pkg/hookhub.js`) as the binary carries it or as it is
    /// on disk now; `None` if there is none, or the path would leave the site.
    async fn get(&self, path: &str) -> Option<Arc<Asset>> {
        let safe = |part: &str| !part.is_empty() && !part.starts_with('.') && !part.contains('\\');
        if !path.split('/').all(safe) {
            return None;
        }
        if Self::embedded() {
            if let Some(asset) = self.cached(path) {
                return Some(asset);
            }
            let (_, bytes) = EMBEDDED.iter().find(|(name, _)| *name == path)?;
            return Some(self.keep(path, Bytes::from_static(bytes), None));
        }
        let file = self.site_dir.join(path);
        let modified = tokio::fs::metadata(&file).await.ok()?.modified().ok();
        if let Some(asset) = self.cached(path)
            && asset.modified == modified
        {
            return Some(asset);
        }
        let bytes = tokio::fs::read(&file).await.ok()?;
        Some(self.keep(path, bytes.into(), modified))
    }

    /// Remembers the file and starts compressing it.
    fn keep(&self, path: &str, bytes: Bytes, modified: Option<SystemTime>) -> Arc<Asset> {
        let asset = Arc::new(Asset::new(path, bytes, modified));
        if let Ok(mut files) = self.files.lock() {
            files.insert(path.to_owned(), Arc::clone(&asset));
        }
        let compressing = Arc::clone(&asset);
        tokio::task::spawn_blocking(move || compressing.compress());
        asset
    }

    fn cached(&self, path: &str) -> Option<Arc<Asset>> {
        self.files.lock().ok()?.get(path).cloned()
    }
}

impl Asset {
    fn new(name: &str, bytes: Bytes, modified: Option<SystemTime>) -> Self {
        Self {
            modified,
            hash: hex::encode(Sha256::digest(&bytes))[..16].to_owned(),
            content_type: content_type(name),
            identity: bytes,
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

fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok().map(Into::into)
}

/// Brotli's best for files of the release build's size; a faster setting for larger ones (a
/// debug build's wasm is ten times larger, and the best would take a minute).
fn brotli(bytes: &[u8]) -> Option<Bytes> {
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
    let path = format!("{}/{name}", super::SITE_PKG_DIR);
    respond(&assets, &path, version, &request_headers).await
}

/// `GET /favicon.svg`, from the site's root (`public/`).
pub async fn icon(
    State(assets): State<Assets>,
    Query(version): Query<Version>,
    request_headers: HeaderMap,
) -> Response {
    respond(&assets, "favicon.svg", version, &request_headers).await
}

async fn respond(
    assets: &Assets,
    path: &str,
    version: Version,
    request_headers: &HeaderMap,
) -> Response {
    let Some(asset) = assets.get(path).await else {
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
        let asset = Asset::new("hookhub.js", text.clone().into(), None);
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
            Asset::new("a.js", Bytes::from_static(b"x"), None),
            Asset::new("a.png", vec![7; 4096].into(), None),
        ] {
            asset.compress();
            let compressed = asset.compressed.get().unwrap();
            assert!(compressed.gzip.is_none() && compressed.brotli.is_none());
        }
    }
}
