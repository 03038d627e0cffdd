//! Capture sent to a collector (`AGENT_STRACE_ENDPOINT`) instead of the local store: what a
//! hook sends (`POST /hooks`), and how the collector turns it back into the payload it records.
//!
//! A hook does not send events: what a hook event becomes depends on the session's state (the
//! open calls a result is matched to, the subagents, the counters), and that state lives where
//! the session is stored. So the hook sends what it read (the payload, scrubbed with its own
//! privacy settings, the agent it told apart), what only its machine knows (who and where, the
//! agent's last answer read from a local transcript) and what it decided (the policy's denial),
//! and the collector records it with the same recorder a local hook runs. The outcome the agent
//! sees is decided by the hook, so it is the same whichever store takes the event.
//!
//! Nothing here opens a connection: the command line sends the request, within its time
//! budget, and falls back to the local store.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::attribution::{Attribution, Git};
use super::guard::Denial;
use super::hooks::{self, Answer, HookEvent, HookPayload, LastResponse, Signals};
use super::import::gemini_chat::ResponseCounts;
use super::sink::Privacy;
use crate::model::{Agent, deep_json};

/// The body of `POST /hooks`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HookCall {
    /// The `hook <event>` argument.
    pub event: String,
    /// The payload as the agent sent it, scrubbed, without the local paths of its transcripts.
    pub payload: Map<String, Value>,
    /// The agent the hook told the payload came from.
    pub agent: String,
    /// The agent's last answer, when the hook found it (read from a local transcript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The agent's last answer was not written yet when the hook looked for it (Copilot writes
    /// it behind its hooks): a follower on the hook's machine looks again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub answer_pending: bool,
    /// From such a follower, on a session's end: the answer found since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_answer: Option<String>,
    /// The counts of the agent's last model response, when its hooks pass on only part of
    /// them (read from Gemini CLI's chat on the hook's machine).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub last_response: Option<ResponseCounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denial: Option<WireDenial>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<WireAttribution>,
    /// The call's id (12 hex digits), made by the hook: a call sent again (kept in the hook's
    /// store when its answer did not come in time) is recorded once; its first event takes it
    /// as its `event_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// When the hook ran (seconds since the epoch), for a payload that does not say: a call
    /// sent again later keeps its time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
    /// The folder the agent was started in, as the hook's environment told it
    /// ([`HookPayload::launch`]), scrubbed as the payload is: a call made elsewhere records
    /// where it ran. A collector that does not know the field records the call without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<String>,
}

/// A value that does not read as `T` is no value: a hook call is recorded without what it
/// only adds (a response's exact counts), never refused for it.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// [`Denial`] on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireDenial {
    pub rule: String,
    #[serde(default)]
    pub pattern: Option<String>,
    pub reason: String,
}

/// [`Attribution`] on the wire.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WireAttribution {
    pub os_user: Option<String>,
    pub hostname: Option<String>,
    pub working_dir: Option<String>,
    pub git_repo: Option<String>,
    pub git_branch: Option<String>,
    pub git_commit: Option<String>,
    pub agent: Option<String>,
    pub agent_version: Option<String>,
    pub model: Option<String>,
}

/// Payload fields naming files on the hook's machine: the collector must never read them (a
/// client could make it read any file it can), and they are not recorded anyway.
const LOCAL_PATHS: [&str; 4] = [
    "transcript_path",
    "agent_transcript_path",
    "transcriptPath",
    "agentTranscriptPath",
];

/// The rule names a policy can give a denial ([`Denial::rule`] is one of them).
const RULES: [&str; 13] = [
    "files.read.deny",
    "files.read.allow",
    "files.write.deny",
    "files.write.allow",
    "sensitive",
    "commands.deny",
    "commands.allow",
    "network.deny",
    "network.allow",
    "network.deny_all",
    "tools.deny",
    "tools.allow",
    "policy",
];

