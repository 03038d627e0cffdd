//! Model calls whose response the agent's hooks see in chunks (Gemini CLI's BeforeModel and
//! AfterModel): the chunks kept in the session's response file, folded into one `llm_response`
//! by the session's next event, with the exact counts from the agent's own log.

use serde_json::{Map, Value};

use super::payload::HookEvent;
use super::record::{Recorder, lock_or_go_on};
use crate::capture::sink::Privacy;
use crate::model::{Event, EventType};
use crate::store::{PartEdit, Step, StoreError};

/// Model calls of agents whose hooks see the request and each chunk of the streamed response
/// (Gemini CLI's BeforeModel and AfterModel).
///
/// Readers (views, the summary and index, cost, replay, the Python tool) count one
/// `llm_response` per model response, so the chunks of one response become one event: each
/// chunk appends its text and the response's usage so far (Gemini repeats the cumulative
/// counts on every chunk) as one line to the session's open response (the store's `.response`,
/// see `store::streaming`), and the chunk that ends the response (its `finish_reason`) sets it
/// aside as finished. The session's next event, whatever it is, folds it into the one
/// `llm_response`, stamped with the last chunk's time: the chunks' text in order, the model,
/// and the last chunk's usage, never a sum, made exact from the agent's own log where the
/// hooks' counts are not (see [`super::gemini::exact_usage`]); by then the agent has written
/// it. One append per chunk, after a look at the end of the response so far (its last 4 KiB
/// of text, so that a secret the stream cuts in two is scrubbed whole: see [`place_text`]),
/// and no read of the session's events. A response that never ends
/// (cancelled, or the model failed) is closed with what it had by the next request, the
/// answer or the session's end, marked `incomplete`.
pub(super) fn streams(agent: crate::model::Agent) -> bool {
    agent == crate::model::Agent::GeminiCli
}

/// How long a hook waits for another hook of its session that is folding a response. Longer
/// than other hooks' waits ([`crate::store::HOOK_LOCK_WAIT`]): a fold reads up to 1 MiB of the
/// agent's chat, which on a busy machine takes more than 50 ms, and a call's hook that gave up
/// waiting wrote its call before the response that made it. The wait is the fold's, which is
/// bounded; a holder that dies lets the lock go at once.
const FOLD_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// In a line of an open response: this is the last chunk's part, and when it came.
const LAST_PART: &str = "last_at";

/// How much of the text already in the open response a chunk's text is scrubbed with, at
/// most: the longest secret whose start is enough for a rule to know it, so that one the
/// stream cuts at a chunk's end is found whole. 4 KiB is the most of a base64 blob the rules
/// decode at once to look into (`redact::decode`), and holds a JWT, a key's `name`/`value` pair, an
/// assignment's quoted value or a PEM block's first line; a vendor token needs its prefix
/// and a few dozen characters. A secret that starts further back is left in its two parts
/// until the response is folded into its event, which is scrubbed whole.
const WINDOW: usize = 4096;

/// What a secret's characters may be: after a redaction that reached the end of the text so
/// far, the next chunk's run of them is the rest of the same secret (a token cut by the
/// stream once its first characters were enough for a rule), and is redacted with it.
fn continues_secret(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+/=_.~-".contains(c)
}

/// In a line of an open response: its text ends inside a private key's body, whose BEGIN line
/// the scrub has already replaced, so the next chunk's text is that body until its END line.
/// Its value is what the text ended with that the next chunk's text goes on (see
/// [`past_key`]): the start of the END line (`--`, `-----END RSA`) or of an armour header
/// (`Version: GnuPG v2.0`), never the key's base64, which holds no dash and no `: `.
const IN_KEY: &str = "in_key";

/// A key's END line, whole, at the start of a text.
static KEY_END: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----").ok()
});

/// A text that is all the start of a key's END line.
static KEY_END_START: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"^-+(?:E(?:N(?:D[A-Z0-9 ]*-*)?)?)?$").ok());

/// The most of a line a key's part carries over to the next chunk ([`IN_KEY`]).
const CARRIED: usize = 256;

/// A character of a PEM key's body: base64, an encrypted key's header values
/// (`4,ENCRYPTED`, `AES-128-CBC,…`), spaces and the dashes of its END line.
fn in_key_body(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+/=\\:,- \t\r".contains(c)
}

