use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use garde::Validate;
use hexgate_domain::Password;
use hexgate_domain::mfa::{RecoveryCode, SecondFactorProof, TotpCode};
use hexgate_ports::{FieldViolation, MfaStatus, TotpEnrolment};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::extract::{IntoDomain, Rules};

/// The schema pattern of a typed TOTP code (the domain's parser accepts the same).
const TOTP_CODE_PATTERN: &str = "^[0-9]{3} ?[0-9]{3}$";
/// The schema pattern of a typed recovery code: ten characters of the codes' alphabet (letters and
/// digits without `0`, `1`, `l`, `o`), either case, a dash or space allowed in the middle. Every
/// string it admits the domain's parser accepts (a test below holds them together).
const RECOVERY_CODE_PATTERN: &str = "^[a-kmnp-zA-KMNP-Z2-9]{5}[- ]?[a-kmnp-zA-KMNP-Z2-9]{5}$";

/// What the caller has of second factors.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"totp": true, "recovery_codes_left": 9, "passkeys": 1}))]
pub struct MfaStatusResponse {
    /// TOTP is on (confirmed).
    pub totp: bool,
    /// Unused recovery codes (0 without TOTP).
    pub recovery_codes_left: u64,
    /// Registered passkeys.
    pub passkeys: u64,
}

impl From<MfaStatus> for MfaStatusResponse {
    fn from(s: MfaStatus) -> Self {
        Self { totp: s.totp, recovery_codes_left: s.recovery_codes_left, passkeys: s.passkeys }
    }
}

/// A TOTP enrolment, pending until confirmed with a code.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauth_uri": "otpauth://totp/hexgate:ada@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=hexgate&digits=6&period=30&algorithm=SHA1"}))]
pub struct TotpEnrolmentResponse {
    /// 160 random bits in base32 (RFC 4648, no padding): type it into an authenticator app.
    pub secret: String,
    /// The same for a QR code: `otpauth://totp/hexgate:{email}?secret=…&issuer=hexgate&digits=6&period=30&algorithm=SHA1`.
    pub otpauth_uri: String,
}

impl From<TotpEnrolment> for TotpEnrolmentResponse {
    fn from(e: TotpEnrolment) -> Self {
        Self { secret: e.secret.expose_secret().to_owned(), otpauth_uri: e.otpauth_uri.expose_secret().to_owned() }
    }
}

/// A code from the authenticator app.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"code": "123456"}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct TotpConfirm {
    /// Six digits (a space in the middle is allowed).
    #[schemars(extend("pattern" = TOTP_CODE_PATTERN))]
    pub code: String,
}

impl IntoDomain for TotpConfirm {
    type Domain = TotpCode;

    fn into_domain(self) -> Result<TotpCode, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let code = rules.check("code", TotpCode::parse(&self.code));
        rules.finish(|| code)
    }
}

/// The caller's password, asked again before a sensitive change.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"password": "Analytical1"}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct PasswordConfirm {
    #[schemars(length(min = 1, max = 128), extend("format" = "password", "writeOnly" = true))]
    pub password: String,
}

impl IntoDomain for PasswordConfirm {
    type Domain = Password;

    fn into_domain(self) -> Result<Password, Vec<FieldViolation>> {
        Ok(Password::candidate(&self.password))
    }
}

/// Recovery codes, shown only now: each works once, in place of a TOTP code.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"recovery_codes": ["abcde-fghjk", "mnpqr-stuvw"]}))]
pub struct RecoveryCodesResponse {
    /// Ten codes, `xxxxx-xxxxx`.
    pub recovery_codes: Vec<String>,
}

impl From<Vec<RecoveryCode>> for RecoveryCodesResponse {
    fn from(codes: Vec<RecoveryCode>) -> Self {
        Self { recovery_codes: codes.iter().map(RecoveryCode::display).collect() }
    }
}

/// The second step of a login: the `mfa_token` of the 403 `mfa_required` answer, and either a
/// TOTP `code` or a `recovery_code` (exactly one of them).
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"mfa_token": "q3J1…", "code": "123456"}))]
// Exactly one of the two, stated where a client (and a fuzzer) reads the schema.
#[schemars(extend("oneOf" = [
    {"required": ["code"], "properties": {"code": {"type": "string"}}},
    {"required": ["recovery_code"], "properties": {"recovery_code": {"type": "string"}}}
]))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct MfaVerify {
    #[schemars(length(min = 1, max = 512))]
    pub mfa_token: String,
    /// A TOTP code (six digits).
    #[schemars(extend("pattern" = TOTP_CODE_PATTERN))]
    #[serde(default)]
    pub code: Option<String>,
    /// One of the recovery codes (`xxxxx-xxxxx`).
    #[schemars(extend("pattern" = RECOVERY_CODE_PATTERN))]
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// The second step as the use case takes it.
pub(crate) struct SecondStep {
    pub mfa_token: String,
    pub proof: SecondFactorProof,
}

impl IntoDomain for MfaVerify {
    type Domain = SecondStep;

    fn into_domain(self) -> Result<SecondStep, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let proof = match (self.code, self.recovery_code) {
            (Some(code), None) => rules.check("code", TotpCode::parse(&code)).map(SecondFactorProof::Totp),
            (None, Some(code)) => {
                rules.check("recovery_code", RecoveryCode::parse(&code)).map(SecondFactorProof::Recovery)
            }
            _ => {
                rules.absorb(vec![FieldViolation::new(
                    "code",
                    "give either a TOTP code or a recovery code",
                    "mfa_proof_one_of",
                )]);
                None
            }
        };
        rules.finish(|| Some(SecondStep { mfa_token: self.mfa_token, proof: proof? }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(pattern: &str, sample: &str) -> bool {
        let schema = serde_json::json!({"type": "string", "pattern": pattern});
        jsonschema::validator_for(&schema).expect("the pattern compiles").is_valid(&serde_json::json!(sample))
    }

    #[test]
    fn every_code_the_published_patterns_admit_the_domain_accepts() {
        for sample in [
            "abcde-fghjk",
            "ABCDEFGHJK",
            "abcde fghjk",
            "23456-789ab",
            "00000-00000",
            "0000000000",
            "abcde-fghj1",
            "lllll-ooooo",
            "abcd",
            "abcde--fghjk",
        ] {
            if admitted(RECOVERY_CODE_PATTERN, sample) {
                assert!(RecoveryCode::parse(sample).is_ok(), "{sample:?} is admitted by the document but refused");
            }
        }
        assert!(!admitted(RECOVERY_CODE_PATTERN, "0000000000"), "0 is not in the alphabet");
        assert!(admitted(RECOVERY_CODE_PATTERN, "abcde-fghjk"));
        for sample in ["123456", "123 456", "12345", "1234567", "12a456"] {
            if admitted(TOTP_CODE_PATTERN, sample) {
                assert!(TotpCode::parse(sample).is_ok(), "{sample:?} is admitted by the document but refused");
            }
        }
    }
}