impl HookCall {
    /// What a hook sends for `payload`, read from `stdin` (a JSON object) for the `event`
    /// argument. The payload is scrubbed with `privacy` before it leaves the machine.
    pub fn new(
        event: &str,
        stdin: &[u8],
        payload: &HookPayload,
        privacy: &Privacy,
        denial: Option<&Denial>,
        attribution: Option<&Attribution>,
    ) -> Option<HookCall> {
        let bytes = stdin.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(stdin);
        let mut value: Value = deep_json::from_slice(bytes).ok().or_else(|| {
            crate::model::json_mend::replace_lone_surrogates(bytes)
                .and_then(|fixed| deep_json::from_slice(&fixed).ok())
        })?;
        let Value::Object(fields) = &mut value else {
            return None;
        };
        for key in LOCAL_PATHS {
            fields.remove(key);
        }
        // The ids are taken as a local hook takes them (Privacy::session_id: one that holds a
        // secret becomes its stand-in) and kept out of the scrub of the rest: made
        // `[REDACTED]` by it, or masked by --redact-pattern or --mask, every such session (or
        // subagent) would be one on the collector, where the local store keeps them apart.
        let ids: Vec<(&str, Value)> = hooks::ID_KEYS
            .into_iter()
            .filter_map(|key| {
                let id = match fields.remove(key)? {
                    Value::String(id) => Value::String(privacy.session_id(&id).into_owned()),
                    mut other => {
                        privacy.apply(&mut other);
                        other
                    }
                };
                Some((key, id))
            })
            .collect();
        privacy.apply(&mut value);
        let Value::Object(mut fields) = value else {
            return None;
        };
        for (key, id) in ids {
            fields.insert(key.to_owned(), id);
        }
        let scrub = |text: &str| privacy.apply_str(text).into_owned();
        let answer = payload
            .answer
            .as_ref()
            .and_then(Answer::read)
            .map(|text| scrub(&text));
        Some(HookCall {
            // An event no agent names is the command line's own text, which can hold anything;
            // one that is named is left whole, for the collector to read as the hook did.
            event: match HookEvent::from_arg(event) {
                Some(_) => event.to_owned(),
                None => scrub(event),
            },
            payload: fields,
            agent: payload.agent.name().to_owned(),
            answer_pending: answer.is_none()
                && matches!(payload.answer, Some(Answer::CopilotEvents(_))),
            answer,
            late_answer: None,
            // Only an event after a response's last chunk folds it; a chunk never does (its
            // response's request comes first), and chunks are many.
            last_response: (payload.event != HookEvent::ModelResponse)
                .then_some(payload.last_response.as_ref())
                .flatten()
                .and_then(LastResponse::read),
            // Beside the payload, and kept with it in the spool when the collector does not
            // answer in time: the denial quotes the call (a key on its command line), the
            // branch, folder or model can spell one. The rule is one of [`RULES`], ours.
            denial: denial.map(|d| WireDenial {
                rule: d.rule.to_owned(),
                pattern: d.pattern.as_deref().map(scrub),
                reason: scrub(&d.reason),
            }),
            attribution: attribution.map(|a| {
                let scrub = |text: &Option<String>| text.as_deref().map(scrub);
                WireAttribution {
                    os_user: scrub(&a.os_user),
                    hostname: scrub(&a.hostname),
                    working_dir: scrub(&a.working_dir),
                    git_repo: scrub(&a.git.repo),
                    git_branch: scrub(&a.git.branch),
                    git_commit: scrub(&a.git.commit),
                    agent: scrub(&a.agent),
                    agent_version: scrub(&a.agent_version),
                    model: scrub(&a.model),
                }
            }),
            call_id: None,
            at: None,
            launch: payload.launch.as_deref().map(scrub),
        })
    }

    /// The call's id when it is one a hook makes (letters and digits, at most 64).
    pub fn call_id(&self) -> Option<&str> {
        self.call_id
            .as_deref()
            .filter(|id| !id.is_empty() && id.len() <= 64)
            .filter(|id| id.bytes().all(|b| b.is_ascii_alphanumeric()))
    }

