//! The lint rules, one function each, over a session's events read through the typed views.

use std::collections::{BTreeSet, HashMap};

use super::{Finding, LintConfig, RuleName, RuleSetting, Session};
use crate::analysis::phases::TimedUsage;
use crate::model::EventType;
use crate::model::answers::AnswerUsages;
use crate::model::links::Links;
use crate::model::text::{count, figure};
use crate::model::touches::Touches;
use crate::model::usage::{dollars, dollars_given};
use crate::model::view::{LlmResponse, View};
use crate::model::windows::ModelWindows;

/// The findings of `rule`, and a note of what it could not judge.
pub(super) fn run(
    rule: RuleName,
    session: &Session<'_>,
    setting: &RuleSetting,
    config: &LintConfig,
) -> (Vec<Finding>, Option<String>) {
    let mut note = None;
    let found = match rule {
        RuleName::ToolLoop => tool_loop(session, setting.threshold),
        RuleName::ReasoningSpiral => reasoning_spiral(session, setting.threshold),
        RuleName::BudgetProximity => {
            let found = budget_proximity(session, setting.threshold, config);
            // A note, not a finding: the rule could not say whether the ceiling was reached.
            if found.is_empty() {
                note = budget_unjudged(session, config);
            }
            found
        }
        RuleName::ContextSaturation => {
            let (found, unjudged) =
                context_saturation(session, setting.threshold, config.context_window);
            note = unjudged;
            found
        }
        RuleName::RedundantRead => redundant_read(session, setting.threshold),
        RuleName::ErrorRetryLoop => error_retry_loop(session, setting.threshold),
        RuleName::NoOutput => no_output(session),
        RuleName::HiddenText => hidden_text(session, setting.threshold),
    };
    let findings = found
        .into_iter()
        .map(|(message, events)| Finding {
            rule: rule.as_str(),
            level: setting.level,
            message,
            line_start: events.iter().min().copied(),
            line_end: events.iter().max().copied(),
            events,
        })
        .collect();
    (findings, note)
}

type Found = Vec<(String, Vec<usize>)>;

fn span(events: &[usize]) -> String {
    match (events.first(), events.last()) {
        (Some(a), Some(b)) if a != b => format!("events #{a}–#{b}"),
        (Some(a), _) => format!("event #{a}"),
        _ => String::new(),
    }
}

fn at_least(count: usize, threshold: f64) -> bool {
    count as f64 >= threshold
}

/// tool-loop: the same tool called in `threshold` or more turns in a row (its results and file
/// events between the calls do not break the run; a prompt, an answer or another tool does).
/// A session that records the model's requests tells its turns apart: the calls the response
/// to one request made at once (six Reads of six files, as Claude Code sends them) are one
/// turn, no loop. One that records none (a hook's) counts each call a turn.
fn tool_loop(session: &Session<'_>, threshold: f64) -> Found {
    let has_requests = session
        .events
        .iter()
        .any(|e| e.event_type == EventType::LlmRequest);
    let mut found = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let mut turns = 0;
    let mut tool = String::new();
    let mut flush = |run: &mut Vec<usize>, turns: &mut usize, tool: &str| {
        if at_least(*turns, threshold) {
            let times = if has_requests {
                format!("in {} in a row", count(*turns as u64, "turn"))
            } else {
                format!("{} in a row", count(*turns as u64, "time"))
            };
            found.push((
                format!(
                    "\"{tool}\" called {times} ({}): a possible loop.",
                    span(run)
                ),
                std::mem::take(run),
            ));
        }
        run.clear();
        *turns = 0;
    };
    // The request whose response made the latest call, counted by the requests seen so far.
    let mut request = 0;
    let mut last_turn = None;
    for (i, event) in session.events.iter().enumerate() {
        match View::of(event, session.agent) {
            View::ToolCall(call) => {
                if call.tool != tool {
                    flush(&mut run, &mut turns, &tool);
                    call.tool.clone_into(&mut tool);
                    last_turn = None;
                }
                if !has_requests || last_turn != Some(request) {
                    turns += 1;
                    last_turn = Some(request);
                }
                run.push(i + 1);
            }
            View::LlmRequest { .. } => request += 1,
            View::Prompt(_) | View::Answer(_) => flush(&mut run, &mut turns, &tool),
            _ => {}
        }
    }
    flush(&mut run, &mut turns, &tool);
    found
}

