//! Which of Cursor's `Read` calls are one read told twice: one call, whatever its order.
//!
//! With hooks on both, Cursor tells of a read by its Read tool twice: `preToolUse` records the
//! call (it names its `tool_use_id`, and `postToolUse` answers it) and `beforeReadFile` records
//! a `Read` of the same `file_path` that names no call (no `tool_use_id`, no `request_id`) and
//! that no result answers. It may come before the call, between the call and its result, or
//! after the result. So a `Read` that names its call and one that names none, of the same
//! file, are one read and one call: the later of the two repeats the earlier
//! ([`ReadPairs::repeats`]), each paired once. Two that both name a call, or neither, are two.
//! The two events are kept; every figure counts the pair once: tool calls (`meta.json`, `list`,
//! `sql`, `stats` and its per-tool columns, `explain`), reads and files ([`super::touches`]).
//!
//! No other writer records both shapes of `Read` in one session (Claude Code's calls all name
//! their id; the Python tool's import names them by `request_id`), so the rule needs no
//! agent: the counters `meta.json` caches are folded from lines alone.
//!
//! The two come close together: the sides not paired yet are remembered [`KEPT`] at most, the
//! oldest forgotten first, so that a fold (a hook's among them) stays small however long the
//! session is.
//!
//! A session's sides are kept in its `.counters` and, twice, in its fold in the index, so they
//! are written small: a side as `[file, named]`, a slot that holds none as `0`, the empty slots
//! at the end left out. Every agent's `Read` calls but Cursor's `beforeReadFile` name their
//! call, so in most sessions they fill these slots and never leave; as objects, sixteen of them
//! were four tenths of an index fold, and reading them a quarter of what `dashboard` and `drift`
//! did. The objects an earlier version wrote still read.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::event::EventType;
use super::head::EventHead;

/// Reads waiting for their other side, at most.
const KEPT: usize = 16;

/// One side of a read: a `Read` call of a file, by the hash of its path, that names its call
/// or names none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadSide {
    /// The hash of the `file_path` ([`super::hash::fnv1a`]); 0 for a slot that holds none.
    file: u64,
    /// It names its call (`tool_use_id`): Cursor's `preToolUse`, not its `beforeReadFile`.
    named: bool,
}

impl ReadSide {
    /// The side of a read `event` is, if it is a `Read` call of a file that names its call by
    /// `tool_use_id` or names none at all.
    pub fn of(event: &EventHead<'_>) -> Option<ReadSide> {
        if event.kind() != EventType::ToolCall || event.tool_name() != Some("Read") {
            return None;
        }
        let file = event.data.arguments.file_path?.max(1);
        let named = event.data.tool_use_id.text;
        // A call named by another id (the Python tool's import, by `request_id`) is no side.
        if !named && event.data.request_id.hash.is_some() {
            return None;
        }
        Some(ReadSide { file, named })
    }
}

/// The sides of reads seen lately that no other side has paired yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadPairs {
    #[serde(with = "slots")]
    open: [ReadSide; KEPT],
    /// The slot the next side not paired goes in (the oldest).
    next: u8,
}

impl ReadPairs {
    /// Whether nothing waits to be paired.
    pub fn is_empty(&self) -> bool {
        self.open.iter().all(|side| side.file == 0)
    }

    /// Folds the read `side`: whether it repeats a read seen before (a side of the other kind,
    /// of the same file, not paired yet), which it then pairs; else it waits for its other side.
    pub fn repeats(&mut self, side: ReadSide) -> bool {
        let other = |open: &ReadSide| open.file == side.file && open.named != side.named;
        if let Some(open) = self.open.iter_mut().find(|open| other(open)) {
            *open = ReadSide::default();
            return true;
        }
        let slot = usize::from(self.next) % KEPT;
        self.open[slot] = side;
        self.next = u8::try_from((slot + 1) % KEPT).unwrap_or(0);
        false
    }

