//! `.agent-strace.yaml`: how long sessions are kept (retention).

use std::path::PathBuf;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

use super::{SettingsFile, Syntax};
use crate::model::text::real;

/// `.agent-strace.yaml`: the retention limits, under `retention:` or (as the Python tool also
/// accepts) at the top level; under `retention:` wins.
///
/// The Python tool keeps more in this file, for commands this build does not have: `apply`'s
/// `workspaces`, `policies`, `identities`, `team_budgets` and `rbac`, and the project budget
/// (`budget:`, or its keys at the top level as it reads them). Those sections are accepted and
/// not read, whatever they hold, so that a file it accepts applies its retention here; any
/// other key at the top (a misspelt `retension`) is still an error.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StraceSettings {
    retention: Option<Retention>,
    #[serde(deserialize_with = "zero_or_more")]
    max_age_days: Option<f64>,
    max_sessions: Option<u64>,
    #[serde(deserialize_with = "zero_or_more")]
    max_size_mb: Option<f64>,
    on_delete: Option<OnDelete>,
    log_path: Option<PathBuf>,
    workspaces: Option<IgnoredAny>,
    policies: Option<IgnoredAny>,
    identities: Option<IgnoredAny>,
    team_budgets: Option<IgnoredAny>,
    rbac: Option<IgnoredAny>,
    budget: Option<IgnoredAny>,
    weekly: Option<IgnoredAny>,
    warn_at: Option<IgnoredAny>,
    stop_at: Option<IgnoredAny>,
    per_session_max: Option<IgnoredAny>,
}

impl StraceSettings {
    /// The retention limits, wherever the file put them.
    pub fn retention(&self) -> Retention {
        self.retention.clone().unwrap_or_else(|| Retention {
            max_age_days: self.max_age_days,
            max_sessions: self.max_sessions,
            max_size_mb: self.max_size_mb,
            on_delete: self.on_delete.unwrap_or_default(),
            log_path: self.log_path.clone(),
        })
    }
}

/// Limits past which the oldest sessions are deleted, applied age, then count, then size.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    #[serde(deserialize_with = "zero_or_more")]
    pub max_age_days: Option<f64>,
    pub max_sessions: Option<u64>,
    #[serde(deserialize_with = "zero_or_more")]
    pub max_size_mb: Option<f64>,
    pub on_delete: OnDelete,
    /// Where deletions are logged [default: `retention.log` in the store].
    pub log_path: Option<PathBuf>,
}

/// A limit of days or MB, refused when it is negative, NaN or infinite as the flags refuse it:
/// `max_age_days: -1` or `max_size_mb: -1` deleted every session, `.nan` or `.inf` none. No
/// value (`max_age_days:` or `~`) is no limit.
fn zero_or_more<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    match Option::<f64>::deserialize(deserializer)? {
        Some(value) if !(value.is_finite() && value >= 0.0) => Err(serde::de::Error::custom(
            format!("expected a number of 0 or more, found {}", real(value)),
        )),
        value => Ok(value),
    }
}

/// What happens when a session is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDelete {
    /// A line (session id, time) in the retention log.
    #[default]
    Log,
    /// Nothing is written.
    Silent,
}

impl SettingsFile for StraceSettings {
    const NAMES: &'static [&'static str] = &[".agent-strace.yaml", ".agent-strace.yml"];
    const SYNTAX: Syntax = Syntax::Yaml;
}