/// The armour headers a key's block may hold before its base64 (RFC 1421's for an encrypted
/// PEM key, RFC 4880's for a PGP block), whose values may hold any text (`Version: GnuPG
/// v2.0.22 (GNU/Linux)`). Only these: a line of prose (`Note: see below`) is no key's.
const ARMOUR_HEADERS: [&str; 7] = [
    "Proc-Type: ",
    "DEK-Info: ",
    "Version: ",
    "Comment: ",
    "Hash: ",
    "Charset: ",
    "MessageID: ",
];

/// Whether a line of a key (so far, or whole) is one of its [`ARMOUR_HEADERS`], or, with
/// `so_far`, may still become one (`Vers`, `Comment`).
fn armour_header(line: &str, so_far: bool) -> bool {
    ARMOUR_HEADERS
        .iter()
        .any(|h| line.starts_with(h) || (so_far && h.starts_with(line) && !line.is_empty()))
}

/// Where a line ends in a key's text: at a line break, or one escaped in JSON text (`\n`);
/// `None` when the text ends first. Gives the line's length and the break's.
fn line_end(text: &str) -> Option<(usize, usize)> {
    let plain = text.find('\n').map(|at| (at, 1));
    let escaped = text.find("\\n").map(|at| (at, 2));
    match (plain, escaped) {
        (Some(p), Some(e)) => Some(if p.0 < e.0 { p } else { e }),
        (one, other) => one.or(other),
    }
}

/// Where the text after a key's start (`pending`, the start of a line the text before ended
/// in, then `text`) leaves the key: `Ok` with the rest after its END line, or from the first
/// character no key holds (a key cut short); `Err` with what the text ends with that the next
/// chunk goes on, when all of it is the key's: the start of its END line (`--`, `-----END
/// RSA`) or of an armour header (`Vers`, `Comment: my-`), never base64, which holds no dash
/// and is no header's start past a few letters.
fn past_key(pending: &str, text: &str) -> Result<String, String> {
    let all = format!("{pending}{text}");
    let mut start = 0;
    loop {
        let rest = &all[start..];
        let (line, next) = match line_end(rest) {
            Some((len, brk)) => (&rest[..len], Some(start + len + brk)),
            None => (rest, None),
        };
        let trimmed = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - trimmed.len();
        if let Some(end) = KEY_END.as_ref().and_then(|end| end.find(trimmed)) {
            return Ok(all[start + indent + end.end()..].to_owned());
        }
        // The line the text ends in goes on in the next chunk when it is (or may become) the
        // END line or an armour header.
        let carried = next.is_none()
            && trimmed.len() <= CARRIED
            && ((trimmed.starts_with('-')
                && KEY_END_START.as_ref().is_some_and(|s| s.is_match(trimmed)))
                || armour_header(trimmed, true));
        if carried {
            return Err(trimmed.to_owned());
        }
        if !armour_header(trimmed, next.is_none())
            && let Some(at) = line.find(|c| !in_key_body(c))
        {
            return Ok(all[start + at..].to_owned());
        }
        match next {
            Some(next) => start = next,
            None => return Err(String::new()),
        }
    }
}

/// Whether `text` ends inside a PEM private key, its BEGIN line whole and the rest its body
/// (see [`past_key`]): `Some` with where its BEGIN line starts and what the text ends with
/// that the next chunk goes on. All of it from there is the key's, to be redacted whole (the
/// rule for a key cut short stops at an armour header's `.` or `(`); the chunks after it hold
/// the rest of its body, line after line, which no rule knows for a key's without the BEGIN
/// line.
fn ends_in_key(text: &str) -> Option<(usize, String)> {
    let at = text.rfind("-----BEGIN")?;
    let header = &text[at + "-----BEGIN".len()..];
    let end = header.find("-----")?;
    let name = &header[..end];
    let private = name.contains("PRIVATE KEY")
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ');
    if !private {
        return None;
    }
    past_key("", &header[end + "-----".len()..])
        .err()
        .map(|pending| (at, pending))
}

/// In a line of an open response: its text ends inside a PuTTY key's private part (its
/// `Private-Lines:` line seen, its `Private-MAC:` line not yet ended), which the scrub has
/// already replaced, so the next chunk's text is that part until its MAC line ends. Its value
/// is what the text ended with that the next chunk's text goes on: a start of the MAC line
/// (`Private-M`, `Private-MAC:` without its digits), never the key's base64.
const IN_PPK: &str = "in_ppk";

