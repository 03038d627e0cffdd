//! A replay told while the file is read, so that memory does not grow with the session: a
//! first reading ([`Survey`]) learns whether the events are in time order and which runs of
//! them a line folds together (a call and its result and file events, a request and its
//! response); the second ([`StoryLines`]) hands the [`Story`] one run at a time. A file out
//! of time order is one run, the whole session, as the story sorts it.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::replay_line::{ErrorsApart, Numbered, ReplayLine, Story};
use crate::model::meta::placed_time;
use crate::model::view::View;
use crate::model::{Agent, Event, EventType};

/// What a replay learns of a session reading it once, event by event.
#[derive(Debug)]
pub struct Survey {
    agent: Agent,
    /// Events read so far: the second reading stops there, though the file grew since.
    count: usize,
    /// The time the last event was placed at, and whether every one was placed no earlier
    /// than the one before it (the story's order, [`placed_time`], is then the file's).
    placed: Option<f64>,
    latest: f64,
    in_time_order: bool,
    /// Each id that a call or request has, or that a result, error, file event or response
    /// names as its parent, by a hash of it: where its first such event is, and whether it
    /// has both kinds. Two ids of one hash are taken as one, which only joins runs.
    linked: HashMap<u64, Linked>,
    /// Runs of events that must be told together, as event numbers, in order, apart.
    runs: Vec<(usize, usize)>,
    /// The first event the agent's view takes for the session's start, for the header.
    start: Option<Numbered>,
    apart: ErrorsApart,
}

/// The events of one id: where the first is, and whether a call or request and a child of
/// it are among them.
#[derive(Debug, Clone, Copy)]
struct Linked {
    first: usize,
    parent: bool,
    child: bool,
}

impl Survey {
    pub fn new(agent: Agent) -> Survey {
        Survey {
            agent,
            count: 0,
            placed: None,
            latest: f64::NEG_INFINITY,
            in_time_order: true,
            linked: HashMap::new(),
            runs: Vec::new(),
            start: None,
            apart: ErrorsApart::default(),
        }
    }

    /// Takes in the next event of the file.
    pub fn observe(&mut self, event: &Event) {
        self.count += 1;
        let number = self.count;
        // The story's key ([`Story::lines`]): an event before any time first.
        let at = placed_time(event.timestamp, &mut self.placed).unwrap_or(f64::NEG_INFINITY);
        if at.total_cmp(&self.latest).is_lt() {
            self.in_time_order = false;
        }
        self.latest = at;
        self.apart.observe(event);
        if self.start.is_none() && matches!(View::of(event, self.agent), View::SessionStart(_)) {
            self.start = Some(Numbered {
                number,
                event: event.clone(),
            });
        }
        match event.event_type {
            EventType::ToolCall | EventType::LlmRequest => {
                self.link(&event.event_id, number, true);
            }
            EventType::ToolResult
            | EventType::Error
            | EventType::FileRead
            | EventType::FileWrite
            | EventType::LlmResponse => {
                if let Some(parent) = &event.parent_id {
                    self.link(parent, number, false);
                }
            }
            _ => {}
        }
    }

    /// Notes event `number`, a call or request (`parent`) or a child of one, under `id`: once
    /// an id has both, its events from the first to this one are one run.
    fn link(&mut self, id: &str, number: usize, parent: bool) {
        let mut hasher = DefaultHasher::new();
        id.hash(&mut hasher);
        let linked = self.linked.entry(hasher.finish()).or_insert(Linked {
            first: number,
            parent: false,
            child: false,
        });
        if parent {
            linked.parent = true;
        } else {
            linked.child = true;
        }
        if !(linked.parent && linked.child) {
            return;
        }
        // Runs end at or before `number`: those this one reaches are the last ones.
        let mut first = linked.first;
        while let Some(&(start, end)) = self.runs.last() {
            if end < first {
                break;
            }
            first = first.min(start);
            self.runs.pop();
        }
        self.runs.push((first, number));
    }

    /// How many events were read.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The session's first start event, for [`super::replay_line::header`].
    pub fn start(&self) -> &[Numbered] {
        self.start.as_slice()
    }

    /// Its refused calls and errors of no call.
    pub fn apart(&self) -> ErrorsApart {
        self.apart
    }

    /// The story of the events the survey read, to be read again as `events`: told a run at a
    /// time when they are in time order, else all at once.
    pub fn story<I: Iterator<Item = Numbered>>(self, story: Story, events: I) -> StoryLines<I> {
        let runs = if self.in_time_order {
            self.runs
        } else {
            vec![(1, self.count)]
        };
        StoryLines {
            events,
            count: self.count,
            read: 0,
            runs,
            next_run: 0,
            story,
            ready: Vec::new().into_iter(),
        }
    }
}

