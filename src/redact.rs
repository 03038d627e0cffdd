//! Secret redaction (placeholder until the real module lands).
pub const REDACTED: &str = "[REDACTED]";
pub fn redact_value(_v: &mut serde_json::Value) -> bool {
    false
}
