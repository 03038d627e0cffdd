//! `replay`: the story of a session, event by event, as it happened.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::SessionArg;
use super::globals::Format;
use super::output::{stdout, usage, warn_bad_lines};
use crate::analysis::cost::{CostOptions, compute};
use crate::analysis::page::PageKind;
use crate::analysis::replay_line::{
    ErrorsApart, HEADER_FIELDS, Numbered, ReplayLine, Story, StoryOptions, header, origin_of,
};
use crate::analysis::replay_show::show;
use crate::analysis::replay_stream::{StoryLines, Survey};
use crate::analysis::tree::{Forest, TreeNode};
use crate::exit;
use crate::model::pricing::PriceTable;
use crate::model::{Agent, Event, EventType, SessionMeta};
use crate::render::replay::{write_detail, write_header, write_line};
use crate::render::terminal::{self, Painter};
use crate::store::Store;

/// Replay a session: prompts, tool calls, results, errors and answers, with their timing
///
/// Events are shown in time order, each at its offset from the session's start. A streamed
/// model response is one line with its tokens, at the time it began (the response's number,
/// its request's offset), and a file read or write one line with its duration; --llm shows
/// every request and response, --thinking the model's reasoning, --show N one event whole.
#[expect(
    clippy::struct_excessive_bools,
    reason = "flags of a command line, each independent of the others"
)]
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace replay                       # the latest session\n  agent-strace replay 3f2a --filter tool_call,error\n  agent-strace replay --show 42             # event #42 whole, e.g. a command with all its output\n  agent-strace replay --follow              # a running session, as it happens, until it ends\n  agent-strace replay --live --speed 4      # play it back with its real pauses, 4x faster\n  agent-strace replay --tree                # the session and its subagents\n  agent-strace replay --expand-subagents    # subagent events under the call that spawned them\n  agent-strace replay --format html -o replay.html   # the session as a page for a browser"
)]
pub(crate) struct ReplayArgs {
    #[command(flatten)]
    session: SessionArg,
    /// Show only these event types (comma-separated, e.g. tool_call,error); a file call's
    /// result and file event are shown in its line only when tool_call is one of them
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    filter: Vec<String>,
    /// Show at most N events
    #[arg(long, value_name = "N", value_parser = super::args::at_least_one)]
    limit: Option<usize>,
    /// Show event N whole: a command with all its output, an edit as a diff, a write's
    /// content, anything else as JSON
    #[arg(long, value_name = "N", conflicts_with_all = ["tree", "follow", "live", "expand_subagents"],
          value_parser = super::args::whole::<usize>)]
    show: Option<usize>,
    /// Show the model's reasoning (thinking) where it was recorded
    #[arg(long)]
    thinking: bool,
    /// Show every LLM request and response on its own line, rather than one line per response
    #[arg(long)]
    llm: bool,
    /// Follow a running session: show its events as they are written, until it ends
    #[arg(long, conflicts_with_all = ["tree", "live", "expand_subagents"])]
    follow: bool,
    /// Play back in real time, pausing as long as the session did between events
    #[arg(long)]
    live: bool,
    /// With --live, how many times faster than real time
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "live")]
    speed: f64,
    /// Show the session hierarchy (the session and its subagents) instead of events
    #[arg(long, conflicts_with_all = ["expand_subagents", "live"])]
    tree: bool,
    /// Show each subagent's events under the tool call that spawned it, indented
    #[arg(long)]
    expand_subagents: bool,
    /// text on the terminal, or html: one self-contained page (timeline, filters, search,
    /// subagents, annotations) that opens in a browser without a network
    #[arg(long, value_enum, default_value_t = ReplayFormat::Text, conflicts_with_all = ["show", "follow", "live", "tree", "filter", "limit"])]
    format: ReplayFormat,
    /// With --format html, write the page to FILE [default: standard output]
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<std::path::PathBuf>,
}

/// What replay writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReplayFormat {
    Text,
    Html,
}

/// How long a follower sleeps at most before it looks again without being woken.
const FOLLOW_WAKE: Duration = Duration::from_secs(1);

/// How long a followed session is quiet before the follower looks whether it is over though
/// no event says so (see `Replayer::over_though_unsaid`).
const FOLLOW_QUIET: Duration = Duration::from_secs(3);