/// The line that ends a PuTTY key's private part.
const PPK_MAC: &str = "Private-MAC:";

/// Whether a line is one of a PuTTY key's base64 lines (or a part of one), blank around it
/// or not, and its line break escaped in JSON text (`\r\n`) or not.
fn ppk_body(line: &str) -> bool {
    line.trim()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=\\".contains(c))
}

/// Where the text after a PuTTY key's `Private-Lines:` line (`pending`, the start of a line
/// the text before ended in, then `text`) leaves the key: `Ok` with the rest after its
/// `Private-MAC:` line, or from the first line that is no base64 (a key cut short); `Err` with
/// what the text ends with that the next chunk goes on, when all of it is the key's (see
/// [`IN_PPK`]).
fn past_ppk(pending: &str, text: &str) -> Result<String, String> {
    let all = format!("{pending}{text}");
    let mut start = 0;
    loop {
        let rest = &all[start..];
        let (line, next) = match line_end(rest) {
            Some((len, brk)) => (&rest[..len], Some((start + len, brk))),
            None => (rest, None),
        };
        let trimmed = line.trim_start_matches([' ', '\t']);
        if let Some(mac) = trimmed.strip_prefix(PPK_MAC) {
            let after = mac.trim_start_matches(|c: char| c.is_ascii_hexdigit() || c == ' ');
            return match next {
                Some((end, _)) => Ok(all[end..].to_owned()),
                // Its digits may go on in the next chunk: they are taken with it.
                None if after.is_empty() => Err(PPK_MAC.to_owned()),
                None => Ok(after.to_owned()),
            };
        }
        if next.is_none() && !trimmed.is_empty() && PPK_MAC.starts_with(trimmed) {
            return Err(trimmed.to_owned());
        }
        if !ppk_body(line) {
            return Ok(all[start..].to_owned());
        }
        match next {
            Some((end, brk)) => start = end + brk,
            None => return Err(String::new()),
        }
    }
}

/// Whether `text` ends inside a PuTTY key's private part (see [`past_ppk`]): `Some` with where
/// the key starts (its first line when the text holds it, else its `Private-Lines:` line) and
/// what the text ends with that the next chunk goes on. The chunks after it hold the rest of
/// its base64 lines, which no rule knows for a key's without the lines around them.
fn ends_in_ppk(text: &str) -> Option<(usize, String)> {
    let at = text.rfind("Private-Lines:")?;
    let count = text[at + "Private-Lines:".len()..].trim_start_matches([' ', '\t']);
    let digits = count.len() - count.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let pending = past_ppk("", &count[digits..]).err()?;
    let first = text[..at]
        .rfind("PuTTY-User-Key-File-")
        .filter(|&first| !text[first..at].contains(PPK_MAC));
    Some((first.unwrap_or(at), pending))
}

