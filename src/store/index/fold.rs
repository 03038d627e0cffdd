//! Folding one session's new lines into its summary and its event, call and response rows.

use std::collections::HashMap;
use std::io::{Seek, SeekFrom};

use rusqlite::{Connection, OptionalExtension, params};

use super::refresh::{Prices, RefreshError};
use crate::model::meta::believed_duration_ms;
use crate::model::summary::Summary;
use crate::model::tools::Agent;
use crate::model::view::{LlmResponse, View};
use crate::model::{Event, EventType, Money, Tokens, ToolOutcome};
use crate::store::StoreError;
use crate::store::files::{Folder, LINE_LIMIT, read_line};
use crate::store::holes::SkipHoles;
use crate::store::layout::EVENTS;
use crate::store::reader::parse_line;

/// One session's new lines being folded into its summary and rows.
pub(super) struct Folding<'a> {
    pub(super) tx: &'a Connection,
    pub(super) sid: i64,
    pub(super) agent: Agent,
    pub(super) fold: &'a mut Summary,
    pub(super) prices: &'a mut Prices,
    /// When the refresh began (seconds since the epoch), which the fold reads events at.
    pub(super) now: f64,
}

/// A tool call waiting for its result before its row is written.
pub(super) struct OpenCall {
    pub(super) seq: i64,
    pub(super) offset: i64,
    pub(super) length: i64,
    pub(super) event_id: String,
    pub(super) time: f64,
    pub(super) tool: Option<String>,
    pub(super) kind: Option<&'static str>,
}

/// What a result says about its call: its type (`rejected` for a refused call), duration, and
/// where its line is.
pub(super) type Outcome<'a> = (&'a str, Option<f64>, i64, i64);