pub(crate) fn run(args: &ReplayArgs, globals: &Globals) -> Result<u8> {
    let filter = parse_filter(&args.filter)?;
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(usage(format!(
            "--speed must be a positive number, not {}",
            args.speed
        )));
    }
    // A pause is the session's gap over the speed: at a speed so slow that one second of the
    // session is a wait no clock counts (`1e-300`), every pause was left out.
    if Duration::try_from_secs_f64(1.0 / args.speed).is_err() {
        return Err(usage(format!(
            "--speed {:e} is too slow: one second of the session would be a pause longer than any clock counts",
            args.speed
        )));
    }
    if args.format == ReplayFormat::Html {
        super::output::output_folder(args.output.as_deref(), &globals.store_root())?;
    }
    let store = Store::new(globals.store_root());
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    if args.format == ReplayFormat::Html {
        let page = super::share::page_of(&store, &id, PageKind::Replay)?;
        super::share::write_page(&page, args.output.as_deref(), globals)?;
        return Ok(exit::OK);
    }
    if args.output.is_some() {
        return Err(usage("--output writes a page: use it with --format html"));
    }
    let paint = Painter::new(globals.colour());
    let mut out = stdout(globals.colour());
    // The session hierarchy is needed only to show it or to expand subagents.
    let mut apart = HashMap::new();
    // The tree's sessions whose `meta.json` cannot be used: the tree shows them as their
    // events tell them, and says so once each (it said nothing).
    let mut meta_warnings = HashMap::new();
    let forest = if args.tree || args.expand_subagents {
        let family = super::listing::family(&store, &[&id])?;
        if args.tree {
            meta_warnings = family
                .sessions
                .iter()
                .filter_map(|s| Some((s.meta.session_id.clone(), s.meta_warning()?)))
                .collect();
        }
        apart = family
            .sessions
            .iter()
            .map(|s| {
                let errors = ErrorsApart {
                    rejections: s.rejections,
                    turn_errors: s.turn_errors,
                };
                (s.meta.session_id.clone(), errors)
            })
            .collect();
        Some(family.forest)
    } else {
        None
    };
    let mut replayer = Replayer {
        store: &store,
        args,
        options: StoryOptions {
            thinking: args.thinking,
            llm: args.llm,
            filter,
        },
        paint,
        shown: 0,
        previous: None,
        forest: forest.as_ref(),
    };
    if args.tree {
        for node in forest.as_ref().map(|f| f.tree(&id)).unwrap_or_default() {
            if let Some(warning) = meta_warnings.get(&node.session_id) {
                super::output::warn(warning);
            }
            write_tree_node(&mut out, &node, &apart, paint)?;
        }
    } else if let Some(number) = args.show {
        let meta = super::output::summary(&store, &id)?.meta;
        let events = read(&store, &id)?;
        let agent = Agent::from_name(&meta.agent_name);
        let origin = origin_of(&meta, &events);
        let Some(detail) = show(&events, number, agent, origin) else {
            return Err(usage(no_event(&id, number, events.len())));
        };
        write_detail(&mut out, &detail, paint)?;
    } else if args.follow {
        replayer.follow(&mut out, &id)?;
    } else {
        let meta = super::output::summary(&store, &id)?.meta;
        let agent = Agent::from_name(&meta.agent_name);
        // Read once for the header and its cost, and again (`Replayer::session`) to show each
        // line as it is read: the whole session in memory was 177 MB at 100,000 events.
        let (survey, phases) = surveyed(&store, &id, agent, |events| {
            super::explain::phases_from(&store, &meta, events)
        })?;
        let options = CostOptions::default();
        let mut cost = compute(&id, &phases, PriceTable::builtin(), &options).ok();
        // The cost `list` and `cost` give: the session's subagents counted in.
        if let Some(report) = cost.as_mut() {
            // Read quietly: what could be said about this session was said by its summary,
            // and the others are not what was asked for.
            // With --expand-subagents the family is read (and what was left out of it said)
            // already.
            if let Some(forest) = forest.as_ref() {
                super::cost::include_subagents(&store, forest, &id, report, &options)?;
            } else if let Ok(listing) = store.sessions() {
                let forest = super::listing::readable_family(&store, listing, &[&id]).forest;
                super::cost::include_subagents(&store, &forest, &id, report, &options)?;
            }
        }
        // Counted from the events read, whoever wrote the session.
        let apart = survey.apart();
        let doubts = meta.unbelievable().only(&HEADER_FIELDS);
        super::output::warn_unbelievable(&id, &doubts, Format::Text);
        write_header(
            &mut out,
            &header(&meta, apart, agent, survey.start(), cost.as_ref()),
            paint,
        )?;
        replayer.session(&mut out, &id, Some(&meta), survey)?;
    }
    out.flush()?;
    Ok(exit::OK)
}

