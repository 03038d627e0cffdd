//! What a reading of `meta.json` leaves out of the keys [`SessionMeta`] does not model: counted
//! for a view, which can say so, and held as its text for a writer, which writes it back so.
//!
//! [`SessionMeta`]: super::SessionMeta

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The values of keys [`SessionMeta`](super::SessionMeta) does not model that a reading of
/// `meta.json` left out of `extra` for their size ([`super::meta::EXTRA_TO_READ`]): how many
/// (a member of `attribution` counts as one) and their bytes of JSON, so that a view that gives
/// the meta can say it is not all of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftOut {
    pub keys: usize,
    pub bytes: usize,
}

impl LeftOut {
    /// Nothing was left out.
    pub fn is_none(&self) -> bool {
        self.keys == 0
    }
}

/// A value left out of `extra` by a writer's reading, held as the JSON it was written as: a
/// writer writes it back byte for byte, without reading it into values (three million short
/// strings were 680 MB so) nor spreading it over lines (the same strings took 33 MB, past the
/// 16 MiB a store reads of a `meta.json`, when written back one a line).
#[derive(Debug, Clone)]
pub struct Held {
    key: String,
    /// A member of `attribution`, not a key of its own.
    in_attribution: bool,
    raw: Box<RawValue>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Held) -> bool {
        (&self.key, self.in_attribution, self.raw.get())
            == (&other.key, other.in_attribution, other.raw.get())
    }
}

/// What a reading leaves out: counted, and, for a writer, held.
pub(super) struct Cut {
    /// The bytes of values still to be read.
    pub(super) left: usize,
    pub(super) left_out: LeftOut,
    /// `None` for a view, which holds nothing.
    pub(super) held: Option<Vec<Held>>,
}

impl Cut {
    pub(super) fn new(budget: usize, hold: bool) -> Cut {
        Cut {
            left: budget,
            left_out: LeftOut::default(),
            held: hold.then(Vec::new),
        }
    }

    /// Whether `raw` fits in what is left to read, which it then takes from.
    pub(super) fn takes(&mut self, raw: &RawValue) -> bool {
        let fits = raw.get().len() <= self.left;
        if fits {
            self.left -= raw.get().len();
        }
        fits
    }

    /// Leaves out the value `raw` of `key` (a member of `attribution` when `in_attribution`).
    pub(super) fn leave_out(&mut self, key: &str, in_attribution: bool, raw: &RawValue) {
        self.left_out.keys += 1;
        self.left_out.bytes += raw.get().len();
        if let Some(held) = &mut self.held {
            held.push(Held {
                key: key.to_owned(),
                in_attribution,
                raw: raw.to_owned(),
            });
        }
    }
}

/// An object written as its `map`, then the `held` values of the keys it lacks; at the top
/// (not `in_attribution`), its `attribution` with the members held of it.
pub(super) struct WithHeld<'a> {
    pub(super) map: &'a Map<String, Value>,
    pub(super) held: &'a [Held],
    pub(super) in_attribution: bool,
}

impl Serialize for WithHeld<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let attribution = |map| WithHeld {
            map,
            held: self.held,
            in_attribution: true,
        };
        let mut object = serializer.serialize_map(None)?;
        for (key, value) in self.map {
            match value {
                Value::Object(inner) if !self.in_attribution && key == super::meta::ATTRIBUTION => {
                    object.serialize_entry(key, &attribution(inner))?;
                }
                _ => object.serialize_entry(key, value)?,
            }
        }
        let lacked = |held: &&Held| {
            held.in_attribution == self.in_attribution && !self.map.contains_key(&held.key)
        };
        for held in self.held.iter().filter(lacked) {
            object.serialize_entry(&held.key, &held.raw)?;
        }
        let attribution_held = self.held.iter().any(|held| held.in_attribution);
        if !self.in_attribution
            && attribution_held
            && !self.map.contains_key(super::meta::ATTRIBUTION)
        {
            object.serialize_entry(super::meta::ATTRIBUTION, &attribution(&Map::new()))?;
        }
        object.end()
    }
}
