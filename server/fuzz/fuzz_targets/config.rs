//! `Config::load` on any `hookhub.toml` and any `HOOKHUB_*` environment: a bad value must be a
//! `ConfigError` naming the key, never a panic.
//!
//! Input: a mode byte; then either the file's raw bytes, or `key = value` lines (a selector
//! picks a known key, values are TOML strings or raw TOML); then environment pairs.

#![no_main]

use std::fmt::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use hookhub_fuzz::Reader;
use libfuzzer_sys::fuzz_target;
use server::Config;
use server::config::KEYS;

fuzz_target!(|data: &[u8]| run(data));

/// One file, rewritten for every input, in a directory removed when the process exits.
fn config_path() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("hookhub.toml");
        (dir, path)
    });
    path
}

fn run(data: &[u8]) {
    let mut input = Reader::new(data);
    let file = if input.flag() {
        input.bytes().to_vec()
    } else {
        let mut text = String::new();
        for _ in 0..input.byte() % 8 {
            let key = key(&mut input);
            let value = input.text();
            if input.flag() {
                let _ = writeln!(text, "{key} = {}", toml_string(&value));
            } else {
                let _ = writeln!(text, "{key} = {value}");
            }
        }
        text.into_bytes()
    };
    let env: Vec<(String, String)> = (0..input.byte() % 6)
        .map(|_| {
            let name = if input.flag() {
                format!("HOOKHUB_{}", key(&mut input).to_ascii_uppercase())
            } else {
                input.text().into_owned()
            };
            (name, input.text().into_owned())
        })
        .collect();

    let path = config_path();
    std::fs::write(path, &file).expect("writing the config file");
    match Config::load(Some(path), env) {
        Ok(config) => {
            let _ = (
                config.outbound(),
                config.login_throttle(),
                format!("{config:?}"),
            );
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
}

/// A known key three times in four, otherwise any text.
fn key(input: &mut Reader) -> String {
    match input.byte() {
        choice @ 0..0xc0 => KEYS[usize::from(choice) % KEYS.len()].0.to_owned(),
        _ => input.text().into_owned(),
    }
}

/// `value` as a TOML basic string.
fn toml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