/// A session's events, numbered in file order, with a warning for lines that were skipped.
pub(crate) fn read(store: &Store, id: &str) -> Result<Vec<Numbered>> {
    let mut events = store.events(id)?;
    let numbered = events
        .by_ref()
        .enumerate()
        .map(|(i, event)| Numbered {
            number: i + 1,
            event,
        })
        .collect();
    warn_bad_lines(events.bad_lines(), events.bad_count());
    Ok(numbered)
}

/// Session `id`'s events read once for a [`Survey`], handed on to `fold` as they are read,
/// with a warning for lines that were skipped.
fn surveyed<T>(
    store: &Store,
    id: &str,
    agent: Agent,
    fold: impl FnOnce(&mut dyn Iterator<Item = Event>) -> T,
) -> Result<(Survey, T)> {
    let mut survey = Survey::new(agent);
    let mut events = store.events(id)?;
    let folded = fold(&mut events.by_ref().inspect(|event| survey.observe(event)));
    warn_bad_lines(events.bad_lines(), events.bad_count());
    Ok((survey, folded))
}

/// Why `--show N`, `annotate`, `inspect --event N` or `why` finds no event N: the one wording
/// for all of them.
pub(crate) fn no_event(id: &str, number: usize, count: usize) -> String {
    match count {
        0 => format!("session {id} has no event #{number}: it has no events"),
        1 => format!("session {id} has no event #{number}: its one event is numbered 1"),
        _ => format!("session {id} has no event #{number}: its events are numbered 1 to {count}"),
    }
}

fn parse_filter(names: &[String]) -> Result<Option<HashSet<EventType>>> {
    if names.is_empty() {
        return Ok(None);
    }
    let known = || -> String {
        let known: Vec<&str> = EventType::KNOWN.iter().map(EventType::as_str).collect();
        known.join(", ")
    };
    let mut kinds = HashSet::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let kind = EventType::parse(name);
        if matches!(kind, EventType::Other(_)) {
            return Err(usage(format!(
                "unknown event type `{name}` in --filter (known: {})",
                known()
            )));
        }
        kinds.insert(kind);
    }
    // Refused as `--limit 0` is: a filter of no type showed nothing and said nothing.
    if kinds.is_empty() {
        return Err(usage(format!(
            "--filter names no event type, so it would choose nothing: give 1 or more, comma-separated (known: {})",
            known()
        )));
    }
    Ok(Some(kinds))
}

struct Replayer<'a> {
    store: &'a Store,
    args: &'a ReplayArgs,
    options: StoryOptions,
    paint: Painter,
    shown: usize,
    /// The offset of the last line shown, for --live's pauses.
    previous: Option<f64>,
    forest: Option<&'a Forest>,
}

