//! Cutting oversized events so one huge payload cannot bloat the store: no field keeps more
//! than [`FIELD_LIMIT`] bytes of JSON and no event more than [`EVENT_LIMIT`], however many
//! fields it has. The sink applies it to every event, after scrubbing.
//!
//! What was cut is said in the event itself, which stays well-formed JSON: a cut field becomes
//! the first bytes of its JSON text ending in `… [cut by agent-strace: N bytes in all]`, with
//! `<field>_original_bytes: N` beside it; an event cut as a whole also says its real size in
//! `event_original_bytes`, and the number of fields left out in `dropped_fields` (only when
//! cutting every field to a stub is not enough: thousands of fields).
//!
//! A value nested too deep for the store's readers is kept as its JSON text ([`flatten_deep`]).

use crate::model::view::cut_marker;
use serde_json::{Map, Value};

/// The most of any one field that is kept, as serialised JSON.
pub(crate) const FIELD_LIMIT: usize = 256 * 1024;

/// The most an event's line may take.
pub(crate) const EVENT_LIMIT: usize = 1024 * 1024;

/// What the event's data may take: the line less room for its envelope (ids, type, time).
const DATA_LIMIT: usize = EVENT_LIMIT - 8 * 1024;

/// What an event's fields beyond the store's own (`extra`: another tool's `prev_hash`,
/// `tenant_id` …, a few bytes each) may take; the data has that much less room when they are
/// there, so that the line stays within [`EVENT_LIMIT`].
pub(crate) const EXTRA_LIMIT: usize = 64 * 1024;

/// The longest id or event type an event may have, in bytes: ours are 12 hex digits, a UUID
/// 36; one longer is no id of any client's, and would be written on every line that names it.
pub(crate) const ID_LIMIT: usize = 256;

/// The least a field is cut to when the whole event must shrink.
const STUB: usize = 1024;

/// One field of the event's data, as measured.
struct Field {
    key: String,
    /// Its key's size as JSON, with the colon and comma.
    key_size: usize,
    /// Its value's size as JSON now.
    size: usize,
    /// Its size before it was cut.
    original: Option<usize>,
    dropped: bool,
}

/// The event's data as it is being cut: its fields and running sizes.
struct Sizes {
    fields: Vec<Field>,
    /// The data's size as JSON, fields left out not counted.
    total: usize,
    /// The notes that will be added about what was cut.
    notes: usize,
    /// The most the whole may take.
    limit: usize,
}

impl Sizes {
    fn over(&self) -> bool {
        self.total + self.notes > self.limit
    }

    /// Cuts field `i` to at most `target` bytes.
    fn cut(&mut self, data: &mut Map<String, Value>, i: usize, target: usize) {
        let field = &mut self.fields[i];
        let value = data.get_mut(&field.key).expect("a field of data");
        if field.original.is_none() {
            self.notes += field.key.len() + 40;
        }
        let real = *field.original.get_or_insert(field.size);
        let size = cut_to(value, target, real);
        self.total = self.total - field.size + size;
        field.size = size;
    }

    /// Leaves field `i` out (taken out of the data by the caller, all at once).
    fn drop(&mut self, i: usize) {
        let field = &mut self.fields[i];
        field.dropped = true;
        self.total -= field.key_size + field.size;
        if field.original.take().is_some() {
            self.notes -= field.key.len() + 40;
        }
        field.size = 0;
        field.key_size = 0;
    }
}

/// The deepest a value in an event's data may nest, counting the data's own braces as one:
/// readers that keep serde_json's limit of 128 levels (this tool's before it read deeper, and
/// any other Rust reader of the store) read a line nested at most that deep, and the event
/// around the data takes one more.
const DATA_DEPTH: usize = 100;

/// Writes each value of `data` nested [`DATA_DEPTH`] levels deep as its JSON text, a string,
/// so that the event can be read back whole: a payload accepted at 125 levels was written as
/// it came, and the line it made could never be read. Returns whether any value was.
pub(crate) fn flatten_deep(data: &mut Map<String, Value>) -> bool {
    let mut flattened = false;
    for value in data.values_mut() {
        flatten_below(value, 2, &mut flattened);
    }
    flattened
}

fn flatten_below(value: &mut Value, depth: usize, flattened: &mut bool) {
    if !(value.is_array() || value.is_object()) {
        return;
    }
    if depth >= DATA_DEPTH {
        *value = Value::String(value.to_string());
        *flattened = true;
        return;
    }
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| flatten_below(v, depth + 1, flattened)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| flatten_below(v, depth + 1, flattened)),
        _ => {}
    }
}

/// Cuts `data` to the limits; returns whether anything was cut.
pub(crate) fn cap(data: &mut Map<String, Value>) -> bool {
    cap_to(data, DATA_LIMIT)
}