/// A story's lines, told as its events are read, a run at a time.
#[derive(Debug)]
pub struct StoryLines<I> {
    events: I,
    /// The events the survey read, and the last of them read again.
    count: usize,
    read: usize,
    runs: Vec<(usize, usize)>,
    /// The first run that does not end before the event being read.
    next_run: usize,
    story: Story,
    ready: std::vec::IntoIter<ReplayLine>,
}

impl<I: Iterator<Item = Numbered>> StoryLines<I> {
    /// Whether the events up to `number` can be told before those after it.
    fn ends_a_batch(&mut self, number: usize) -> bool {
        while self
            .runs
            .get(self.next_run)
            .is_some_and(|&(_, end)| end <= number)
        {
            self.next_run += 1;
        }
        number >= self.count
            || self
                .runs
                .get(self.next_run)
                .is_none_or(|&(start, _)| start > number)
    }
}

impl<I: Iterator<Item = Numbered>> Iterator for StoryLines<I> {
    type Item = ReplayLine;

    fn next(&mut self) -> Option<ReplayLine> {
        loop {
            if let Some(line) = self.ready.next() {
                return Some(line);
            }
            let mut batch = Vec::new();
            while self.read < self.count
                && let Some(item) = self.events.next()
            {
                self.read = item.number;
                batch.push(item);
                if self.ends_a_batch(self.read) {
                    break;
                }
            }
            if batch.is_empty() {
                return None;
            }
            self.ready = self.story.lines(batch).into_iter();
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::analysis::replay_line::StoryOptions;
    use crate::analysis::replay_line::tests::numbered;

    fn told(batch: &[Numbered], options: &StoryOptions) -> (Vec<String>, Vec<String>) {
        let whole = Story::new(Agent::ClaudeCode, None, options.clone()).lines(batch.to_vec());
        let mut survey = Survey::new(Agent::ClaudeCode);
        for item in batch {
            survey.observe(&item.event);
        }
        let story = Story::new(Agent::ClaudeCode, None, options.clone());
        let streamed = survey.story(story, batch.iter().cloned());
        let text = |l: &ReplayLine| format!("{l:?}");
        (
            whole.iter().map(text).collect(),
            streamed.map(|l| text(&l)).collect(),
        )
    }

    fn session() -> Vec<Numbered> {
        let read = json!({"tool_name": "Read", "arguments": {"file_path": "/a"}});
        vec![
            numbered(1, EventType::LlmRequest, 1.0, None, json!({"model": "m"})),
            numbered(2, EventType::ToolCall, 1.1, None, read.clone()),
            numbered(3, EventType::FileRead, 1.2, Some(2), json!({"path": "/a"})),
            numbered(
                4,
                EventType::LlmResponse,
                1.3,
                Some(1),
                json!({"model": "m"}),
            ),
            numbered(5, EventType::ToolResult, 1.4, Some(2), json!({})),
            numbered(6, EventType::UserPrompt, 1.5, None, json!({"prompt": "go"})),
            numbered(7, EventType::ToolCall, 1.6, None, read),
            numbered(8, EventType::ToolResult, 1.7, Some(7), json!({})),
            numbered(9, EventType::UserPrompt, 1.8, None, json!({"prompt": "a"})),
            // A response before its request, at the same time: both lines, as the story
            // tells it.
            numbered(
                10,
                EventType::LlmResponse,
                1.9,
                Some(11),
                json!({"model": "m"}),
            ),
            numbered(11, EventType::LlmRequest, 1.9, None, json!({"model": "m"})),
        ]
    }

    #[test]
    fn runs_are_the_events_a_line_folds_and_those_between() {
        let mut survey = Survey::new(Agent::ClaudeCode);
        for item in session() {
            survey.observe(&item.event);
        }
        assert!(survey.in_time_order);
        assert_eq!(survey.runs, vec![(1, 5), (7, 8), (10, 11)]);
    }

    #[test]
    fn told_a_run_at_a_time_the_story_is_the_same() {
        let filter = Some([EventType::ToolResult].into_iter().collect());
        for options in [
            StoryOptions::default(),
            StoryOptions {
                llm: true,
                ..StoryOptions::default()
            },
            StoryOptions {
                filter,
                ..StoryOptions::default()
            },
        ] {
            let (whole, streamed) = told(&session(), &options);
            assert_eq!(streamed, whole);
        }
    }

    #[test]
    fn out_of_time_order_the_session_is_one_run() {
        let mut events = session();
        events[5].event.timestamp = 1.0;
        let (whole, streamed) = told(&events, &StoryOptions::default());
        assert_eq!(streamed, whole);
        let mut survey = Survey::new(Agent::ClaudeCode);
        for item in &events {
            survey.observe(&item.event);
        }
        assert!(!survey.in_time_order);
    }
}