/// reasoning-spiral: `threshold` or more model responses in a row with no tool call between
/// them (a prompt starts again). Responses are `llm_response` events, or the answers of a
/// session that recorded none.
fn reasoning_spiral(session: &Session<'_>, threshold: f64) -> Found {
    let has_responses = session
        .events
        .iter()
        .any(|e| e.event_type == EventType::LlmResponse);
    let mut found = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let mut flush = |run: &mut Vec<usize>| {
        if at_least(run.len(), threshold) {
            found.push((
                format!(
                    "{} in a row with no tool call ({}): the agent may be over-reasoning.",
                    count(run.len() as u64, "model response"),
                    span(run)
                ),
                std::mem::take(run),
            ));
        }
        run.clear();
    };
    for (i, event) in session.events.iter().enumerate() {
        match View::of(event, session.agent) {
            View::LlmResponse(_) if has_responses => run.push(i + 1),
            View::Answer(_) if !has_responses => run.push(i + 1),
            View::ToolCall(_) | View::Prompt(_) => flush(&mut run),
            _ => {}
        }
    }
    flush(&mut run);
    found
}

/// The budget ceiling of budget-proximity: the one the session's `session_start` recorded,
/// else the settings'.
fn budget_ceiling(session: &Session<'_>, config: &LintConfig) -> Option<f64> {
    let recorded = session
        .events
        .iter()
        .find_map(|e| match View::of(e, session.agent) {
            View::SessionStart(start) => start.budget_usd,
            _ => None,
        });
    recorded.or(config.budget_usd)
}

/// `cost` as a share of `budget`, in percent, as a figure (`1.5e302` of a ceiling of
/// `1e-300` dollars). A share past the largest figure (of a ceiling of `5e-324`) read `inf`:
/// it is said to be past 1e308.
fn percent_of(cost: f64, budget: f64) -> String {
    let share = (cost / budget * 100.0).round();
    if share.is_finite() {
        figure(share)
    } else {
        "over 1e308".to_owned()
    }
}

/// budget-proximity: the session's cost reached `threshold` of its budget ceiling.
fn budget_proximity(session: &Session<'_>, threshold: f64, config: &LintConfig) -> Found {
    let Some(budget) = budget_ceiling(session, config) else {
        return Vec::new();
    };
    if session.cost_usd < budget * threshold {
        return Vec::new();
    }
    // A cost that counts some usage at $0 for want of a price is marked, and the models
    // named: the ceiling may be nearer than it says.
    let (mark, unpriced) = match session.cost_unpriced_models {
        [] => ("", String::new()),
        models => (
            "?",
            format!(" ({} counted at $0: no known price)", models.join(", ")),
        ),
    };
    vec![(
        format!(
            "the session cost {}{mark}, {}% of its {} budget ceiling{unpriced}: raise it or split the task.",
            dollars(session.cost_usd),
            percent_of(session.cost_usd, budget),
            dollars_given(budget)
        ),
        Vec::new(),
    )]
}

