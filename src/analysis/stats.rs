//! Per-tool call counts, durations and errors, built in one streaming pass over events.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::model::{EventHead, EventType};

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
    /// Tool names of calls not answered yet, for results that do not repeat the name.
    call_tools: HashMap<String, String>,
    /// Results that name no tool and whose call this builder has not seen (it may be in a part
    /// of the file another builder scanned): parent id, duration, whether it is an error.
    unresolved: Vec<(String, Option<f64>, bool)>,
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
        self.resolve();
        self.call_tools.clear();
    }

    /// Folds in a builder that scanned a later part of the same session.
    pub fn merge(&mut self, other: StatsBuilder) {
        self.events += other.events;
        for (kind, n) in other.by_type {
            *self.by_type.entry(kind).or_default() += n;
        }
        for (name, acc) in other.tools {
            let mine = self.tool(&name);
            mine.calls += acc.calls;
            mine.errors += acc.errors;
            mine.total_ms += acc.total_ms;
            mine.durations.extend(acc.durations);
        }
        self.call_tools.extend(other.call_tools);
        self.unresolved.extend(other.unresolved);
        self.tokens += other.tokens;
    }

    /// Attributes the results that named no tool to their calls, where those are known now.
    fn resolve(&mut self) {
        for (parent, duration, is_error) in std::mem::take(&mut self.unresolved) {
            if let Some(tool) = self.call_tools.get(&parent).cloned() {
                self.record_result(&tool, duration, is_error);
            }
        }
    }

    fn record_result(&mut self, tool: &str, duration: Option<f64>, is_error: bool) {
        let entry = self.tool(tool);
        if is_error {
            entry.errors += 1;
        }
        if let Some(ms) = duration.filter(|ms| ms.is_finite() && *ms >= 0.0) {
            entry.durations.push(ms as f32);
            entry.total_ms += ms;
        }
    }

    pub fn observe(&mut self, event: &EventHead<'_>) {
        self.events += 1;
        let kind = event.kind();
        match kind {
            EventType::ToolCall => {
                let tool = event.tool_name().unwrap_or("unknown");
                self.tool(tool).calls += 1;
                if let Some(id) = &event.event_id {
                    let tool = tool.to_owned();
                    self.call_tools.insert(id.to_string(), tool);
                }
            }
            EventType::ToolResult | EventType::Error => {
                let is_error = kind == EventType::Error;
                // A call is answered once: forgetting it here keeps the map to open calls, so
                // memory stays flat however long the session is.
                let call_tool = event
                    .parent_id
                    .as_ref()
                    .and_then(|p| self.call_tools.remove(p.as_ref()));
                let tool = event.tool_name().map(str::to_owned).or(call_tool);
                match (tool, &event.parent_id) {
                    (Some(tool), _) => self.record_result(&tool, event.duration_ms, is_error),
                    (None, Some(parent)) => {
                        self.unresolved
                            .push((parent.to_string(), event.duration_ms, is_error));
                    }
                    // An error with no tool and no call (an agent-level failure) counts only
                    // as an error.
                    (None, None) => {}
                }
            }
            EventType::LlmResponse => self.tokens += event.tokens(),
            _ => {}
        }
        *self.by_type.entry(kind).or_default() += 1;
    }

    /// The accumulator of a tool, allocating its name only the first time it is seen.
    fn tool(&mut self, name: &str) -> &mut ToolAccumulator {
        if !self.tools.contains_key(name) {
            self.tools
                .insert(name.to_owned(), ToolAccumulator::default());
        }
        self.tools.get_mut(name).expect("inserted above")
    }

    pub fn finish(mut self) -> Stats {
        self.resolve();
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
                    total_ms: micros(acc.total_ms),
                    mean_ms: (timed > 0).then(|| micros(acc.total_ms / timed as f64)),
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

/// Rounded to the microsecond: durations are recorded in milliseconds with at most that
/// precision, and the digits past it are float noise that would depend on summation order.
fn micros(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
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
    use crate::model::Event;
    use serde_json::{Value, json};

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

    fn observe(b: &mut StatsBuilder, e: &Event) {
        b.observe(&EventHead::of(e));
    }

    #[test]
    fn durations_errors_and_percentiles_per_tool() {
        let mut b = StatsBuilder::new();
        b.session("s", Some(10.0));
        for i in 0..20 {
            let id = format!("c{i}");
            observe(
                &mut b,
                &event(
                    EventType::ToolCall,
                    &id,
                    None,
                    None,
                    json!({"tool_name": "Bash"}),
                ),
            );
            let kind = if i == 0 {
                EventType::Error
            } else {
                EventType::ToolResult
            };
            // Results without a tool name are attributed through their call.
            observe(
                &mut b,
                &event(
                    kind,
                    &format!("r{i}"),
                    Some(&id),
                    Some(f64::from(i + 1) * 10.0),
                    json!({}),
                ),
            );
        }
        observe(
            &mut b,
            &event(
                EventType::ToolCall,
                "x",
                None,
                None,
                json!({"tool_name": "Read"}),
            ),
        );
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
