//! `hookhub-site [--release]`: builds the dashboard's browser half into `target/site`, the way
//! `cargo leptos build` does, without cargo-leptos (which takes twenty minutes to compile on a
//! fresh machine; this takes one).
//!
//! 1. `cargo build` of the `app` library for wasm32 with its `hydrate` feature;
//! 2. wasm-bindgen, as a library, writes `pkg/hookhub.js` and `pkg/hookhub.wasm`;
//! 3. with `--release`, binaryen's `wasm-opt -Oz` shrinks the wasm (it must be on `PATH`);
//! 4. `style/main.css` becomes `pkg/hookhub.css`, and `public/` is copied to the site's root.
//!
//! The server then serves that directory, or carries it inside its binary when it is built
//! with `HOOKHUB_EMBED_SITE` naming it (see `server/build.rs`). `cargo leptos watch` still
//! works for editing: both write the same files to the same place.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail, ensure};

/// `[[workspace.metadata.leptos]]`'s `name`: the files are `hookhub.{js,wasm,css}`.
const OUTPUT_NAME: &str = "hookhub";

fn main() -> anyhow::Result<()> {
    let mut release = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--release" => release = true,
            "-h" | "--help" => {
                println!("usage: hookhub-site [--release]   builds target/site");
                return Ok(());
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    let root = workspace_root()?;
    let site = root.join("target/site");
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).with_context(|| format!("creating {}", pkg.display()))?;

    let started = Instant::now();
    let wasm = build_wasm(&root, release)?;
    bindgen(&wasm, &pkg)?;
    if release {
        optimize(&pkg.join(format!("{OUTPUT_NAME}.wasm")))?;
    }
    copy_file(
        &root.join("style/main.css"),
        &pkg.join(format!("{OUTPUT_NAME}.css")),
    )?;
    copy_dir(&root.join("public"), &site)?;
    println!(
        "hookhub-site: built {} in {:.1} s",
        site.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The directory holding the workspace's `Cargo.toml`: this crate lives in `server/site-builder`.
fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .context("the workspace root is two levels above server/site-builder")
}

/// Compiles the `app` library to wasm32 and answers the path of the `.wasm` it made.
fn build_wasm(root: &Path, release: bool) -> anyhow::Result<PathBuf> {
    let profile = if release { "wasm-release" } else { "dev" };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--package=app",
            "--lib",
            "--target=wasm32-unknown-unknown",
            "--no-default-features",
            "--features=hydrate",
            "--locked",
        ])
        .arg(format!("--profile={profile}"))
        .status()
        .context("running cargo")?;
    ensure!(status.success(), "building the app for wasm32 failed");
    let directory = if release { "wasm-release" } else { "debug" };
    let wasm = root.join(format!(
        "target/wasm32-unknown-unknown/{directory}/app.wasm"
    ));
    ensure!(wasm.is_file(), "cargo built no {}", wasm.display());
    Ok(wasm)
}

/// Writes the wasm and its JavaScript glue into `pkg` as `hookhub.wasm` and `hookhub.js`.
fn bindgen(wasm: &Path, pkg: &Path) -> anyhow::Result<()> {
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .out_name(OUTPUT_NAME)
        .web(true)?
        .typescript(false)
        .generate(pkg)
        .context("wasm-bindgen")?;
    // The server serves only the files directly in pkg/ (http/assets.rs).
    ensure!(
        !pkg.join("snippets").exists(),
        "wasm-bindgen wrote JavaScript snippets, which the server does not serve"
    );
    // The name a page loads it by (and cargo-leptos's): hookhub.wasm, not hookhub_bg.wasm.
    std::fs::rename(
        pkg.join(format!("{OUTPUT_NAME}_bg.wasm")),
        pkg.join(format!("{OUTPUT_NAME}.wasm")),
    )
    .context("renaming the wasm")?;
    Ok(())
}

/// binaryen's `wasm-opt`, as cargo-leptos runs it for release builds.
fn optimize(wasm: &Path) -> anyhow::Result<()> {
    let status = Command::new("wasm-opt")
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .status()
        .context(
            "running wasm-opt: put binaryen's on PATH (`npm ci` in end2end/ installs a version \
             that works, in end2end/node_modules/.bin)",
        )?;
    ensure!(status.success(), "wasm-opt failed");
    Ok(())
}

/// Copies `from` to `to`, leaving `to` alone when it already holds the same bytes (so a
/// running server does not see a change that is none).
fn copy_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    if std::fs::read(to).ok().as_deref() != Some(&bytes[..]) {
        std::fs::write(to, bytes).with_context(|| format!("writing {}", to.display()))?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else {
            copy_file(&entry.path(), &target)?;
        }
    }
    Ok(())
}