impl Replayer<'_> {
    fn full(&self) -> bool {
        self.args.limit.is_some_and(|limit| self.shown >= limit)
    }

    /// Replays one session and, with --expand-subagents, each subagent's events under the
    /// call that spawned it, indented by its depth; a subagent spawned by no call shown (its
    /// call is not among the session's lines, or it is below a subagent that could not be
    /// read) after the session's last line. The sessions being replayed are kept on a stack of
    /// their own, so that a chain of thousands of subagents never overflows the thread's
    /// stack.
    fn session(
        &mut self,
        out: &mut impl Write,
        id: &str,
        meta: Option<&SessionMeta>,
        survey: Survey,
    ) -> Result<()> {
        let mut open = vec![self.open(id.to_owned(), meta, survey, 0)?];
        while let Some(top) = open.last_mut() {
            if self.full() {
                break;
            }
            if let Some((child, levels)) = top.spawned.pop() {
                let depth = top.depth + levels;
                // The root's file and the replayed session's stay open, no others: a chain of
                // thousands of subagents kept as many open.
                if top.depth > 0 {
                    top.lines.park();
                }
                let meta = self.forest.and_then(|f| f.meta(&child)).cloned();
                if let Some(meta) = &meta {
                    writeln!(
                        out,
                        "{}{}",
                        indent(depth),
                        self.paint.dim(&subagent_line(meta, depth))
                    )?;
                }
                let agent = meta
                    .as_ref()
                    .map_or(Agent::Unknown, |m| Agent::from_name(&m.agent_name));
                let (survey, ()) = surveyed(self.store, &child, agent, |events| {
                    events.for_each(drop);
                })?;
                let child = self.open(child, meta.as_ref(), survey, depth)?;
                open.push(child);
                continue;
            }
            let Some(line) = top.lines.next() else {
                if top.ended {
                    open.pop();
                } else {
                    top.ended = true;
                    top.spawned = self.spawned_by_none(&top.id, &top.calls);
                }
                continue;
            };
            self.line(out, &line, &top.indent)?;
            if line.event_type == EventType::ToolCall.as_str() {
                top.spawned = self.spawned_by(&top.id, &line.event_id);
                top.calls.insert(line.event_id.clone());
            }
        }
        Ok(())
    }

    /// Session `id` open for replay at `depth`, its events read once for `survey`: its lines
    /// as they are read again, none of its subagents yet.
    fn open(
        &self,
        id: String,
        meta: Option<&SessionMeta>,
        survey: Survey,
        depth: usize,
    ) -> Result<Open> {
        let agent = meta.map_or(Agent::Unknown, |m| Agent::from_name(&m.agent_name));
        let story = Story::new(
            agent,
            meta.and_then(SessionMeta::believed_start),
            self.options.clone(),
        );
        let events = self
            .store
            .events(&id)?
            .enumerate()
            .map(|(i, event)| Numbered {
                number: i + 1,
                event,
            });
        let events: Box<dyn Iterator<Item = Numbered>> = Box::new(events);
        Ok(Open {
            id,
            lines: Lines::Read(Box::new(survey.story(story, events))),
            spawned: Vec::new(),
            calls: HashSet::new(),
            ended: false,
            indent: indent(depth),
            depth,
        })
    }

    /// The subagents of session `id` that its call `call_id` spawned, to replay under it (with
    /// --expand-subagents), each with how many levels below it (1), the first last.
    fn spawned_by(&self, id: &str, call_id: &str) -> Vec<(String, usize)> {
        self.below(id, |levels, spawner| {
            levels == 1 && spawner == Some(call_id)
        })
    }

    /// The subagents below session `id` that no call of `calls` (those it showed) spawned, to
    /// replay after its last line (with --expand-subagents), the first last: one whose call is
    /// not among the lines shown, and one below a subagent that could not be read (its call
    /// was that one's), with how many levels below `id` each is.
    fn spawned_by_none(&self, id: &str, calls: &HashSet<String>) -> Vec<(String, usize)> {
        self.below(id, |levels, spawner| {
            levels > 1 || spawner.is_none_or(|call| !calls.contains(call))
        })
    }

    /// The subagents right below session `id` ([`Forest::below`]) that `keep` keeps, given
    /// how many levels below it each is and the call that spawned it, the first last.
    fn below(&self, id: &str, keep: impl Fn(usize, Option<&str>) -> bool) -> Vec<(String, usize)> {
        let Some(forest) = self.forest.filter(|_| self.args.expand_subagents) else {
            return Vec::new();
        };
        forest
            .below(id)
            .into_iter()
            .rev()
            .filter(|(child, levels)| {
                keep(
                    *levels,
                    forest
                        .meta(child)
                        .and_then(|m| m.parent_event_id.as_deref()),
                )
            })
            .map(|(child, levels)| (child.clone(), levels))
            .collect()
    }

    fn line(&mut self, out: &mut impl Write, line: &ReplayLine, indent: &str) -> Result<()> {
        if self.args.live {
            // An event at an unknown time is shown at once.
            if let (Some(previous), Some(now)) = (self.previous, line.offset_s) {
                pause(now - previous, self.args.speed, out)?;
            }
            self.previous = line.offset_s.or(self.previous);
        }
        self.shown += 1;
        write_line(out, line, indent, self.paint)?;
        Ok(())
    }

    /// Shows a running session's events as they are written, until its latest event is its end.
    fn follow(&mut self, out: &mut impl Write, id: &str) -> Result<()> {
        let summary = super::output::summary(self.store, id)?;
        let apart = ErrorsApart {
            rejections: summary.rejections,
            turn_errors: summary.turn_errors,
        };
        let meta = summary.meta;
        let agent = Agent::from_name(&meta.agent_name);
        let mut follower = self.store.follow(id)?;
        let mut batch = Vec::new();
        let mut number = 0;
        // Over when its latest event is its end, not its last line: events recorded late (a
        // proxy's kept batch) come after the end and kept the follow going for ever.
        let mut ending = crate::model::Ending::default();
        // The latest time an event was stamped with, to weigh an end the meta says.
        let latest = std::cell::Cell::new(f64::NEG_INFINITY);
        let mut read = |follower: &mut crate::store::Follower| -> Result<(Vec<Numbered>, bool)> {
            let events = follower.read_new()?;
            ending.observe_all(&events, crate::store::system_time());
            for event in &events {
                if let Some(at) = crate::model::meta::believed_time(event.timestamp) {
                    latest.set(latest.get().max(at));
                }
            }
            let ended = ending.ended();
            let numbered = events
                .into_iter()
                .map(|event| {
                    number += 1;
                    Numbered { number, event }
                })
                .collect();
            Ok((numbered, ended))
        };
        let (first, mut ended) = read(&mut follower)?;
        batch.extend(first);
        let mut head = meta.clone();
        if !ended {
            head.ended_at = None;
        }
        let doubts = head.unbelievable().only(&HEADER_FIELDS);
        super::output::warn_unbelievable(id, &doubts, Format::Text);
        write_header(out, &header(&head, apart, agent, &batch, None), self.paint)?;
        let mut story = Story::new(agent, meta.believed_start(), self.options.clone());
        let mut quiet_since = std::time::Instant::now();
        loop {
            if !batch.is_empty() {
                quiet_since = std::time::Instant::now();
            }
            for line in story.lines(std::mem::take(&mut batch)) {
                if self.full() {
                    return Ok(());
                }
                self.line(out, &line, "")?;
            }
            out.flush()?;
            if ended {
                break;
            }
            if quiet_since.elapsed() >= FOLLOW_QUIET {
                quiet_since = std::time::Instant::now();
                if self.over_though_unsaid(id, latest.get()) {
                    break;
                }
            }
            follower.wait(FOLLOW_WAKE);
            (batch, ended) = read(&mut follower)?;
        }
        warn_bad_lines(follower.bad_lines(), follower.bad_count());
        Ok(())
    }
}

