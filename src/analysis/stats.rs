//! Per-tool call counts, durations and errors, built in one streaming pass over events.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::model::counters::tokens_of;
use crate::model::{Event, EventType};

/// Figures for one tool.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ToolStats {
    pub tool: String,
    pub calls: u64,
    pub errors: u64,
    /// Results that carried a duration.
    pub timed: u64,
    pub total_ms: f64,
    pub mean_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// Statistics of one session (or, rolled up, of a session tree).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    pub sessions: Vec<String>,
    pub events: u64,
    pub duration_s: Option<f64>,
    pub tool_calls: u64,
    pub tool_results: u64,
    pub errors: u64,
    pub llm_requests: u64,
    pub tokens: u64,
    pub user_prompts: u64,
    pub files_read: u64,
    pub files_written: u64,
    pub events_by_type: BTreeMap<String, u64>,
    /// Busiest tools first.
    pub tools: Vec<ToolStats>,
}

#[derive(Default)]
struct ToolAccumulator {
    calls: u64,
    errors: u64,
    durations: Vec<f32>,
    total_ms: f64,
}

/// Folds events into [`Stats`]; feed it one or more sessions, then call [`StatsBuilder::finish`].
#[derive(Default)]
pub struct StatsBuilder {
    sessions: Vec<String>,
    events: u64,
    duration_s: f64,
    timed_sessions: u64,
    by_type: HashMap<EventType, u64>,
    tools: HashMap<String, ToolAccumulator>,
    /// Tool names of calls, for results that do not repeat the name.
    call_tools: HashMap<String, String>,
    tokens: u64,
}

impl StatsBuilder {
    pub fn new() -> Self {
        StatsBuilder::default()
    }

    /// Starts a session; `duration_s` is its wall time when known.
    pub fn session(&mut self, id: &str, duration_s: Option<f64>) {
        self.sessions.push(id.to_owned());
        if let Some(d) = duration_s {
            self.duration_s += d;
            self.timed_sessions += 1;
        }
        self.call_tools.clear();
    }

    pub fn observe(&mut self, event: &Event) {
        self.events += 1;
        *self.by_type.entry(event.event_type.clone()).or_default() += 1;
        match event.event_type {
            EventType::ToolCall => {
                let tool = tool_name(event).unwrap_or("unknown");
                self.tools.entry(tool.to_owned()).or_default().calls += 1;
                self.call_tools
                    .insert(event.event_id.clone(), tool.to_owned());
            }
            EventType::ToolResult | EventType::Error => {
                let tool = tool_name(event).map(str::to_owned).or_else(|| {
                    event
                        .parent_id
                        .as_ref()
                        .and_then(|p| self.call_tools.get(p))
                        .cloned()
                });
                // An error with no tool (an agent-level failure) counts only as an error.
                let Some(tool) = tool else { return };
                let entry = self.tools.entry(tool).or_default();
                if event.event_type == EventType::Error {
                    entry.errors += 1;
                }
                if let Some(ms) = event.duration_ms.filter(|ms| ms.is_finite() && *ms >= 0.0) {
                    entry.durations.push(ms as f32);
                    entry.total_ms += ms;
                }
            }
            EventType::LlmResponse => self.tokens += tokens_of(&event.data),
            _ => {}
        }
    }

    pub fn finish(self) -> Stats {
        let count = |kind: EventType| self.by_type.get(&kind).copied().unwrap_or(0);
        let mut tools: Vec<ToolStats> = self
            .tools
            .into_iter()
            .map(|(tool, mut acc)| {
                acc.durations.sort_by(f32::total_cmp);
                let timed = acc.durations.len() as u64;
                ToolStats {
                    tool,
                    calls: acc.calls,
                    errors: acc.errors,
                    timed,
                    total_ms: acc.total_ms,
                    mean_ms: (timed > 0).then(|| acc.total_ms / timed as f64),
                    p95_ms: percentile(&acc.durations, 95),
                }
            })
            .collect();
        tools.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.tool.cmp(&b.tool)));
        Stats {
            events: self.events,
            duration_s: (self.timed_sessions > 0).then_some(self.duration_s),
            tool_calls: count(EventType::ToolCall),
            tool_results: count(EventType::ToolResult),
            errors: count(EventType::Error),
            llm_requests: count(EventType::LlmRequest),
            tokens: self.tokens,
            user_prompts: count(EventType::UserPrompt),
            files_read: count(EventType::FileRead),
            files_written: count(EventType::FileWrite),
            events_by_type: self
                .by_type
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            tools,
            sessions: self.sessions,
        }
    }
}

fn tool_name(event: &Event) -> Option<&str> {
    event
        .data
        .get("tool_name")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f32], pct: usize) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    Some(f64::from(sorted[rank - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(
        kind: EventType,
        id: &str,
        parent: Option<&str>,
        ms: Option<f64>,
        data: Value,
    ) -> Event {
        let mut e = Event::new(kind, 0.0, id.into(), "s".into());
        e.parent_id = parent.map(Into::into);
        e.duration_ms = ms;
        e.data = data;
        e
    }

    #[test]
    fn durations_errors_and_percentiles_per_tool() {
        let mut b = StatsBuilder::new();
        b.session("s", Some(10.0));
        for i in 0..20 {
            let id = format!("c{i}");
            b.observe(&event(
                EventType::ToolCall,
                &id,
                None,
                None,
                json!({"tool_name": "Bash"}),
            ));
            let kind = if i == 0 {
                EventType::Error
            } else {
                EventType::ToolResult
            };
            // Results without a tool name are attributed through their call.
            b.observe(&event(
                kind,
                &format!("r{i}"),
                Some(&id),
                Some(f64::from(i + 1) * 10.0),
                json!({}),
            ));
        }
        b.observe(&event(
            EventType::ToolCall,
            "x",
            None,
            None,
            json!({"tool_name": "Read"}),
        ));
        let stats = b.finish();
        assert_eq!(stats.tool_calls, 21);
        assert_eq!(stats.errors, 1);
        let bash = &stats.tools[0];
        assert_eq!(
            (bash.tool.as_str(), bash.calls, bash.errors, bash.timed),
            ("Bash", 20, 1, 20)
        );
        assert!((bash.total_ms - 2100.0).abs() < 1e-9);
        assert_eq!(bash.mean_ms, Some(105.0));
        assert_eq!(bash.p95_ms, Some(190.0));
        assert_eq!(stats.tools[1].p95_ms, None);
    }

    #[test]
    fn nearest_rank() {
        assert_eq!(percentile(&[1.0], 95), Some(1.0));
        assert_eq!(percentile(&[1.0, 2.0], 50), Some(1.0));
        assert_eq!(percentile(&[], 95), None);
    }
}