/// budget-proximity's note when it found nothing but the cost counts a model at $0 for want
/// of a price: under the ceiling, as far as it can tell, which is not far. A note about the
/// check, as context-saturation's of a window not known, not a finding about the session (it
/// was an INFO finding, counted among `infos`).
fn budget_unjudged(session: &Session<'_>, config: &LintConfig) -> Option<String> {
    let budget = budget_ceiling(session, config)?;
    if session.cost_unpriced_models.is_empty() {
        return None;
    }
    let models = session.cost_unpriced_models.join(", ");
    let (has, them) = if session.cost_unpriced_models.len() == 1 {
        ("has", "its")
    } else {
        ("have", "their")
    };
    Some(format!(
        "budget-proximity cannot be judged in full: {models} {has} no known price, so the session's {}? ({}% of its {} budget ceiling) counts {them} usage at $0.",
        dollars(session.cost_usd),
        percent_of(session.cost_usd, budget),
        dollars_given(budget)
    ))
}

/// context-saturation: a response's context reached `threshold` of its model's window (of
/// `given`, when one is). The finding names the response's event, or for responses known only
/// from the transcript (hook sessions), the first event at or after it. A response of a model
/// whose window is not known is not judged, and the note names its model: a guessed window
/// made findings (and passes) of a share no one knows.
fn context_saturation(
    session: &Session<'_>,
    threshold: f64,
    given: Option<u64>,
) -> (Found, Option<String>) {
    let mut recorded: Vec<(usize, bool, TimedUsage)> = Vec::new();
    // The windows the agent recorded on its responses (Codex does) outrank the table's.
    let mut windows = ModelWindows::default();
    // The Python tool's import records a response's usage on its answer, a streamed
    // response's on each of its lines: the first line of each is the response.
    let mut answers = AnswerUsages::default();
    for (i, e) in session.events.iter().enumerate() {
        if let Some(answer) = answers.of_event(e) {
            if answer.first {
                recorded.push((
                    i + 1,
                    false,
                    TimedUsage {
                        at: e.timestamp,
                        model: answer.model.unwrap_or_default().to_owned(),
                        tokens: answer.whole,
                        long_context: answer.long_context,
                    },
                ));
            }
            continue;
        }
        let Some(r) = LlmResponse::from_event(e) else {
            continue;
        };
        if let (Some(model), Some(window)) = (r.model, r.context_window) {
            windows.record(model, window);
        }
        let Some(tokens) = r.usage else { continue };
        recorded.push((
            i + 1,
            r.session_total,
            TimedUsage {
                at: e.timestamp,
                model: r.model.unwrap_or_default().to_owned(),
                tokens,
                long_context: r.long_context(),
            },
        ));
    }
    // A session's total usage (older Copilot CLI) is no response's context.
    let had_totals = recorded.iter().any(|(_, total, _)| *total);
    let recorded: Vec<(usize, TimedUsage)> = recorded
        .into_iter()
        .filter(|(_, total, _)| !total)
        .map(|(i, _, usage)| (i, usage))
        .collect();
    let responses: Vec<(usize, &TimedUsage)> = if recorded.is_empty() && had_totals {
        Vec::new()
    } else if recorded.is_empty() {
        session
            .responses
            .iter()
            .map(|r| {
                let event = session
                    .events
                    .iter()
                    .position(|e| e.timestamp >= r.at)
                    .map_or(session.events.len(), |i| i + 1);
                (event, r)
            })
            .collect()
    } else {
        recorded.iter().map(|(n, r)| (*n, r)).collect()
    };
    // A model's window is its session's: a response of that model past its standard window
    // proves the long one, for the responses before it too.
    for (_, response) in &responses {
        windows.observe(&response.model, response.tokens.context());
    }
    let mut found = Vec::new();
    let mut unknown: BTreeSet<&str> = BTreeSet::new();
    for &(event, response) in &responses {
        let Some(window) = given.or_else(|| windows.measure(&response.model)) else {
            unknown.insert(&response.model);
            continue;
        };
        let used = response.tokens.context();
        // The share in one division, which reaches the threshold when the context does:
        // `threshold * window` rounds too, and 110,000 of 200,000 was under 0.55 of it.
        if found.is_empty() && used as f64 / window as f64 >= threshold {
            found.push((
                format!(
                    "a response's context reached {} tokens, {:.0}% of {}'s {}-token window, at event #{event}.",
                    crate::model::text::thousands(used),
                    crate::model::windows::percent_of(used, window),
                    response.model,
                    crate::model::text::thousands(window)
                ),
                vec![event],
            ));
        }
    }
    let note = (!unknown.is_empty()).then(|| {
        let models: Vec<&str> = unknown
            .into_iter()
            .map(|m| if m.is_empty() { "(a response that names no model)" } else { m })
            .collect();
        let (model, whose) = if models.len() == 1 {
            ("model", "its")
        } else {
            ("models", "their")
        };
        format!(
            "context-saturation did not judge the responses of {model} {}: {whose} context window is not known (give one with --context-window).",
            models.join(", ")
        )
    });
    (found, note)
}

