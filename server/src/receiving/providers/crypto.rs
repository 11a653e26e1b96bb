//! HMAC computation, signature decoding and constant-time matching.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::VerifyError;

/// Standard base64 that accepts the padding either present or left off, as senders differ.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Hex,
    Base64,
}

impl Encoding {
    pub(super) fn decode(self, header: &str, text: &str) -> Result<Vec<u8>, VerifyError> {
        match self {
            Self::Hex => decode_hex(header, text),
            Self::Base64 => decode_base64(header, text),
        }
    }
}

pub(super) fn decode_hex(header: &str, text: &str) -> Result<Vec<u8>, VerifyError> {
    hex::decode(text.trim()).map_err(|_| malformed(header, "signature is not valid hex"))
}

pub(super) fn decode_base64(header: &str, text: &str) -> Result<Vec<u8>, VerifyError> {
    BASE64
        .decode(text.trim())
        .map_err(|_| malformed(header, "signature is not valid base64"))
}

pub(super) fn decode_base64_key(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text.trim()).ok()
}

fn malformed(header: &str, reason: &'static str) -> VerifyError {
    VerifyError::MalformedHeader {
        header: header.to_owned(),
        reason,
    }
}

/// HMAC of the concatenation of `parts`.
pub(super) fn hmac(algorithm: Algorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match algorithm {
        Algorithm::Sha1 => mac_with::<Hmac<sha1::Sha1>>(key, parts),
        Algorithm::Sha256 => mac_with::<Hmac<sha2::Sha256>>(key, parts),
        Algorithm::Sha512 => mac_with::<Hmac<sha2::Sha512>>(key, parts),
    }
}

fn mac_with<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail; if it did, the empty MAC
    // matches nothing and verification fails closed.
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Rotation policy: the request verifies if any configured key produced any of the signatures
/// it carries. Every comparison is constant-time in the signature bytes.
pub(super) fn any_key_signed<K: AsRef<[u8]>>(
    algorithm: Algorithm,
    keys: &[K],
    parts: &[&[u8]],
    signatures: &[Vec<u8>],
) -> Result<(), VerifyError> {
    let matched = keys.iter().any(|key| {
        let expected = hmac(algorithm, key.as_ref(), parts);
        !expected.is_empty()
            && signatures
                .iter()
                .any(|given| bool::from(expected.as_slice().ct_eq(given.as_slice())))
    });
    if matched {
        Ok(())
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}

/// Constant-time equality for secrets carried in clear, such as `?code=`.
pub(super) fn same_secret(given: &[u8], key: &[u8]) -> bool {
    bool::from(given.ct_eq(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_rfc_4231_hmac_sha256_and_sha512() {
        let key = b"Jefe";
        let data: &[&[u8]] = &[b"what do ya want ", b"for nothing?"];
        assert_eq!(
            hex::encode(hmac(Algorithm::Sha256, key, data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac(Algorithm::Sha512, key, data)),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
             9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    #[test]
    fn computes_rfc_2202_hmac_sha1() {
        assert_eq!(
            hex::encode(hmac(
                Algorithm::Sha1,
                b"Jefe",
                &[b"what do ya want for nothing?"]
            )),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn accepts_base64_with_or_without_padding() {
        assert_eq!(decode_base64("h", "YWI=").unwrap(), b"ab");
        assert_eq!(decode_base64("h", "YWI").unwrap(), b"ab");
        assert!(decode_base64("h", "YW!=").is_err());
        assert!(decode_hex("h", "abc").is_err());
        assert!(decode_hex("h", "zz").is_err());
    }

    #[test]
    fn refuses_a_truncated_signature() {
        let full = hmac(Algorithm::Sha256, b"k", &[b"body"]);
        let truncated = full[..16].to_vec();
        assert!(any_key_signed(Algorithm::Sha256, &[b"k"], &[b"body"], &[full]).is_ok());
        assert_eq!(
            any_key_signed(Algorithm::Sha256, &[b"k"], &[b"body"], &[truncated]),
            Err(VerifyError::SignatureMismatch)
        );
    }
}
