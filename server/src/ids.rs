//! Readable, unguessable ids: a prefix naming the kind (`src_`, `hdl_`, …) and random lowercase
//! letters and digits, safe in URL paths.

use rand::Rng;

pub fn random_id(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}
