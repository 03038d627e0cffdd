//! Calls no result will answer: one Claude Code's auto mode refused (PermissionDenied), and a
//! shell command a skill writes inline (PreSkillShellCommand), which runs as the skill loads,
//! outside the tool loop, so that no PostToolUse ever follows it.

use serde_json::{Map, Value};

use super::payload::{HookEvent, ToolUse};
use super::record::{Recorder, object, texts_of_structures};
use crate::model::view;
use crate::model::{Event, EventType};
use crate::store::StoreError;

impl Recorder<'_> {
    /// A call auto mode refused: the call recorded at its PreToolUse is closed with the
    /// refusal, the words Claude Code gives the model (which readers take for a refusal, not a
    /// failure), timed from the call. A call no PreToolUse recorded (a hook matching only some
    /// tools, hooks installed mid-turn) is recorded here, closed at once.
    pub(super) fn refused_call(&self, session: &str) -> Result<(), StoreError> {
        let Some(tool) = &self.payload.tool else {
            return Ok(());
        };
        // Claimed now, so that no other result links to it; opened again below when the
        // refusal cannot be written.
        let claimed = self.claim_call(session, tool)?;
        let mut events = Vec::new();
        let (call_id, started) = if let Some((_, call)) = &claimed {
            (call.event_id.clone(), call.timestamp)
        } else {
            let mut data = self.call_data(tool);
            self.keep_unknown(&mut data);
            let call = self.event(EventType::ToolCall, session, data);
            let id = call.event_id.clone();
            events.push(call);
            (id, self.now)
        };
        events.push(self.refusal(session, tool, call_id, started));
        let written = self.write_derived(session, events, texts_of_structures);
        if written.is_err()
            && let Some((key, call)) = &claimed
        {
            // What is reported is the write's error, whether or not the call could be opened
            // again.
            let _ = self.store.reopen_call(session, key, call);
        }
        written
    }

    /// The `error` that closes a refused call (`call_id`, made at `started`).
    fn refusal(&self, session: &str, tool: &ToolUse, call_id: String, started: f64) -> Event {
        let reason = self
            .payload
            .str_field("reason")
            .unwrap_or("Permission denied");
        let mut data = object([
            ("tool_name", tool.name.clone().into()),
            (
                "error",
                format!("Permission for this action has been denied. Reason: {reason}").into(),
            ),
            (
                "hook_event_name",
                self.payload.event.wire_name().to_owned().into(),
            ),
        ]);
        if let Some(id) = &tool.id {
            data.insert("tool_use_id".into(), id.clone().into());
        }
        self.copy(&mut data, &["reason", "permission_mode"]);
        self.keep_unknown(&mut data);
        let mut error = self.event(EventType::Error, session, data);
        error.parent_id = Some(call_id);
        error.duration_ms = Some(((self.now - started) * 1000.0).max(0.0));
        error
    }

    /// A skill's shell command: a `tool_call` of its shell tool, marked with the skill
    /// ([`view::SKILL_COMMAND`]), so that replay shows the command and `audit` judges it. One
    /// the policy denied is recorded as denied and closed, as a denied PreToolUse is. One let
    /// through is never opened among the session's pending calls: no result will come to take
    /// it, and the turn's end has nothing to close.
    pub(super) fn skill_command(&self, session: &str) -> Result<(), StoreError> {
        let Some(tool) = &self.payload.tool else {
            return Ok(());
        };
        let event_id = self.sink.new_id();
        if let Some(denial) = self.denial {
            return self.denied_call(session, tool, event_id, denial);
        }
        let mut data = self.call_data(tool);
        self.keep_unknown(&mut data);
        let mut call = self.event(EventType::ToolCall, session, data);
        call.event_id = event_id;
        self.write(session, vec![call])
    }

    /// Marks the data of a call a skill's shell command makes with the skill's name (empty
    /// when the payload names none).
    pub(super) fn skill_of(&self, data: &mut Map<String, Value>) {
        if self.payload.event != HookEvent::SkillShellCommand {
            return;
        }
        let name = self.payload.str_field("command_name").unwrap_or_default();
        data.insert(view::SKILL_COMMAND.into(), name.into());
    }
}