impl Replayer<'_> {
    /// Whether a followed session whose events do not say it ended is over all the same, said
    /// on stderr: its folder is gone (deleted, `retention clean`), or its meta says it ended no
    /// earlier than its `latest` event (the Python tool's `backfill-meta` writes such an end,
    /// with no `session_end` event). Either way the follow waited for ever.
    fn over_though_unsaid(&self, id: &str, latest: f64) -> bool {
        if !self.store.has_session(id) {
            super::output::warn(format_args!(
                "session {id} is no longer in the store: the follow stops"
            ));
            return true;
        }
        let ended = self
            .store
            .read_meta_to_read(id)
            .ok()
            .and_then(|meta| meta.ended_at)
            .filter(|ended| *ended >= latest);
        if let Some(ended) = ended {
            super::output::warn(format_args!(
                "session {id} ended at {} as its metadata says, though no event says so: the follow stops",
                crate::render::terminal::local_time(ended)
            ));
        }
        ended.is_some()
    }
}

/// A session being replayed.
struct Open {
    id: String,
    /// Its lines not yet shown.
    lines: Lines,
    /// The subagents its last line spawned (or, once its lines are shown, those no line
    /// spawned), not yet replayed, the next one last, each with how many levels below it.
    spawned: Vec<(String, usize)>,
    /// The calls among its lines shown.
    calls: HashSet<String>,
    /// Its lines are all shown.
    ended: bool,
    indent: String,
    depth: usize,
}

