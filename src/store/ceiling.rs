//! `watchdog-budget.json`: the cost ceiling a `watch` held a session to, so that `lint`'s
//! budget-proximity rule measures the session against the ceiling it ran under. Written whole
//! under a temporary name and renamed; a later watch with a ceiling replaces it.

use std::io::Read;

use serde_json::{Value, json};

use super::{Result, Store, StoreError};

/// The file's name in the session's folder.
pub const WATCH_BUDGET: &str = "watchdog-budget.json";
const WRITING: &str = ".watchdog-budget.json.writing";
/// More than the file ever holds; a larger one is not ours.
const MAX_BYTES: u64 = 64 * 1024;

impl Store {
    /// Records the cost ceiling (dollars) a watch holds `session_id` to, from `at`.
    pub fn write_watch_budget(&self, session_id: &str, budget_usd: f64, at: f64) -> Result<()> {
        let folder = self.session_folder(session_id)?;
        let path = self.session_dir(session_id).join(WATCH_BUDGET);
        let bytes = json!({"budget_usd": budget_usd, "set_at": at}).to_string();
        folder.write_new(WRITING, bytes.as_bytes())?;
        folder
            .rename(WRITING, WATCH_BUDGET)
            .map_err(|e| StoreError::io(&path, e))
    }

    /// The cost ceiling a watch last held `session_id` to; `None` when no watch set one (or
    /// the file says nothing usable).
    pub fn watch_budget(&self, session_id: &str) -> Result<Option<f64>> {
        let folder = self.session_folder(session_id)?;
        let Some(file) = folder.read(WATCH_BUDGET)? else {
            return Ok(None);
        };
        let mut text = Vec::new();
        file.take(MAX_BYTES)
            .read_to_end(&mut text)
            .map_err(|e| StoreError::io(&self.session_dir(session_id).join(WATCH_BUDGET), e))?;
        Ok(serde_json::from_slice::<Value>(&text)
            .ok()
            .and_then(|v| v.get("budget_usd").and_then(Value::as_f64))
            .filter(|b| b.is_finite() && *b > 0.0))
    }
}