/// redundant-read: the same file read the same way `threshold` or more times with no write to
/// it between ([`rereads`](crate::analysis::rereads), as `compare` and `optimize` count them).
/// A file is named once, with its longest run of reads.
fn redundant_read(session: &Session<'_>, threshold: f64) -> Found {
    crate::analysis::rereads::of(session.events, session.agent)
        .into_iter()
        .filter(|r| at_least(r.events.len(), threshold))
        .map(|r| {
            (
                format!(
                    "\"{}\" read {} without a change ({}): keep what it says instead of reading it again.",
                    r.path,
                    count(r.events.len() as u64, "time"),
                    list(&r.events)
                ),
                r.events,
            )
        })
        .collect()
}

/// error-retry-loop: the same call, the same tool with the same input, failed `threshold` or
/// more times in a row (a success of that call ends the streak; other calls between do not).
/// The same call is [`ToolCall::signature`](crate::model::view::ToolCall::signature)'s, as
/// `optimize` tells a blind retry and an error retried unchanged: reading eight files in one
/// batch is eight calls, none tried again. A call Claude Code cancelled because another of its
/// batch failed never ran: it is no failure of its own, and neither adds to a streak nor ends
/// one.
fn error_retry_loop(session: &Session<'_>, threshold: f64) -> Found {
    let mut links = Links::default();
    // Each call's signature and tool, by its event id; and the last call of each tool, for a
    // result that names no call (the Python tool's hooks).
    let mut calls: HashMap<String, (String, String)> = HashMap::new();
    let mut last_of_tool: HashMap<String, (String, String)> = HashMap::new();
    // Per call signature: its failures in the current streak, and its longest streak.
    let mut streaks: HashMap<String, Vec<usize>> = HashMap::new();
    let mut worst: HashMap<String, Vec<usize>> = HashMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for (i, event) in session.events.iter().enumerate() {
        let parent = links.parent(event);
        match View::of(event, session.agent) {
            View::ToolCall(call) => {
                let signed = (call.signature(), call.tool.to_owned());
                last_of_tool.insert(call.tool.to_owned(), signed.clone());
                calls.insert(event.event_id.clone(), signed);
            }
            View::ToolResult(result) => {
                if result.rejected() || result.of_no_call || result.cancelled_by_sibling() {
                    continue;
                }
                let call = parent
                    .as_deref()
                    .and_then(|p| calls.get(p))
                    .or_else(|| result.tool.and_then(|t| last_of_tool.get(t)));
                let Some((signature, tool)) = call else {
                    continue;
                };
                let streak = streaks.entry(signature.clone()).or_default();
                if !result.failed() {
                    streak.clear();
                    continue;
                }
                streak.push(i + 1);
                let best = worst.entry(signature.clone()).or_default();
                if streak.len() > best.len() {
                    best.clone_from(streak);
                }
                if !order.iter().any(|(s, _)| s == signature) {
                    order.push((signature.clone(), tool.clone()));
                }
            }
            _ => {}
        }
    }
    order
        .into_iter()
        .filter_map(|(signature, tool)| {
            let failures = worst.remove(&signature)?;
            // Each failure but the last was retried; the last one too when the call ran again.
            at_least(failures.len(), threshold).then(|| {
                (
                    format!(
                        "\"{tool}\" failed {} in a row with the same input and was tried again ({}): check its input before retrying.",
                        count(failures.len() as u64, "time"),
                        list(&failures)
                    ),
                    failures,
                )
            })
        })
        .collect()
}