    /// [`ReadPairs::repeats`] for an event: false for one that is no side of a read.
    pub fn observe(&mut self, event: &EventHead<'_>) -> bool {
        ReadSide::of(event).is_some_and(|side| self.repeats(side))
    }
}

/// A side as `[file, named]`, an empty slot as `0`.
impl Serialize for ReadSide {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.file == 0 {
            serializer.serialize_u64(0)
        } else {
            (self.file, self.named).serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for ReadSide {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ReadSide, D::Error> {
        deserializer.deserialize_any(SideVisitor)
    }
}

struct SideVisitor;

impl<'de> Visitor<'de> for SideVisitor {
    type Value = ReadSide;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a read's side: [file, named], or 0 for none")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ReadSide, E> {
        match v {
            0 => Ok(ReadSide::default()),
            _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ReadSide, A::Error> {
        let file = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let named = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok(ReadSide { file, named })
    }

    /// The object an earlier version wrote: `{"file": …, "named": …}`.
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<ReadSide, A::Error> {
        #[derive(Deserialize)]
        struct Written {
            file: u64,
            named: bool,
        }
        let written = Written::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(ReadSide {
            file: written.file,
            named: written.named,
        })
    }
}

/// The slots as a list without the empty ones at its end; a list of [`KEPT`] or fewer reads
/// back, the slots it does not reach empty.
mod slots {
    use super::{
        Deserializer, KEPT, ReadSide, SeqAccess, SerializeSeq, Serializer, Visitor, de, fmt,
    };

    pub(super) fn serialize<S: Serializer>(
        open: &[ReadSide; KEPT],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let used = open
            .iter()
            .rposition(|side| side.file != 0)
            .map_or(0, |i| i + 1);
        let mut seq = serializer.serialize_seq(Some(used))?;
        for side in &open[..used] {
            seq.serialize_element(side)?;
        }
        seq.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<[ReadSide; KEPT], D::Error> {
        deserializer.deserialize_seq(SlotsVisitor)
    }

    struct SlotsVisitor;

    impl<'de> Visitor<'de> for SlotsVisitor {
        type Value = [ReadSide; KEPT];

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a list of at most {KEPT} read sides")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut open = [ReadSide::default(); KEPT];
            for slot in &mut open {
                match seq.next_element()? {
                    Some(side) => *slot = side,
                    None => return Ok(open),
                }
            }
            if seq.next_element::<de::IgnoredAny>()?.is_some() {
                return Err(de::Error::invalid_length(KEPT + 1, &self));
            }
            Ok(open)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;
    use serde_json::json;

    fn read(file: &str, id: Option<&str>) -> Event {
        let mut data = json!({"tool_name": "Read", "arguments": {"file_path": file}});
        if let Some(id) = id {
            data["tool_use_id"] = id.into();
        }
        Event::new(EventType::ToolCall, 1.0, "e".into(), "s".into()).with_data(data)
    }

    fn repeats(pairs: &mut ReadPairs, event: &Event) -> bool {
        let line = serde_json::to_string(event).unwrap();
        let head: EventHead<'_> = serde_json::from_str(&line).unwrap();
        assert_eq!(ReadSide::of(&head), ReadSide::of(&EventHead::of(event)));
        pairs.observe(&head)
    }

    #[test]
    fn a_named_read_and_an_unnamed_one_of_a_file_are_one_in_either_order() {
        let mut pairs = ReadPairs::default();
        assert!(!repeats(&mut pairs, &read("/a", Some("t1"))));
        assert!(repeats(&mut pairs, &read("/a", None)));
        assert!(!repeats(&mut pairs, &read("/a", None)));
        assert!(repeats(&mut pairs, &read("/a", Some("t2"))));
        // Two named, or of two files, are two.
        assert!(!repeats(&mut pairs, &read("/a", Some("t3"))));
        assert!(!repeats(&mut pairs, &read("/a", Some("t4"))));
        assert!(!repeats(&mut pairs, &read("/b", None)));
        assert!(repeats(&mut pairs, &read("/a", None)));
        assert!(repeats(&mut pairs, &read("/a", None)));
        assert!(!repeats(&mut pairs, &read("/a", None)));
    }

    #[test]
    fn a_read_named_by_request_id_or_of_no_file_is_no_side() {
        let mut imported = read("/a", None);
        imported.data["request_id"] = "toolu_1".into();
        let mut no_file = read("/a", None);
        no_file.data["arguments"] = json!("/a");
        let mut other_tool = read("/a", None);
        other_tool.data["tool_name"] = "Write".into();
        let mut pairs = ReadPairs::default();
        assert!(!repeats(&mut pairs, &read("/a", Some("t1"))));
        for event in [imported, no_file, other_tool] {
            assert!(!repeats(&mut pairs, &event), "{event:?}");
        }
        assert!(repeats(&mut pairs, &read("/a", None)));
    }

    #[test]
    fn the_oldest_read_waiting_is_forgotten_first() {
        let mut pairs = ReadPairs::default();
        for n in 0..=KEPT {
            repeats(&mut pairs, &read(&format!("/{n}"), Some("t")));
        }
        assert!(repeats(&mut pairs, &read("/1", None)));
        assert!(!repeats(&mut pairs, &read("/0", None)), "forgotten");
    }

    #[test]
    fn sides_are_written_small_and_read_back_as_they_were() {
        let mut pairs = ReadPairs::default();
        for n in 0..3 {
            repeats(&mut pairs, &read(&format!("/{n}"), Some("t")));
        }
        // The middle one paired: its slot is empty, and the ones after the last side are left out.
        assert!(repeats(&mut pairs, &read("/1", None)));
        let json = serde_json::to_string(&pairs).unwrap();
        let file = |path: &str| crate::model::hash::fnv1a(path.as_bytes());
        assert_eq!(
            json,
            format!(
                r#"{{"open":[[{},true],0,[{},true]],"next":3}}"#,
                file("/0"),
                file("/2")
            )
        );
        assert_eq!(serde_json::from_str::<ReadPairs>(&json).unwrap(), pairs);
        assert_eq!(
            serde_json::to_string(&ReadPairs::default()).unwrap(),
            r#"{"open":[],"next":0}"#
        );
        // Every slot full, then every slot's form read back.
        let mut full = ReadPairs::default();
        for n in 0..KEPT + 3 {
            repeats(&mut full, &read(&format!("/{n}"), None));
        }
        let json = serde_json::to_string(&full).unwrap();
        assert_eq!(serde_json::from_str::<ReadPairs>(&json).unwrap(), full);
    }

    #[test]
    fn the_objects_an_earlier_version_wrote_still_read() {
        let mut slots = vec![r#"{"file":7,"named":true}"#.to_owned()];
        slots.extend((1..KEPT).map(|_| r#"{"file":0,"named":false}"#.to_owned()));
        let json = format!(r#"{{"open":[{}],"next":1}}"#, slots.join(","));
        let pairs: ReadPairs = serde_json::from_str(&json).unwrap();
        let mut expected = ReadPairs::default();
        expected.repeats(ReadSide {
            file: 7,
            named: true,
        });
        assert_eq!(pairs, expected);
    }

    #[test]
    fn slots_past_the_kept_or_sides_of_another_shape_are_refused() {
        let too_many = format!(r#"{{"open":[{}],"next":0}}"#, vec!["0"; KEPT + 1].join(","));
        for refused in [
            too_many.as_str(),
            r#"{"open":[5],"next":0}"#,
            r#"{"open":[[1]],"next":0}"#,
            r#"{"open":[[1,true,2]],"next":0}"#,
            r#"{"open":["x"],"next":0}"#,
            r#"{"open":{},"next":0}"#,
        ] {
            assert!(
                serde_json::from_str::<ReadPairs>(refused).is_err(),
                "{refused}"
            );
        }
        let most = format!(r#"{{"open":[{}],"next":0}}"#, vec!["0"; KEPT].join(","));
        assert!(serde_json::from_str::<ReadPairs>(&most).is_ok());
    }
}