/// A string scrubbed as a part's `text` is.
fn scrubbed(privacy: &Privacy, text: String) -> String {
    let mut text = Value::String(text);
    privacy.apply(&mut text);
    match text {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

/// Whether a part's text is scrubbed with the text before it: only when something is scrubbed
/// at all (else the response file is not read). A part with no text is placed so too: it
/// carries on whether the text so far ends inside a key ([`IN_KEY`]), which a chunk of usage
/// alone, between two of a key's, lost.
fn looks_back(privacy: &Privacy) -> bool {
    !privacy.is_off()
}

/// Where a chunk's `text` goes in the open response whose last lines are `tail`, as the part
/// `part` (scrubbed, its `text` empty): scrubbed together with the text of the parts before it
/// (at most [`WINDOW`] of it), so that a secret the stream cut in two is found whole. When the
/// text before it stands as written, the part is added with the rest; when the scrub changed
/// it (it held a secret's first part, not a secret alone), the lines from the one where the
/// change starts are rewritten: that one keeps its text up to there, those after it keep no
/// text, and the new part holds the rest, so that the response's text read in order is the
/// whole text scrubbed, and no part of the secret stays. Text already scrubbed is scrubbed
/// again to no change (placeholders are never nested), so a part is rewritten only for a
/// secret it ends.
fn place_text(privacy: &Privacy, tail: &[&[u8]], text: &str, part: &Value) -> PartEdit {
    let line_of = |mut part: Value, text: &str| {
        part["text"] = text.into();
        format!("{part}\n").into_bytes()
    };
    if !looks_back(privacy) {
        return PartEdit {
            keep: tail.len(),
            lines: line_of(part.clone(), text),
        };
    }
    // The parts at the end, last first, until WINDOW of text: (line, its fields, its text).
    let mut before = Vec::new();
    let mut length = 0;
    for (index, line) in tail.iter().enumerate().rev() {
        if length >= WINDOW {
            break;
        }
        let Ok(Value::Object(fields)) = crate::model::deep_json::from_slice::<Value>(line) else {
            break;
        };
        let Some(Value::String(text)) = fields.get("text") else {
            break;
        };
        let text = text.clone();
        length += text.len();
        before.push((index, fields, text));
    }
    before.reverse();
    // The text looked at: the first part's text from `skip` on.
    let mut skip = length.saturating_sub(WINDOW);
    if let Some((_, _, first)) = before.first() {
        while !first.is_char_boundary(skip) {
            skip += 1;
        }
    }
    let mut seen = String::with_capacity(WINDOW + text.len());
    for (i, (_, _, part_text)) in before.iter().enumerate() {
        seen.push_str(if i == 0 {
            &part_text[skip..]
        } else {
            part_text
        });
    }
    // The rest of a key whose BEGIN line a part before redacted: its lines are redacted with
    // it, however many chunks they come in.
    let in_key = before
        .last()
        .and_then(|(_, fields, _)| fields.get(IN_KEY))
        .and_then(Value::as_str);
    let in_ppk = before
        .last()
        .and_then(|(_, fields, _)| fields.get(IN_PPK))
        .and_then(Value::as_str);
    let mut part = part.clone();
    let after_key;
    let still_in = (in_key.map(|pending| (IN_KEY, past_key(pending, text))))
        .or_else(|| in_ppk.map(|pending| (IN_PPK, past_ppk(pending, text))));
    let new = match still_in.map(|(kind, past)| past.map_err(|pending| (kind, pending))) {
        Some(Err((kind, pending))) => {
            part[kind] = pending.into();
            return PartEdit {
                keep: tail.len(),
                lines: line_of(part, ""),
            };
        }
        Some(Ok(rest)) => {
            after_key = rest;
            after_key.as_str()
        }
        None if seen.ends_with(crate::redact::REDACTED) => {
            text.trim_start_matches(continues_secret)
        }
        None => text,
    };
    let mut unscrubbed = format!("{seen}{new}");
    if let Some((at, pending)) = ends_in_key(&unscrubbed).filter(|_| privacy.redact) {
        part[IN_KEY] = pending.into();
        unscrubbed.replace_range(at.., crate::redact::REDACTED);
    } else if let Some((at, pending)) = ends_in_ppk(&unscrubbed).filter(|_| privacy.redact) {
        part[IN_PPK] = pending.into();
        unscrubbed.replace_range(at.., crate::redact::REDACTED);
    }
    let whole = scrubbed(privacy, unscrubbed);
    let same = seen
        .char_indices()
        .zip(whole.chars())
        .find(|((_, a), b)| a != b)
        .map_or(seen.len().min(whole.len()), |((at, _), _)| at);
    if same == seen.len() {
        return PartEdit {
            keep: tail.len(),
            lines: line_of(part, &whole[same..]),
        };
    }
    // Rewritten from the part in which the scrub first changed the text before.
    let mut lines = Vec::new();
    let mut keep = tail.len();
    let mut start = 0;
    for (i, (index, fields, part_text)) in before.into_iter().enumerate() {
        let shown = if i == 0 { skip } else { 0 };
        let end = start + part_text.len() - shown;
        if keep == tail.len() && same < end {
            keep = index;
            lines.extend(line_of(
                Value::Object(fields),
                &part_text[..shown + same - start],
            ));
        } else if keep < tail.len() {
            lines.extend(line_of(Value::Object(fields), ""));
        }
        start = end;
    }
    lines.extend(line_of(part, &whole[same..]));
    PartEdit { keep, lines }
}

impl Recorder<'_> {
    /// Folds the response whose last chunk came at an earlier hook, and at a turn's answer or
    /// the session's end an open one too, under the session's response lock: hooks of the
    /// calls a response made may run at once, and each waits for the lock, so the one that
    /// folds the response has written it before any of them writes its own event.
    pub(super) fn fold_responses(&self, session: &str) -> Result<(), StoreError> {
        // Busy past the wait, or not to be had: the fold goes on without it.
        let _one_at_a_time =
            lock_or_go_on(self.store, session, Step::Responses, FOLD_WAIT).unwrap_or_default();
        self.close_finished_response(session)?;
        if matches!(self.payload.event, HookEvent::Stop | HookEvent::SessionEnd) {
            self.close_response(session)?;
        }
        Ok(())
    }

    /// A model request: recorded with its model (the payload holds no conversation; the wire
    /// module kept of the request its model, config and message count), and the session's
    /// open response restarted for it, naming it, so that its response links to it.
    pub(super) fn model_request(&self, session: &str) -> Result<(), StoreError> {
        self.close_response(session)?;
        let mut data = Map::new();
        self.copy(&mut data, &["model", "messages", "config"]);
        self.keep_unknown(&mut data);
        let event = self.event(EventType::LlmRequest, session, data);
        let head = serde_json::json!({"request": event.event_id, "at": self.now});
        self.store
            .open_response(session, format!("{head}\n").as_bytes())?;
        self.write(session, vec![event])
    }

    /// One chunk of a streamed response: one line added to the open response; the last chunk
    /// also sets the response aside as finished.
    pub(super) fn model_chunk(&self, session: &str) -> Result<(), StoreError> {
        let p = self.payload;
        let last = p.fields.get("finish_reason").is_some_and(Value::is_string);
        let text = p.str_field("text").unwrap_or_default();
        let usage = p.fields.get("usage");
        if !last && text.is_empty() && usage.is_none() {
            return Ok(());
        }
        let mut part = Map::new();
        part.insert("text".into(), "".into());
        self.copy(&mut part, &["usage", "reported_usage", "model"]);
        if last {
            self.copy(&mut part, &["finish_reason"]);
            self.keep_unknown(&mut part);
        }
        let mut part = Value::Object(part);
        // A part waits on disk for the event that folds it: scrubbed as that event will be,
        // its text with the text before it (see `place_text`).
        let privacy = self.sink.privacy();
        privacy.apply(&mut part);
        if last {
            part[LAST_PART] = self.now.into();
        }
        self.store
            .add_response_part(session, last, looks_back(privacy), |tail| {
                place_text(privacy, tail, text, &part)
            })
    }

    /// Records the response whose last chunk came at an earlier hook, if there is one.
    fn close_finished_response(&self, session: &str) -> Result<(), StoreError> {
        let parts = self.store.take_finished_response(session)?;
        self.record_response(session, parts)
    }

    /// Records what an open response had, if anything, as a response that did not finish.
    fn close_response(&self, session: &str) -> Result<(), StoreError> {
        let parts = self.store.take_response(session)?;
        self.record_response(session, parts)
    }

    /// The one `llm_response` of a response file taken, if it held any part (a request that
    /// got no answer at all records nothing).
    fn record_response(&self, session: &str, parts: Option<Vec<u8>>) -> Result<(), StoreError> {
        match parts.and_then(|parts| self.response_event(session, &parts)) {
            Some(event) => self.write(session, vec![event]),
            None => Ok(()),
        }
    }

    /// The one `llm_response` of a response, from its parts (the response file's lines): at
    /// the last chunk's time when it finished, else now and marked `incomplete`; `None` when
    /// there is no part.
    fn response_event(&self, session: &str, parts: &[u8]) -> Option<Event> {
        let mut request: Option<(String, f64)> = None;
        let mut text = String::new();
        let mut chunks = 0u64;
        let mut finished_at = None;
        let mut data = Map::new();
        for line in parts.split(|b| *b == b'\n') {
            let Ok(Value::Object(mut line)) = crate::model::deep_json::from_slice::<Value>(line)
            else {
                continue;
            };
            if let (Some(Value::String(id)), Some(at)) =
                (line.get("request"), line.get("at").and_then(Value::as_f64))
            {
                request = Some((id.clone(), at));
                continue;
            }
            chunks += 1;
            if let Some(Value::String(part)) = line.remove("text") {
                text.push_str(&part);
            }
            line.remove(IN_KEY);
            line.remove(IN_PPK);
            if let Some(at) = line.remove(LAST_PART) {
                finished_at = at.as_f64().or(Some(self.now));
            }
            // The usage is the response's so far: the last one stands.
            data.extend(line);
        }
        if chunks == 0 {
            return None;
        }
        if finished_at.is_none() {
            data.insert("incomplete".into(), true.into());
        } else if let Some(usage) = super::gemini::exact_usage(self.payload, &data) {
            data.insert("usage".into(), usage);
        }
        data.insert("text".into(), text.into());
        data.insert("chunks".into(), chunks.into());
        let at = finished_at.unwrap_or(self.now);
        let mut event = self.sink.event(EventType::LlmResponse, at, session, data);
        if let Some((id, requested)) = request {
            event.parent_id = Some(id);
            event.duration_ms = Some(((at - requested) * 1000.0).max(0.0));
        }
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const KEY_HEAD: &str = "sk-ant-api03-Xq7v";
    const KEY_REST: &str = "R2mK9pL4wT8nB3cF6hJ1dS5gZ0aY";

    fn redacting(patterns: &[&str]) -> Privacy {
        Privacy {
            redact: true,
            mask: false,
            patterns: patterns
                .iter()
                .map(|p| regex::Regex::new(p).unwrap())
                .collect(),
        }
    }

    /// The lines of an open response: its request, then a part of each text.
    fn response(texts: &[&str]) -> Vec<Vec<u8>> {
        let mut lines = vec![br#"{"request":"abc","at":1.0}"#.to_vec()];
        lines.extend(
            texts
                .iter()
                .map(|t| json!({"text": t, "model": "m"}).to_string().into_bytes()),
        );
        lines
    }

    /// What `place_text` does with `text` after `lines`: how many lines stay, and the texts of
    /// the lines it writes.
    fn placed(privacy: &Privacy, lines: &[Vec<u8>], text: &str) -> (usize, Vec<String>) {
        let tail: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        let edit = place_text(privacy, &tail, text, &json!({"text": "", "model": "m"}));
        let texts = String::from_utf8(edit.lines)
            .unwrap()
            .lines()
            .map(|l| {
                let line: Value = serde_json::from_str(l).unwrap();
                assert_eq!(line["model"], "m", "a line keeps its other fields");
                line["text"].as_str().unwrap().to_owned()
            })
            .collect();
        (edit.keep, texts)
    }

    #[test]
    fn text_with_no_secret_across_the_cut_is_added_as_it_came() {
        let lines = response(&["Reading ", "the file"]);
        let privacy = redacting(&[]);
        assert_eq!(placed(&privacy, &lines, "."), (3, vec![".".into()]));
        let secret = format!(" key {KEY_HEAD}{KEY_REST} ok");
        assert_eq!(
            placed(&privacy, &lines, &secret),
            (3, vec![" key [REDACTED] ok".into()])
        );
        // Nothing is looked at with redaction off.
        let head = response(&[KEY_HEAD]);
        assert_eq!(
            placed(&Privacy::default(), &head, KEY_REST),
            (2, vec![KEY_REST.into()])
        );
    }

    #[test]
    fn a_secret_cut_in_two_rewrites_the_lines_from_its_start() {
        let lines = response(&["a ", "key sk-ant-", &KEY_HEAD[7..]]);
        let (keep, texts) = placed(&redacting(&[]), &lines, &format!("{KEY_REST} done"));
        assert_eq!(keep, 2, "the request's line and the first part stay");
        assert_eq!(texts, ["key ", "", "[REDACTED] done"]);
    }

    #[test]
    fn the_rest_of_a_redacted_token_is_redacted_with_it() {
        let lines = response(&["key [REDACTED]"]);
        let privacy = redacting(&[]);
        assert_eq!(
            placed(&privacy, &lines, "AbC-d_9 then"),
            (2, vec![" then".into()])
        );
        assert_eq!(placed(&privacy, &lines, " then"), (2, vec![" then".into()]));
    }

    /// Places each of `chunks` after the lines so far, as `add_response_part` does: the lines
    /// kept, then those written. The texts of the parts in the end.
    /// `text` in chunks of `size` bytes (of ASCII text: each chunk is text).
    fn chunked(text: &str, size: usize) -> Vec<&str> {
        text.as_bytes()
            .chunks(size)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect()
    }

    fn streamed(privacy: &Privacy, chunks: &[&str]) -> Vec<String> {
        streamed_checking(privacy, chunks, |_, _| {})
    }

    /// [`streamed`], with `check` called after each chunk with its number and every line of
    /// the response file as it then is (what is on disk).
    fn streamed_checking(
        privacy: &Privacy,
        chunks: &[&str],
        mut check: impl FnMut(usize, &str),
    ) -> Vec<String> {
        let mut lines = response(&[]);
        for (n, chunk) in chunks.iter().enumerate() {
            let tail: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
            let edit = place_text(privacy, &tail, chunk, &json!({"text": "", "model": "m"}));
            lines.truncate(edit.keep);
            lines.extend(
                edit.lines
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(<[u8]>::to_vec),
            );
            let on_disk: Vec<u8> = lines.join(&b'\n');
            check(n, &String::from_utf8_lossy(&on_disk));
        }
        lines[1..]
            .iter()
            .map(|l| {
                serde_json::from_slice::<Value>(l).unwrap()["text"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn a_private_key_streamed_in_many_chunks_is_redacted_whole() {
        let body: Vec<String> = (0..12)
            .map(|i| format!("MIIEow{i:02}{}", "AbCd".repeat(15)))
            .collect();
        let key = format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
            body.join("\n")
        );
        let text = format!("Here is the key:\n{key}Keep it safe.");
        let privacy = redacting(&[]);
        for size in [7, 40, 64, 200] {
            let chunks = chunked(&text, size);
            let parts = streamed(&privacy, &chunks);
            let joined = parts.concat();
            for line in &body {
                assert!(!joined.contains(&line[6..]), "{size}: {joined:?}");
                for part in &parts {
                    assert!(!part.contains(&line[8..24]), "{size}: {part:?}");
                }
            }
            assert!(
                joined.starts_with("Here is the key:\n[REDACTED]"),
                "{size}: {joined:?}"
            );
            assert!(joined.ends_with("Keep it safe."), "{size}: {joined:?}");
        }
        // Masking alone leaves a key as it is.
        let masking = Privacy {
            redact: false,
            mask: true,
            patterns: Vec::new(),
        };
        let chunks = chunked(&text, 64);
        assert!(streamed(&masking, &chunks).concat().contains(&body[5]));
    }

    #[test]
    fn a_putty_key_streamed_in_chunks_of_any_size_is_redacted_whole() {
        let private = base64_lines(7, 9, 64, 20);
        let text = format!(
            "The key:\nPuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: k\n\
             Public-Lines: 1\nAAAAB3NzaC1yc2EAAAADAQAB\nPrivate-Lines: 9\n{}\n\
             Private-MAC: 0f1e2d3c4b5a6978\nKeep it safe.",
            private.join("\n")
        );
        let privacy = redacting(&[]);
        for size in [1, 5, 13, 64, 100, 333] {
            let chunks = chunked(&text, size);
            let parts = streamed(&privacy, &chunks);
            let joined = parts.concat();
            for line in &private {
                for part in &parts {
                    assert!(!part.contains(&line[..12]), "{size}: {part:?}");
                }
            }
            assert!(joined.starts_with("The key:\n"), "{size}: {joined:?}");
            assert!(joined.ends_with("\nKeep it safe."), "{size}: {joined:?}");
            assert!(!joined.contains("0f1e2d3c"), "{size}: {joined:?}");
        }
    }

    /// Base64 lines no two alike, `width` long, the last `last` long.
    fn base64_lines(seed: u64, count: usize, width: usize, last: usize) -> Vec<String> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state = seed;
        (0..count)
            .map(|i| {
                let n = if i + 1 == count { last } else { width };
                (0..n)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1);
                        ALPHABET[(state >> 58) as usize] as char
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn keys_of_every_shape_are_redacted_whatever_the_chunks_and_empty_ones_between() {
        let rsa = base64_lines(1, 10, 64, 9);
        let pgp = base64_lines(2, 8, 64, 20);
        let ssh = base64_lines(3, 5, 70, 6);
        let keys = [
            (
                format!(
                    "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B\n\n{}\n-----END RSA PRIVATE KEY-----",
                    rsa.join("\n")
                ),
                &rsa,
            ),
            (
                format!(
                    "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2.0.22 (GNU/Linux)\nComment: https://example.org/k (mine)\n\n{}\n=z+oL\n-----END PGP PRIVATE KEY BLOCK-----",
                    pgp.join("\n")
                ),
                &pgp,
            ),
            (
                format!(
                    "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----",
                    ssh.join("\n")
                ),
                &ssh,
            ),
        ];
        let privacy = redacting(&[]);
        for (key, body) in &keys {
            // With its END line, and cut short (a response that stopped).
            let whole = format!("Here it is:\n{key}\nKeep it safe (really).");
            let cut = format!("Here it is:\n{}", &key[..key.rfind("-----END").unwrap()]);
            for text in [&whole, &cut] {
                for size in [1, 5, 13, 31, 64, 65, 100, 257] {
                    let mut chunks: Vec<&str> = Vec::new();
                    for (i, piece) in text.as_bytes().chunks(size).enumerate() {
                        chunks.push(std::str::from_utf8(piece).unwrap());
                        // A chunk of usage alone, with no text, now and then.
                        if i % 3 == 1 {
                            chunks.push("");
                        }
                    }
                    // No part of the key on disk after any chunk: not only once its END line
                    // has come.
                    let parts = streamed_checking(&privacy, &chunks, |n, disk| {
                        for line in body.iter().filter(|l| l.len() >= 12) {
                            assert!(!disk.contains(&line[..12]), "{size} #{n}: {line} in {disk}");
                        }
                    });
                    let joined = parts.concat();
                    // The armour headers are the key's too (what a line carries over to the
                    // next chunk may hold one, never the text).
                    assert!(!joined.contains("GNU/Linux"), "{size}: {joined:?}");
                    assert!(
                        joined.starts_with("Here it is:\n[REDACTED]"),
                        "{size}: {joined:?}"
                    );
                    if text == &whole {
                        assert!(
                            joined.ends_with("Keep it safe (really)."),
                            "{size}: {joined:?}"
                        );
                    }
                }
            }
        }
        // A key over the 4 KiB the scrub looks back over, with no END line.
        let long = base64_lines(4, 100, 64, 64);
        let text = format!("-----BEGIN PRIVATE KEY-----\n{}", long.join("\n"));
        let chunks = chunked(&text, 37);
        streamed_checking(&privacy, &chunks, |n, disk| {
            for line in &long {
                assert!(!disk.contains(&line[..12]), "#{n}: {line}");
            }
        });
    }

    #[test]
    fn prose_after_a_begin_line_is_kept_as_the_whole_text_keeps_it() {
        // `Note:` is no armour header: the key ends at what no key holds, as the rule ends it.
        let privacy = redacting(&[]);
        let chunks = [
            "-----BEGIN RSA PRIVATE KEY-----\nNote: (see below)\n",
            "Paste your key between these lines\nthen save it",
            " as id_rsa, ok? Thanks",
        ];
        let joined = streamed(&privacy, &chunks).concat();
        let whole = scrubbed(&privacy, chunks.concat());
        assert_eq!(joined, whole);
        assert!(joined.contains("(see below)"), "{joined:?}");
    }

    #[test]
    fn scrubbed_text_is_never_scrubbed_again() {
        let lines = response(&["code [REDACTED], key [REDACTED]", " and [EMAIL]"]);
        let privacy = redacting(&["[A-Z]{8,}", r"\[\w+\]"]);
        assert_eq!(placed(&privacy, &lines, " more"), (3, vec![" more".into()]));
    }

    #[test]
    fn only_the_last_window_of_text_is_looked_at() {
        // A first part longer than the window, which ends with a key's start: its text before
        // the window stays in its line.
        let before = "word ".repeat(WINDOW / 4);
        let first = format!("{before}{KEY_HEAD}");
        let lines = response(&[&first]);
        let (keep, texts) = placed(&redacting(&[]), &lines, KEY_REST);
        assert_eq!(keep, 1);
        assert_eq!(texts, [before.clone(), "[REDACTED]".into()]);
        // A key whose start is further back than the window is not seen from the cut.
        let far = response(&[KEY_HEAD, &"-".repeat(WINDOW)]);
        let (keep, _) = placed(&redacting(&[]), &far, KEY_REST);
        assert_eq!(keep, 3);
    }
}