/// no-output: an ended session with no file written or edited (a subagent's is left out: it
/// answers its parent).
fn no_output(session: &Session<'_>) -> Found {
    let ended = session
        .events
        .iter()
        .any(|e| e.event_type == EventType::SessionEnd);
    if !ended || session.subagent {
        return Vec::new();
    }
    // A write that failed or was refused wrote nothing.
    let mut touches = Touches::default();
    let wrote = session.events.iter().any(|e| {
        touches
            .observe(e, session.agent)
            .iter()
            .any(|(_, file_use)| file_use.changes())
    }) || touches
        .at_end()
        .iter()
        .any(|(_, file_use)| file_use.changes());
    if wrote {
        return Vec::new();
    }
    vec![(
        "the session ended without writing or editing a file: the agent may only have read and reasoned."
            .to_owned(),
        Vec::new(),
    )]
}

/// Event numbers as a list, the first ten.
fn list(events: &[usize]) -> String {
    let shown: Vec<String> = events.iter().take(10).map(|n| format!("#{n}")).collect();
    let more = if events.len() > 10 {
        format!(" and {} more", events.len() - 10)
    } else {
        String::new()
    };
    format!("events {}{more}", shown.join(", "))
}

/// hidden-text: an event whose text hides `threshold` or more characters from whoever reads it
/// on a screen, while the agent reads them: text in tag characters, data in variation
/// selectors, marks that reorder the line (see [`crate::model::text::Hidden`]). What is
/// hidden is read back, so the finding says what the agent was told.
fn hidden_text(session: &Session<'_>, threshold: f64) -> Found {
    use crate::model::text::{hidden_in_value, one_line};
    let mut found = Vec::new();
    for (i, event) in session.events.iter().enumerate() {
        let hidden = hidden_in_value(&event.data);
        if hidden.count() == 0 || !at_least(hidden.count(), threshold) {
            continue;
        }
        let what = match View::of(event, session.agent) {
            View::ToolCall(call) => format!("the call of {}", call.tool),
            View::ToolResult(result) => match result.tool {
                Some(tool) => format!("the result of {tool}"),
                None => "a result".to_owned(),
            },
            View::Prompt(_) => "the prompt".to_owned(),
            View::Answer(_) => "the answer".to_owned(),
            _ => format!("the {} event", event.event_type.as_str()),
        };
        let mut parts = Vec::new();
        if !hidden.tag_text.is_empty() {
            parts.push(format!(
                "text in tag characters: \"{}\"",
                one_line(&hidden.tag_text, 80)
            ));
        }
        if !hidden.selector_bytes.is_empty() {
            let bytes = hidden.selector_bytes.len();
            parts.push(match std::str::from_utf8(&hidden.selector_bytes) {
                Ok(text) if !text.chars().any(char::is_control) => format!(
                    "{bytes} bytes in variation selectors: \"{}\"",
                    one_line(text, 80)
                ),
                _ => format!("{bytes} bytes in variation selectors"),
            });
        }
        if hidden.reorderings > 0 {
            parts.push(if hidden.reorderings == 1 {
                "1 mark that reorders the line as shown".to_owned()
            } else {
                format!(
                    "{} marks that reorder the line as shown",
                    hidden.reorderings
                )
            });
        }
        found.push((
            format!(
                "{what} (event #{}) hides what a screen does not show: {}.",
                i + 1,
                parts.join("; ")
            ),
            vec![i + 1],
        ));
    }
    found
}