/// Cuts an event's fields beyond the store's own (`extra`) to [`EXTRA_LIMIT`], and its data to
/// what is left of the line; returns whether anything was cut.
pub(crate) fn cap_with_extra(
    data: &mut Map<String, Value>,
    extra: &mut Map<String, Value>,
) -> bool {
    if extra.is_empty() {
        return cap(data);
    }
    let cut = cap_to(extra, EXTRA_LIMIT);
    let extra_size = json_len(&Value::Object(extra.clone()));
    cap_to(data, DATA_LIMIT.saturating_sub(extra_size)) || cut
}

/// Cuts `map` so that no field takes more than [`FIELD_LIMIT`] and the whole less than
/// `limit`, as JSON; returns whether anything was cut.
fn cap_to(data: &mut Map<String, Value>, limit: usize) -> bool {
    // Most events are small: a bound on their size, counted without writing anything, says
    // so. Only events that may be over a limit are measured exactly.
    let bound: usize = data
        .iter()
        .map(|(k, v)| upper_bound_str(k) + upper_bound(v) + 2)
        .sum();
    if bound <= FIELD_LIMIT.min(limit) {
        return false;
    }
    let fields: Vec<Field> = data
        .iter()
        .map(|(key, value)| Field {
            key: key.clone(),
            key_size: json_len_str(key) + 2,
            size: json_len(value),
            original: None,
            dropped: false,
        })
        .collect();
    // Braces, and a comma between fields (counted with each key, one too many).
    let total = 1 + fields.iter().map(|f| f.key_size + f.size).sum::<usize>();
    let event_size = total;
    let mut sizes = Sizes {
        fields,
        total,
        notes: 64,
        limit,
    };
    for i in 0..sizes.fields.len() {
        if sizes.fields[i].size > FIELD_LIMIT {
            sizes.cut(data, i, FIELD_LIMIT);
        }
    }
    let whole = sizes.over();
    let mut dropped = 0usize;
    if whole {
        let mut order: Vec<usize> = (0..sizes.fields.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(sizes.fields[i].size));
        for &i in &order {
            if !sizes.over() {
                break;
            }
            let excess = sizes.total + sizes.notes - sizes.limit;
            let size = sizes.fields[i].size;
            if size > STUB {
                sizes.cut(data, i, size.saturating_sub(excess + 64).max(STUB));
            }
        }
        // Thousands of small fields: the largest are left out until the rest fits.
        for &i in &order {
            if !sizes.over() {
                break;
            }
            sizes.drop(i);
            dropped += 1;
        }
        if dropped > 0 {
            let left_out: std::collections::HashSet<&str> = sizes
                .fields
                .iter()
                .filter(|f| f.dropped)
                .map(|f| f.key.as_str())
                .collect();
            data.retain(|key, _| !left_out.contains(key.as_str()));
        }
    }
    let mut cut = false;
    for field in &sizes.fields {
        if let Some(size) = field.original {
            data.insert(format!("{}_original_bytes", field.key), size.into());
            cut = true;
        }
    }
    if whole {
        data.insert("event_original_bytes".into(), event_size.into());
        if dropped > 0 {
            data.insert("dropped_fields".into(), dropped.into());
        }
    }
    cut || whole
}

/// Replaces `value` by the first bytes of its text (a string's own text, else its JSON) and a
/// marker saying its real size, at most `target` bytes as JSON; returns that size.
fn cut_to(value: &mut Value, target: usize, real: usize) -> usize {
    let marker = cut_marker(real as u64);
    let mut keep = target.saturating_sub(marker.len() + 2);
    loop {
        let cut = Value::String(format!("{}{marker}", text_prefix(value, keep)));
        let size = json_len(&cut);
        // Escapes make JSON longer than the text it holds: keep less until it fits.
        if size <= target || keep == 0 {
            *value = cut;
            return size;
        }
        keep = (keep * target / size).min(keep - 1);
    }
}

/// The first `max` bytes (or fewer, to end on a character) of a value's text.
fn text_prefix(value: &Value, max: usize) -> String {
    if let Value::String(s) = value {
        return s[..char_boundary(s, max)].to_owned();
    }
    // Written only as far as needed: a 50 MB structure is not turned into 50 MB of text.
    let mut out = Prefix {
        bytes: Vec::with_capacity(max.min(FIELD_LIMIT)),
        max,
    };
    let _ = serde_json::to_writer(&mut out, value);
    match String::from_utf8(out.bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
    }
}

/// The largest index at most `at` that is on a character boundary of `s`.
pub(crate) fn char_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A writer that keeps the first `max` bytes and then refuses more.
struct Prefix {
    bytes: Vec<u8>,
    max: usize,
}

impl std::io::Write for Prefix {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.max - self.bytes.len();
        if room == 0 {
            return Err(std::io::Error::other("enough"));
        }
        let n = buf.len().min(room);
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// At least as many bytes as the value takes as JSON (a string's bytes may each become a
/// six-byte escape).
fn upper_bound(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 40,
        Value::String(s) => upper_bound_str(s),
        Value::Array(items) => 2 + items.iter().map(|v| upper_bound(v) + 1).sum::<usize>(),
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| upper_bound_str(k) + upper_bound(v) + 2)
                .sum::<usize>()
        }
    }
}

