use super::verified;
use crate::receiving::providers::crypto::same_secret;
use crate::receiving::providers::request::query_param;
use crate::receiving::providers::{Incoming, Verified, VerifyError};

/// Senders that cannot sign (MailChimp, WordPress, Salesforce, Azure, Kudu) carry the secret
/// itself as `?code=` in the URL; it is compared in constant time with every configured secret.
pub(in crate::receiving::providers) fn secret_in_url(
    keys: &[&[u8]],
    req: &Incoming,
) -> Result<Verified, VerifyError> {
    let code = query_param(req.query, "code").ok_or(VerifyError::MissingCode)?;
    if code.is_empty() {
        return Err(VerifyError::MissingCode);
    }
    if keys.iter().any(|key| same_secret(code.as_bytes(), key)) {
        Ok(verified(None, None))
    } else {
        Err(VerifyError::WrongCode)
    }
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "83699ec7c1d794c0c780e49a5c72972590571fd8";

    fn check(query: Option<&str>, keys: &[&str]) -> Result<Verified, VerifyError> {
        let req = match query {
            Some(query) => Req::post("{}").query(query),
            None => Req::post("{}"),
        };
        verify(&Provider::SecretInUrl, &secrets(keys), &req.incoming(), NOW)
    }

    #[test]
    fn accepts_the_code_among_other_parameters() {
        let query = format!("list=7&code={SECRET}");
        assert!(check(Some(&query), &[SECRET]).is_ok());
    }

    #[test]
    fn accepts_a_percent_encoded_code() {
        assert!(check(Some("code=a%2Bb%3D"), &["a+b="]).is_ok());
    }

    #[test]
    fn rejects_a_wrong_code() {
        let err = check(Some("code=guess"), &[SECRET]).unwrap_err();
        assert_eq!(err, VerifyError::WrongCode);
        assert_eq!(err.status(), 401);
        let prefix = &SECRET[..20];
        assert_eq!(
            check(Some(&format!("code={prefix}")), &[SECRET]),
            Err(VerifyError::WrongCode)
        );
    }

    #[test]
    fn rejects_a_missing_or_empty_code() {
        assert_eq!(check(None, &[SECRET]), Err(VerifyError::MissingCode));
        assert_eq!(check(Some("a=1"), &[SECRET]), Err(VerifyError::MissingCode));
        assert_eq!(
            check(Some("code="), &[SECRET]),
            Err(VerifyError::MissingCode)
        );
    }

    #[test]
    fn accepts_either_code_during_rotation() {
        assert!(check(Some("code=new-code"), &["old-code", "new-code"]).is_ok());
    }
}