/// A session's lines not yet shown: told as its file is read, or, once parked, all told.
enum Lines {
    Read(Box<StoryLines<Box<dyn Iterator<Item = Numbered>>>>),
    Parked(std::vec::IntoIter<ReplayLine>),
}

impl Lines {
    /// Tells the lines left and lets the file go.
    fn park(&mut self) {
        if let Lines::Read(lines) = self {
            *self = Lines::Parked(lines.collect::<Vec<_>>().into_iter());
        }
    }
}

impl Iterator for Lines {
    type Item = ReplayLine;

    fn next(&mut self) -> Option<ReplayLine> {
        match self {
            Lines::Read(lines) => lines.next(),
            Lines::Parked(lines) => lines.next(),
        }
    }
}

/// The indent of a subagent's lines `depth` levels down, which stops growing at
/// [`MAX_TREE_INDENT`] (its `▶ subagent` line says its depth), so that a chain of thousands
/// draws in lines of a bounded width.
fn indent(depth: usize) -> String {
    "│ ".repeat(depth.min(MAX_TREE_INDENT))
}

fn subagent_line(meta: &SessionMeta, depth: usize) -> String {
    format!(
        "▶ subagent {} agent={} depth={depth} {}",
        meta.session_id, meta.agent_name, meta.command
    )
}

fn pause(gap: f64, speed: f64, out: &mut impl Write) -> Result<()> {
    // Show what came before the pause before waiting.
    out.flush()?;
    // A gap too long for a clock at this speed (hours of a session at the slowest speed
    // taken) waits as long as a clock counts, never not at all.
    let wait = Duration::try_from_secs_f64((gap / speed).max(0.0)).unwrap_or(Duration::MAX);
    std::thread::sleep(wait);
    Ok(())
}

/// `3 tool calls`, or `? tool calls` for a count no session can have.
fn counted(n: crate::model::meta::Believed<u64>, what: &str) -> String {
    n.known().map_or_else(
        || format!("{} {what}s", terminal::UNKNOWN),
        |n| terminal::count(n, what),
    )
}

/// How deep the tree's indent goes: a line below it says its depth (`depth=`) at the same
/// indent, so that a chain of thousands of subagents draws in lines of a bounded width.
const MAX_TREE_INDENT: usize = 32;

/// One line of `--tree`: the session indented by its depth.
fn write_tree_node(
    out: &mut impl Write,
    node: &TreeNode,
    apart: &HashMap<String, ErrorsApart>,
    paint: Painter,
) -> std::io::Result<()> {
    let prefix = "  ".repeat(node.depth.min(MAX_TREE_INDENT));
    super::output::warn_unbelievable(&node.session_id, &node.doubts, Format::Text);
    let duration = terminal::believed(node.duration_s, |d| {
        d.map_or_else(|| "running".to_owned(), terminal::duration_secs)
    });
    // The node's errors are meta.json's, refused calls among them: shown apart, as in `list`;
    // the API errors that ended turns are no tool's, said apart as the header says them.
    let errors_apart = apart.get(&node.session_id).copied().unwrap_or_default();
    let rejected = errors_apart.rejections;
    let errors = node.errors.map(|n| n.saturating_sub(rejected));
    let of_the_turn = match errors.known() {
        Some(n) if errors_apart.turn_errors > 0 && errors_apart.turn_errors <= n => {
            format!(" ({} of the turn)", errors_apart.turn_errors)
        }
        _ => String::new(),
    };
    let rejected_text = if rejected > 0 {
        format!(", {rejected} rejected")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{prefix}▶ {} agent={} depth={} {duration}, {}, {}{of_the_turn}{rejected_text}{}",
        paint.cyan(&node.session_id),
        node.agent_name,
        node.depth,
        counted(node.tool_calls, "tool call"),
        counted(errors, "error"),
        if node.command.is_empty() {
            String::new()
        } else {
            format!("  {}", paint.dim(&node.command))
        },
    )?;
    Ok(())
}