impl Folding<'_> {
    /// Folds the complete lines of `path` from `offset` on, adding their rows; returns the
    /// offset and line count reached.
    pub(super) fn fold_from(
        &mut self,
        dir: &Folder,
        offset: i64,
        lines: i64,
    ) -> Result<(i64, i64), RefreshError> {
        let path = &dir.path().join(EVENTS);
        let Some(mut file) = dir.read(EVENTS).map_err(RefreshError::Store)? else {
            return Ok((offset, lines));
        };
        let io = |e| RefreshError::Store(StoreError::io(path, e));
        file.seek(SeekFrom::Start(offset as u64)).map_err(io)?;
        let mut reader = SkipHoles::buffered(file, 256 * 1024);
        let mut insert = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO idx_events (sid, seq, offset, length, event_id, type, time,
                 tool, kind, parent_id, duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        // Calls of this pass wait here for their results; most come a few lines later.
        let mut open: HashMap<String, OpenCall> = HashMap::new();
        let mut buf = Vec::with_capacity(4096);
        let mut position = offset;
        let mut lines = lines;
        loop {
            let read = read_line(&mut reader, &mut buf, LINE_LIMIT).map_err(io)?;
            // An unfinished last line is left for the next refresh.
            if !read.ended {
                break;
            }
            let start = position;
            // A hole passed over is inside this line.
            let consumed = read.consumed as u64 + reader.get_mut().take_skipped();
            let length = i64::try_from(consumed).unwrap_or(i64::MAX);
            position += length;
            lines += 1;
            let text = buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            // Lines that do not parse (or are too long to be read) are skipped, as every reader
            // skips them.
            let Ok(event) = parse_line(text) else {
                continue;
            };
            // A duration no call can take (`1e308`, `-5000`) is none, as every other reader
            // reads it: `sql` gave it as it was written.
            let duration_ms = believed_duration_ms(event.duration_ms);
            let observed = self.fold.observe(self.agent, &event, self.now);
            let seq = i64::try_from(self.fold.counters.events).unwrap_or(i64::MAX);
            // A refused call's outcome is `rejected`, not the `error` its event is.
            let mut outcome = event.event_type.as_str();
            let (tool, kind) = match View::of(&event, self.agent) {
                View::ToolCall(call) => (
                    Some(call.tool).filter(|t| !t.is_empty()),
                    Some(call.kind.as_str()),
                ),
                View::ToolResult(result) => {
                    if result.rejected() {
                        outcome = ToolOutcome::Rejected.as_str();
                    }
                    (result.tool, None)
                }
                View::FileTouch(touch) => (touch.tool, None),
                _ => (None, None),
            };
            insert.execute(params![
                self.sid,
                seq,
                start,
                length,
                event.event_id,
                event.event_type.as_str(),
                event.timestamp,
                tool,
                kind,
                event.parent_id,
                duration_ms,
            ])?;
            // A copy of an event met before is a line of the session (its row above), and no
            // call or response of its own.
            if observed.copy {
                continue;
            }
            match event.event_type {
                // A call that repeats a read is that read's call, one row (`read_pairs`).
                EventType::ToolCall if observed.repeat => {}
                EventType::ToolCall => {
                    if let Some(first) = &observed.replaces
                        && open.remove(first).is_none()
                    {
                        self.forget_call(first)?;
                    }
                    let call = OpenCall {
                        seq,
                        offset: start,
                        length,
                        event_id: event.event_id.clone(),
                        time: event.timestamp,
                        tool: tool.map(str::to_owned),
                        kind,
                    };
                    // A second call with the same id (it happens) is written as it is.
                    if let Some(earlier) = open.insert(event.event_id.clone(), call) {
                        self.write_call(&earlier, None)?;
                    }
                }
                EventType::ToolResult | EventType::Error => {
                    // The Python tool's import names a result's call only by the agent's id.
                    if let Some(parent) = &observed.answers {
                        let outcome = (outcome, duration_ms, start, length);
                        match open.remove(parent.as_ref()) {
                            Some(call) => self.write_call(&call, Some(outcome))?,
                            None => self.answer_earlier_call(parent, outcome)?,
                        }
                    }
                }
                EventType::LlmResponse => {
                    if let Some(
                        ref response @ LlmResponse {
                            model,
                            usage: Some(tokens),
                            ..
                        },
                    ) = LlmResponse::from_event(&event)
                    {
                        let model = model.unwrap_or("unknown");
                        let cost = self
                            .prices
                            .get(model)
                            .map(|p| pico(p.cost(&tokens, response.long_context())));
                        self.write_response(seq, &event, model, &tokens, cost.as_ref(), None)?;
                    }
                }
                // The Python tool's import carries a response's usage on its answers, a
                // streamed response's on each of its lines: one row a response, with its
                // latest line's usage.
                EventType::AssistantResponse => {
                    if let Some(answer) = observed.usage {
                        let key = answer.response.cast_signed();
                        // A later line is priced as the model of the row its first line made.
                        let model = if answer.first {
                            answer.model.unwrap_or("unknown").to_owned()
                        } else {
                            self.tx
                                .prepare_cached(
                                    "SELECT model FROM idx_responses
                                     WHERE sid = ?1 AND response = ?2",
                                )?
                                .query_row(params![self.sid, key], |r| r.get::<_, String>(0))
                                .optional()?
                                .unwrap_or_else(|| "unknown".to_owned())
                        };
                        let cost = self
                            .prices
                            .get(&model)
                            .map(|p| pico(p.cost(&answer.whole, answer.long_context)));
                        let tokens = &answer.whole;
                        if answer.first {
                            self.write_response(
                                seq,
                                &event,
                                &model,
                                tokens,
                                cost.as_ref(),
                                Some(key),
                            )?;
                        } else {
                            self.tx
                                .prepare_cached(
                                    "UPDATE idx_responses SET input_tokens = ?3,
                                         output_tokens = ?4, cache_write_tokens = ?5,
                                         cache_read_tokens = ?6, cost_pico = ?7
                                     WHERE sid = ?1 AND response = ?2",
                                )?
                                .execute(params![
                                    self.sid,
                                    key,
                                    count(tokens.input),
                                    count(tokens.output),
                                    count(tokens.cache_creation),
                                    count(tokens.cache_read),
                                    cost,
                                ])?;
                        }
                    }
                }
                _ => {}
            }
        }
        for call in open.values() {
            self.write_call(call, None)?;
        }
        Ok((position, lines))
    }

    /// The row of the response event `event` (the `seq`th of its session): its model, usage
    /// and cost; `response` numbers a response of the Python tool's import, whose later lines
    /// update the row.
    fn write_response(
        &self,
        seq: i64,
        event: &Event,
        model: &str,
        tokens: &Tokens,
        cost: Option<&rusqlite::types::Value>,
        response: Option<i64>,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO idx_responses (sid, seq, event_id, time, model, input_tokens,
                 output_tokens, cache_write_tokens, cache_read_tokens, cost_pico, response)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        stmt.execute(params![
            self.sid,
            seq,
            event.event_id,
            event.timestamp,
            model,
            count(tokens.input),
            count(tokens.output),
            count(tokens.cache_creation),
            count(tokens.cache_read),
            cost,
            response,
        ])?;
        Ok(())
    }

    pub(super) fn write_call(
        &self,
        call: &OpenCall,
        outcome: Option<Outcome<'_>>,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO idx_calls (sid, seq, offset, length, event_id, time, tool,
                 kind, outcome, duration_ms, r_offset, r_length)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        stmt.execute(params![
            self.sid,
            call.seq,
            call.offset,
            call.length,
            call.event_id,
            call.time,
            call.tool,
            call.kind,
            outcome.map(|o| o.0),
            outcome.and_then(|o| o.1),
            outcome.map(|o| o.2),
            outcome.map(|o| o.3),
        ])?;
        Ok(())
    }

    /// A result whose call was indexed by an earlier refresh: the first such call still
    /// unanswered gets it.
    /// Removes the row of the call `event_id` that no result has answered, written by an
    /// earlier fold: a call whose row a later one takes ([`crate::model::read_pairs`]).
    fn forget_call(&self, event_id: &str) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached(
                "DELETE FROM idx_calls WHERE sid = ?1 AND seq = (SELECT seq FROM idx_calls
                     WHERE sid = ?1 AND event_id = ?2 AND outcome IS NULL ORDER BY seq LIMIT 1)",
            )?
            .execute(params![self.sid, event_id])?;
        Ok(())
    }

    pub(super) fn answer_earlier_call(
        &self,
        parent: &str,
        (kind, duration, offset, length): Outcome<'_>,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "UPDATE idx_calls SET outcome = ?3, duration_ms = ?4, r_offset = ?5, r_length = ?6
             WHERE sid = ?1 AND seq = (SELECT seq FROM idx_calls
                 WHERE sid = ?1 AND event_id = ?2 AND outcome IS NULL ORDER BY seq LIMIT 1)",
        )?;
        stmt.execute(params![self.sid, parent, kind, duration, offset, length])?;
        Ok(())
    }
}