    /// The payload as the collector records it: read by the same wire modules a local hook
    /// uses, as the agent the hook named, with the answer the hook found, its session's id as
    /// `privacy` stores it ([`HookPayload::scrub_session_id`]).
    pub fn payload(&self, privacy: &Privacy) -> Result<HookPayload, hooks::PayloadError> {
        let agent = Agent::from_name(&self.agent);
        let signals = Signals {
            declared: (agent != Agent::Unknown).then_some(agent),
            ..Signals::default()
        };
        let mut fields = self.payload.clone();
        for key in LOCAL_PATHS {
            fields.remove(key);
        }
        let bytes = serde_json::to_vec(&Value::Object(fields)).unwrap_or_default();
        let mut payload = hooks::read_payload(&self.event, &bytes, &signals)?;
        payload.answer = match (&self.answer, self.answer_pending) {
            (Some(text), _) => Some(Answer::Text(text.clone())),
            (None, true) => Some(Answer::Elsewhere),
            (None, false) => None,
        };
        payload.last_response = self.last_response.map(LastResponse::Sent);
        // What the hook sent, else what the payload names (a hook that sent none).
        payload.launch = self.launch.clone().or(payload.launch.take());
        // A time no hook's event can have (1e308 left the event out of every total) is taken as
        // a payload's own stamp is: the recorder's clock stamps the event.
        payload.at = payload.at.or(self.at.and_then(hooks::payload::agent_time));
        payload.scrub_session_id(privacy);
        Ok(payload)
    }

    /// The policy's denial the hook decided.
    pub fn denial(&self) -> Option<Denial> {
        self.denial.as_ref().map(|d| Denial {
            rule: RULES
                .iter()
                .find(|r| **r == d.rule)
                .copied()
                .unwrap_or("policy"),
            pattern: d.pattern.clone(),
            reason: d.reason.clone(),
        })
    }

    /// Who and where, as the hook found it.
    pub fn attribution(&self) -> Option<Attribution> {
        self.attribution.as_ref().map(|a| Attribution {
            os_user: a.os_user.clone(),
            hostname: a.hostname.clone(),
            working_dir: a.working_dir.clone(),
            git: Git {
                repo: a.git_repo.clone(),
                branch: a.git_branch.clone(),
                commit: a.git_commit.clone(),
            },
            agent: a.agent.clone(),
            agent_version: a.agent_version.clone(),
            model: a.model.clone(),
        })
    }
}

/// How a proxy's recorder reaches the collector: the command line's HTTP client, within its
/// time budget. `Err` says why the collector did not take the request (down, slow, refused).
pub trait Shipper: Send {
    fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Result<(), NotTaken>;
}

/// Why the collector did not take a request, and what of it the collector says it stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotTaken {
    pub why: String,
    /// Of a batch of one session's events (`POST /events`), how many of its first events the
    /// collector stored before it failed (its answer's `"accepted"`): those are in its store.
    /// 0 when it did not answer or did not say.
    pub stored: usize,
    /// The collector skips the events it already holds (it said `"duplicates"` in an answer),
    /// so the batch may be sent again: a collector that does not stores it twice.
    pub may_resend: bool,
    /// The collector may hold events of the batch beyond `stored`: it got the request and gave
    /// no answer in time, or a failure (5xx, 408, 429) that did not say what it stored (a
    /// proxy in front of it failed). Written in the local store, they could be in both.
    pub may_hold: bool,
    /// The collector answered, and the answer was no 2xx: it refused the request (`why` says
    /// how), rather than being out of reach.
    pub answered: bool,
}

impl NotTaken {
    /// The collector did not answer; `may_resend` as its earlier answers said.
    pub fn unanswered(why: impl Into<String>, may_resend: bool) -> NotTaken {
        NotTaken {
            why: why.into(),
            stored: 0,
            may_resend,
            may_hold: false,
            answered: false,
        }
    }
}

/// Why a collector did not take a request (the command line sends it).
#[derive(Debug)]
pub enum Unsent {
    /// No connection was made (refused, no route, no such host, none opened in time): it has
    /// nothing of it.
    NotReached(String),
    /// Sent, or maybe sent, and no answer came in time: it may hold it, or be writing it.
    NoAnswer(String),
    /// It answered other than 2xx.
    Refused { why: String, status: u16 },
    /// Something answered 2xx with no collector's answer ([`Said::collector`]): no collector is
    /// at the URL (a web server, a login page), and nothing of it was recorded by one.
    NoCollector(String),
}

impl std::fmt::Display for Unsent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsent::NotReached(why)
            | Unsent::NoAnswer(why)
            | Unsent::Refused { why, .. }
            | Unsent::NoCollector(why) => f.write_str(why),
        }
    }
}

