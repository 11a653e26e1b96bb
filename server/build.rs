//! With `HOOKHUB_EMBED_SITE` naming a built site (`target/site`, as `hookhub-site` or
//! `cargo leptos build` write it), the binary carries its files, and serves them without a
//! directory beside it (`http/assets.rs`). Without it, the binary reads them from `site_dir`.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo::rerun-if-env-changed=HOOKHUB_EMBED_SITE");
    let mut files = Vec::new();
    if let Some(site) = std::env::var_os("HOOKHUB_EMBED_SITE") {
        let site = Path::new(&site);
        collect(site, site, &mut files);
        assert!(
            files.iter().any(|(name, _)| name.ends_with(".wasm")),
            "HOOKHUB_EMBED_SITE={} holds no wasm: build the site first",
            site.display()
        );
    }
    files.sort();
    let mut code = String::from("&[\n");
    for (name, path) in &files {
        println!("cargo::rerun-if-changed={path}");
        writeln!(code, "    ({name:?}, include_bytes!({path:?})),").unwrap();
    }
    code.push(']');
    let out = Path::new(&std::env::var_os("OUT_DIR").unwrap()).join("embedded_site.rs");
    std::fs::write(out, code).unwrap();
}

/// Every file under `dir`, by its path relative to `site` with `/` between parts.
fn collect(site: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("HOOKHUB_EMBED_SITE: reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(site, &path, files);
        } else {
            let name = path.strip_prefix(site).unwrap().to_string_lossy();
            let absolute = std::fs::canonicalize(&path).unwrap();
            files.push((
                name.replace('\\', "/"),
                absolute.to_string_lossy().into_owned(),
            ));
        }
    }
}