fn upper_bound_str(s: &str) -> usize {
    6 * s.len() + 2
}

/// The exact size of a value as JSON.
fn json_len(value: &Value) -> usize {
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

fn json_len_str(s: &str) -> usize {
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, s);
    counter.0
}

struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_nested_too_deep_is_kept_as_its_json_text() {
        let mut deep = serde_json::json!(1);
        for _ in 0..120 {
            deep = serde_json::json!([deep]);
        }
        let mut data = serde_json::Map::new();
        data.insert(
            "arguments".into(),
            serde_json::json!({ "deep": deep.clone() }),
        );
        data.insert("shallow".into(), serde_json::json!([[1]]));
        assert!(super::flatten_deep(&mut data));
        // The data's braces, `arguments`, `deep` and 97 arrays nest 100 levels; below, text.
        let mut at = &data["arguments"]["deep"];
        for _ in 0..96 {
            at = &at[0];
        }
        let text = at[0].as_str().expect("the 100th level is text");
        assert_eq!(serde_json::from_str::<serde_json::Value>(text).unwrap(), {
            let mut rest = serde_json::json!(1);
            for _ in 0..23 {
                rest = serde_json::json!([rest]);
            }
            rest
        });
        assert_eq!(data["shallow"], serde_json::json!([[1]]));
        let line = serde_json::to_string(&serde_json::json!({ "data": data })).unwrap();
        serde_json::from_str::<serde_json::Value>(&line).expect("the line reads back");
    }

    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn size(data: &Map<String, Value>) -> usize {
        serde_json::to_string(data).unwrap().len()
    }

    #[test]
    fn small_events_are_kept_as_they_are() {
        let mut d = data(json!({"stdout": "ok", "n": 1, "nested": {"a": [1, 2, 3]}}));
        let before = d.clone();
        assert!(!cap(&mut d));
        assert_eq!(d, before);
    }

    #[test]
    fn a_large_field_is_cut_with_its_size() {
        let mut d = data(
            json!({"tool_name": "Bash", "tool_response": {"stdout": "é".repeat(FIELD_LIMIT)}}),
        );
        assert!(cap(&mut d));
        let text = d["tool_response"].as_str().unwrap();
        assert!(serde_json::to_string(text).unwrap().len() <= FIELD_LIMIT);
        assert!(text.starts_with("{\"stdout\":\"éé"));
        assert_eq!(d["tool_response_original_bytes"], FIELD_LIMIT * 2 + 13);
        assert!(text.ends_with(&format!(
            "[cut by agent-strace: {} bytes in all]",
            FIELD_LIMIT * 2 + 13
        )));
        assert_eq!(d["tool_name"], "Bash");
        assert!(!d.contains_key("event_original_bytes"));
        // Escapes count: control characters take six bytes each as JSON.
        let mut d = data(json!({"x": "\u{1}".repeat(FIELD_LIMIT)}));
        cap(&mut d);
        assert!(serde_json::to_string(&d["x"]).unwrap().len() <= FIELD_LIMIT);
    }

    #[test]
    fn many_fields_under_the_field_limit_are_cut_to_the_event_limit() {
        let field = "n".repeat(200 * 1024);
        let map: Map<String, Value> = (0..40)
            .map(|i| (format!("f{i}"), Value::String(field.clone())))
            .collect();
        let real = size(&map);
        let mut d = map;
        assert!(cap(&mut d));
        assert!(size(&d) <= EVENT_LIMIT - 8 * 1024, "{}", size(&d));
        assert_eq!(d["event_original_bytes"], real);
        // Every field is still there; the cut ones say their size.
        for i in 0..40 {
            assert!(d.contains_key(&format!("f{i}")));
        }
        let cut = d.keys().filter(|k| k.ends_with("_original_bytes")).count();
        assert!(cut >= 35, "{cut}");
        assert!(!d.contains_key("dropped_fields"));
    }

    #[test]
    fn thousands_of_small_fields_are_left_out_and_counted() {
        let mut d: Map<String, Value> = (0..200_000)
            .map(|i| (format!("field-{i}"), Value::String("v".repeat(20))))
            .collect();
        assert!(cap(&mut d));
        assert!(size(&d) <= EVENT_LIMIT - 8 * 1024);
        let dropped = d["dropped_fields"].as_u64().unwrap();
        assert!(dropped > 100_000, "{dropped}");
        assert_eq!(d.len() as u64 + dropped, 200_000 + 2);
    }

    #[test]
    fn a_huge_structure_is_cut_without_writing_it_whole() {
        let items: Vec<Value> = (0..500_000).map(|i| json!({"i": i})).collect();
        let mut d = data(json!({"items": items}));
        cap(&mut d);
        let text = d["items"].as_str().unwrap();
        assert!(text.starts_with("[{\"i\":0},{\"i\":1}"));
        assert!(d["items_original_bytes"].as_u64().unwrap() > 4_000_000);
    }
}