/// What a collector's answer says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Said {
    /// `"accepted"`: of a batch of events, how many it holds (on a failure, its first ones).
    pub accepted: Option<usize>,
    /// It counts `"duplicates"` (`POST /events`) or says `"skips_duplicates": true`
    /// (`POST /sessions`): it skips events it already holds.
    pub skips_stored: bool,
    /// The body is a collector's answer: a JSON object naming the session (`session_id`, as
    /// `/hooks` and `/sessions` answer) or counting the events it took (`accepted`, as
    /// `/events` answers). A 2xx without one came from something else at the URL, which
    /// recorded nothing: taken for the collector's, it lost the call.
    pub collector: bool,
}

impl Said {
    /// Reads an answer's JSON body; anything else says nothing.
    pub fn read(body: &[u8]) -> Said {
        let Ok(Value::Object(answer)) = serde_json::from_slice::<Value>(body) else {
            return Said::default();
        };
        Said {
            accepted: answer
                .get("accepted")
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok()),
            skips_stored: answer.get("duplicates").is_some_and(Value::is_u64)
                || answer.get("skips_duplicates") == Some(&Value::Bool(true)),
            collector: answer.get("session_id").is_some_and(Value::is_string)
                || answer.get("accepted").is_some_and(Value::is_u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tokens;
    use serde_json::json;

    #[test]
    fn an_answer_says_what_the_collector_holds_and_whether_it_skips_it() {
        let said = Said::read(br#"{"error": "the store failed", "accepted": 7, "duplicates": 2}"#);
        assert_eq!(
            said,
            Said {
                accepted: Some(7),
                skips_stored: true,
                collector: true,
            }
        );
        // A collector that counts no duplicates stores a batch sent again twice.
        let old = Said::read(br#"{"error": "the store failed", "accepted": 7}"#);
        assert!(!old.skips_stored);
        assert_eq!(Said::read(b"Bad Gateway"), Said::default());
        // A session's meta taken says so before any batch is sent.
        let meta = Said::read(
            br#"{"session_id": "s", "status": "ok", "created": true, "skips_duplicates": true}"#,
        );
        assert!(meta.skips_stored && meta.accepted.is_none());
        let older = Said::read(br#"{"session_id": "s", "status": "ok", "created": true}"#);
        assert!(!older.skips_stored && older.collector);
        // What a web server or a portal answers is no collector's, JSON or not.
        for other in [
            &b"<html>welcome</html>"[..],
            br#"{"status": "ok"}"#,
            br#"{"session_id": 7}"#,
            b"[]",
            b"",
        ] {
            assert!(!Said::read(other).collector, "{other:?}");
        }
        let late = Said::read(br#"{"session_id": "s", "late_answer": true}"#);
        assert!(late.collector);
    }

    /// The names on the wire are a contract with collectors of other versions (docs/deploy.md
    /// gives them): renaming a field of [`Tokens`] or [`ResponseCounts`] must fail here.
    #[test]
    fn a_hook_calls_last_response_keeps_its_documented_names() {
        let wire = json!({
            "event": "before-tool",
            "payload": {"session_id": "s"},
            "agent": "gemini-cli",
            "last_response": {
                "reported": {"prompt": 50, "candidates": 7, "total": 57},
                "tokens": {"input": 30, "output": 7, "cache_creation": 0, "cache_read": 20, "reasoning": 3}
            }
        });
        let call: HookCall = serde_json::from_value(wire.clone()).unwrap();
        let counts = call.last_response.unwrap();
        assert_eq!(
            (
                counts.reported.prompt,
                counts.reported.candidates,
                counts.reported.total
            ),
            (50, 7, 57)
        );
        assert_eq!(
            counts.tokens,
            Tokens {
                input: 30,
                output: 7,
                cache_read: 20,
                reasoning: 3,
                ..Tokens::default()
            }
        );
        assert_eq!(
            serde_json::to_value(&call).unwrap()["last_response"],
            wire["last_response"]
        );
        // A value of another shape is no value; the call itself still reads.
        let odd = json!({"event": "before-tool", "payload": {}, "agent": "gemini-cli", "last_response": {"tokens": "many"}});
        let call: HookCall = serde_json::from_value(odd).unwrap();
        assert!(call.last_response.is_none());
    }
}
