//! Analyses: reports computed from events, returned as data for `render` to show.
//!
//! # Architecture
//! - [`audit`]: every tool call judged against a policy: allowed, no policy, or a violation.
//! - [`standup`]: a standup report without an LLM.
//! - [`stats`]: calls, durations and errors per tool; tokens; events by type.
//! - [`token_budget`]: context-window use over a session.
//! - [`tree`]: the hierarchy of a session and its subagents.
//! - [`phases`]: a session split into phases, with what each read, ran, wrote and spent.
//! - [`ordered_set`]: a list holding each item once in the order listed, looked up at once.
//! - [`budget`]: spend across sessions over a period.
//! - [`copies`]: which copy of a session held in several stores counts, so each counts once.
//! - [`cost`]: tokens and dollars by model and phase, with wasted spend.
//! - [`eval`]: a session scored against scorers with marks and weights; two sessions compared.
//! - [`dashboard`]: many sessions at a glance from their summaries: totals, figures per day,
//!   top tools, newest sessions, and the trend of eval pass rates with dated notes.
//! - [`drift`]: a behavioural fingerprint of many sessions, and how far two have drifted apart.
//! - [`replay_line`]: what replay shows of a session, as data: lines, their order, the header.
//! - [`replay_stream`]: a replay told while the file is read, a run of folded events at a time.
//! - [`page`]: the model of the HTML replay and share pages.
//! - [`replay_show`]: one event whole, as data: the command and its output, an edit's diff.
//! - [`lint`]: a session checked for known bad patterns (loops, spirals, budget, context).
//! - [`watch`]: a live session judged against watch rules, and the post-mortem of a kill.
//! - [`diff`]: two sessions compared phase by phase, or by what they achieved.
//! - [`compare`]: two sessions side by side, with a verdict and how far their decisions diverged.
//! - [`why`]: the causal chain that led to one event.
//! - [`mcp_tools`]: the tools `agent-strace mcp` serves: schemas, checked arguments, results.
//!
//! Analyses never print, read the environment or choose exit codes.

pub mod audit;
pub mod budget;
pub mod compare;
pub mod copies;
pub mod cost;
pub mod dashboard;
pub mod diff;
pub mod drift;
pub mod eval;
pub mod lint;
pub mod mcp_tools;
pub mod optimize;
pub mod ordered_set;
pub mod page;
pub mod phases;
pub mod replay_line;
pub mod replay_show;
pub mod replay_stream;
pub mod rereads;
pub mod retention;
pub mod sample;
pub mod standup;
pub mod stats;
pub mod token_budget;
pub mod tree;
pub mod watch;
pub mod why;