/// A cost as the index stores it: picodollars, an integer while SQLite's signed 64 bits hold
/// it (up to $9,223,372.04), else a real number of picodollars (there within a billionth of a
/// dollar), so that `cost_pico / 1e12` is the cost `cost` gives. Capped at `i64::MAX`, a session
/// of believed usage that cost more (a dozen responses of ten billion output tokens) was listed
/// at $9,223,372.04.
pub(super) fn pico(m: Money) -> rusqlite::types::Value {
    match i64::try_from(m.0) {
        Ok(n) => rusqlite::types::Value::Integer(n),
        #[expect(clippy::cast_precision_loss, reason = "beyond 2^63 picodollars")]
        Err(_) => rusqlite::types::Value::Real(m.0 as f64),
    }
}

/// A cost the index stored ([`pico`]); `None` for none (no price), or anything else.
pub(super) fn money(stored: Option<rusqlite::types::Value>) -> Option<Money> {
    match stored? {
        rusqlite::types::Value::Integer(n) => u128::try_from(n).ok().map(Money),
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a real number of picodollars past i64::MAX, whole and positive"
        )]
        rusqlite::types::Value::Real(f) if f >= 0.0 => Some(Money(f as u128)),
        _ => None,
    }
}

/// A count as the index stores it: SQLite's integers are signed 64-bit, so a count beyond
/// `i64::MAX` (a `meta.json` or a transcript may say anything) is stored as `i64::MAX`, where
/// binding it would fail and take the whole session with it.
pub(super) fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The counts of a session's metadata that have a column of the index, by their `meta.json`
/// names: `meta_counts!(meta)` their values, `meta_counts!(meta, &mut)` the fields. One list,
/// so that what [`meta_extra`] keeps and [`restore_counts`] takes back cannot drift apart.
macro_rules! meta_counts {
    ($meta:expr $(, $borrow:tt $mut:tt)?) => {
        [
            ("tool_calls", $($borrow $mut)? $meta.tool_calls),
            ("llm_requests", $($borrow $mut)? $meta.llm_requests),
            ("errors", $($borrow $mut)? $meta.errors),
            ("total_tokens", $($borrow $mut)? $meta.total_tokens),
            ("depth", $($borrow $mut)? $meta.depth),
        ]
    };
}

/// The `meta_extra` the index keeps of `meta`: of its fields of no column, those a listing
/// reads ([`crate::model::SessionMeta::extra_to_list`]: every listing reads them again, and a
/// `meta.json` of millions of values made each `list` read them), and each count past
/// what its column holds ([`count`]) as it was, under its own name, so that a warning quotes
/// `18446744073709551615` as `meta.json` wrote it, not the column's `9223372036854775807`.
/// [`restore_counts`] takes them back out. `meta.json` keeps no count as a whole number in
/// `extra` (one that is no count, `-5`, stays there as written), so none is taken for another.
pub(super) fn meta_extra(meta: &crate::model::SessionMeta) -> Option<String> {
    let past = meta_counts!(meta)
        .into_iter()
        .filter(|(_, n)| i64::try_from(*n).is_err());
    let mut extra = meta.extra_to_list();
    for (name, n) in past {
        extra.insert(name.to_owned(), n.into());
    }
    (!extra.is_empty()).then(|| serde_json::to_string(&extra).unwrap_or_default())
}

/// Puts back into `meta` the counts past their columns that [`meta_extra`] kept.
pub(super) fn restore_counts(meta: &mut crate::model::SessionMeta) {
    if meta.extra.is_empty() {
        return;
    }
    let mut extra = std::mem::take(&mut meta.extra);
    for (name, n) in meta_counts!(meta, &mut) {
        if *n == i64::MAX.cast_unsigned()
            && let Some(kept) = extra.get(name).and_then(serde_json::Value::as_u64)
        {
            *n = kept;
            extra.shift_remove(name);
        }
    }
    meta.extra = extra;
}
