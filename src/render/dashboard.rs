//! The dashboard on a terminal: totals with a sparkline per figure, the top tools, and for
//! `--trend` the pass rates per judge, the rates, costs and durations per day, the dated notes
//! and the newest sessions.
//!
//! A sparkline has one column a bucket: `▁`…`█` scaled to the figure's largest bucket (rates
//! of passing to 100%), `·` for a bucket whose figure is 0 and a space for one with nothing to
//! measure (no session judged). The block characters are printed as they are, as the rest of
//! the tool prints `…` and `≤`: every terminal that shows those shows these.

use std::io::{self, Write};

use super::terminal::{self, Painter};
use crate::analysis::dashboard::{Bucket, Dashboard, SessionFigures, Totals, Trend};

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One column per value: `▁`…`█` scaled to `max` (the largest value when `None`), `·` for 0, a
/// space for `None`.
pub fn sparkline(values: &[Option<f64>], max: Option<f64>) -> String {
    let top = max.unwrap_or_else(|| values.iter().flatten().copied().fold(0.0, f64::max));
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(v) if *v <= 0.0 || top <= 0.0 || !v.is_finite() => '·',
            Some(v) => {
                let level = ((v / top) * 8.0).ceil() as usize;
                BLOCKS[level.clamp(1, 8) - 1]
            }
        })
        .collect()
}

/// How many days a column is, as a phrase.
fn columns(days: u32) -> String {
    if days == 1 {
        "one column a day".to_owned()
    } else {
        format!("one column every {days} days")
    }
}

fn heading(out: &mut impl Write, title: &str, d: &Dashboard, p: Painter) -> io::Result<()> {
    let (Some(from), Some(to)) = (&d.from, &d.to) else {
        return writeln!(out, "{}", p.bold(&format!("{title}: no sessions")));
    };
    writeln!(
        out,
        "{}  {from} to {to}  ({})",
        p.bold(title),
        columns(d.bucket_days)
    )
}

fn series(buckets: &[Bucket], f: impl Fn(&Bucket) -> f64) -> Vec<Option<f64>> {
    buckets.iter().map(|b| Some(f(b))).collect()
}

/// The dashboard: totals with sparklines, then the top tools.
pub fn write_dashboard(out: &mut impl Write, d: &Dashboard, p: Painter) -> io::Result<()> {
    heading(out, "Dashboard", d, p)?;
    if d.buckets.is_empty() {
        return Ok(());
    }
    let t = &d.totals;
    let b = &d.buckets;
    let cost = format!(
        "{}{}",
        if t.cost_estimated { "~" } else { "" },
        terminal::dollars(t.cost_usd)
    );
    let subagents = if t.subagent_sessions > 0 {
        p.dim(&format!(
            "  with {}",
            terminal::count(t.subagent_sessions, "subagent session")
        ))
    } else {
        String::new()
    };
    // The API errors that ended turns are no tool's: said apart, as `stats` says them.
    let of_the_turn = if t.turn_errors > 0 {
        p.dim(&format!(
            "  ({} of the turn)",
            terminal::thousands(t.turn_errors)
        ))
    } else {
        String::new()
    };
    let rows: [(&str, String, Vec<Option<f64>>); 5] = [
        (
            "Sessions",
            terminal::thousands(t.sessions),
            series(b, |b| b.sessions as f64),
        ),
        (
            "Tool calls",
            terminal::thousands(t.tool_calls),
            series(b, |b| b.tool_calls as f64),
        ),
        (
            "Errors",
            terminal::thousands(t.errors),
            series(b, |b| b.errors as f64),
        ),
        (
            "Tokens",
            terminal::thousands(t.tokens),
            series(b, |b| b.tokens as f64),
        ),
        ("Cost", cost, series(b, |b| b.cost_usd)),
    ];
    writeln!(out)?;
    for (name, total, values) in &rows {
        let total = format!("{total:>12}");
        let total = if *name == "Errors" {
            p.errors(&total, t.tool_errors, t.turn_errors)
        } else {
            total
        };
        let extra = match *name {
            "Sessions" => subagents.as_str(),
            "Errors" => of_the_turn.as_str(),
            _ => "",
        };
        // A total that leaves out a count no session can have is marked, as a cost that cannot
        // be taken at its word (a model without a price, responses of unknown usage).
        let marked = match *name {
            "Cost" => t.cost_marked(),
            "Tool calls" => t.unbelieved_counts.contains(&"tool_calls"),
            "Errors" => t.unbelieved_counts.contains(&"errors"),
            "Tokens" => t.unbelieved_counts.contains(&"tokens"),
            _ => false,
        };
        writeln!(
            out,
            "{:<12}{total}{} {}{extra}",
            name,
            unpriced_mark(marked),
            p.cyan(&sparkline(values, None))
        )?;
    }
    if let Some(note) = unbelieved_note(t) {
        writeln!(out, "{}", p.dim(&note))?;
    }
    cost_notes(out, t, p)?;
    if let Some(note) = terminal::unbelieved_usage_note(t.cost_unbelieved_usage) {
        writeln!(out, "{}", p.dim(&note))?;
    }
    if d.top_tools.is_empty() {
        return writeln!(out, "\nNo tool calls.");
    }
    let width = terminal::column_width(d.top_tools.iter().map(|t| t.tool.as_str()), 4, 40);
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        p.bold(&format!(
            "{:<width$}  {:>9}  {:>6}",
            "TOOL", "CALLS", "SHARE"
        ))
    )?;
    for tool in &d.top_tools {
        writeln!(
            out,
            "{}  {:>9}  {:>5.1}%",
            terminal::cell(&tool.tool, width),
            terminal::thousands(tool.calls),
            tool.share * 100.0
        )?;
    }
    if d.other_tools > 0 {
        writeln!(
            out,
            "{}",
            p.dim(&format!(
                "and {}",
                terminal::count_as(d.other_tools, "other tool", "other tools")
            ))
        )?;
    }
    Ok(())
}

/// The note under totals marked for leaving out a count no session can have, if any.
pub fn unbelieved_note(t: &Totals) -> Option<String> {
    (t.unbelieved_sessions > 0).then(|| {
        let names: Vec<&str> = t
            .unbelieved_counts
            .iter()
            .map(|name| match *name {
                "tool_calls" => "tool calls",
                other => other,
            })
            .collect();
        format!(
            "{} {} a count no session can have ({}): left out of the totals marked ? and of their days.",
            terminal::count(t.unbelieved_sessions, "session"),
            if t.unbelieved_sessions == 1 { "holds" } else { "hold" },
            names.join(", ")
        )
    })
}

/// The notes under a total cost marked [`terminal::UNPRICED_MARK`]: the models it counts at $0
/// for want of a price, and the responses of unknown usage it leaves out, as `list` says them.
fn cost_notes(out: &mut impl Write, t: &Totals, p: Painter) -> io::Result<()> {
    let notes = [
        terminal::unpriced_note(&t.cost_unpriced_models),
        terminal::unbelieved_cost_note(t.cost_unbelieved_usage),
    ];
    for note in notes.into_iter().flatten() {
        writeln!(out, "{}", p.dim(&note))?;
    }
    Ok(())
}

/// The mark in the gap after a cost that cannot be taken at its word (a model without a price
/// counted at $0, responses of unknown usage left out), or a space: the figures stay aligned
/// either way.
fn unpriced_mark(unpriced: bool) -> char {
    if unpriced {
        terminal::UNPRICED_MARK
    } else {
        ' '
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

/// The trend: pass rates per judge, rates, cost and duration per bucket, the notes under them,
/// and the newest sessions.
pub fn write_trend(
    out: &mut impl Write,
    d: &Dashboard,
    trend: &Trend,
    p: Painter,
) -> io::Result<()> {
    heading(out, "Trend", d, p)?;
    if d.buckets.is_empty() {
        return Ok(());
    }
    let b = &d.buckets;
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for judge in &trend.judges {
        let whole = (judge.judged > 0).then(|| judge.passed as f64 / judge.judged as f64);
        rows.push((
            format!("Pass: {}", judge.judge),
            percent(whole),
            sparkline(&judge.pass_rate, Some(1.0)),
        ));
    }
    let t = &d.totals;
    let whole_rate = |part: u64| (t.tool_calls > 0).then(|| part as f64 / t.tool_calls as f64);
    rows.push((
        "Error rate".to_owned(),
        // Of the calls' own errors: an API error that ended a turn is no call's.
        percent(whole_rate(t.tool_errors)),
        sparkline(&series(b, |b| b.error_rate), None),
    ));
    rows.push((
        "Retry rate".to_owned(),
        percent(whole_rate(t.retries)),
        sparkline(&series(b, |b| b.retry_rate), None),
    ));
    rows.push((
        "Cost".to_owned(),
        terminal::dollars(t.cost_usd),
        sparkline(&series(b, |b| b.cost_usd), None),
    ));
    let unpriced_row = t.cost_marked().then_some("Cost");
    let all_durations: Vec<f64> = b.iter().filter_map(|b| b.median_duration_s).collect();
    rows.push((
        "Duration".to_owned(),
        d.recent
            .first()
            .map_or_else(|| "-".to_owned(), |_| median_label(&all_durations)),
        sparkline(
            &b.iter().map(|b| b.median_duration_s).collect::<Vec<_>>(),
            None,
        ),
    ));
    let width = terminal::column_width(rows.iter().map(|r| r.0.as_str()), 10, 32);
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        p.bold(&format!("{:<width$}  {:>8}  PER BUCKET", "", "PERIOD"))
    )?;
    for (name, whole, line) in &rows {
        writeln!(
            out,
            "{}  {whole:>8}{} {}",
            terminal::cell(name, width),
            unpriced_mark(unpriced_row == Some(name.as_str())),
            p.cyan(line)
        )?;
    }
    let mut marks: Vec<char> = vec![' '; b.len()];
    for m in &trend.markers {
        if let Some(c) = marks.get_mut(m.bucket) {
            *c = '^';
        }
    }
    if marks.contains(&'^') {
        let line: String = marks.into_iter().collect();
        writeln!(
            out,
            "{:<width$}  {:>8}  {}",
            "Notes",
            "",
            p.yellow(line.trim_end())
        )?;
    }
    writeln!(
        out,
        "{}",
        p.dim("Duration: the median session of each bucket.")
    )?;
    cost_notes(out, t, p)?;
    if !trend.markers.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", p.bold("NOTES"))?;
        for m in &trend.markers {
            writeln!(out, "{}  {}", m.date, terminal::one_line(&m.note, 100))?;
        }
    }
    write_recent(out, &d.recent, d.totals.sessions, p)
}

fn median_label(values: &[f64]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2)
        .map_or_else(|| "-".to_owned(), |m| terminal::duration_secs(*m))
}

/// How many columns of a project's folder the PROJECT column shows.
const PROJECT_CHARS: usize = 24;

/// The newest sessions, one line each, of `total` in the period; with a PROJECT column when
/// they come from several projects' stores.
pub fn write_recent(
    out: &mut impl Write,
    recent: &[SessionFigures],
    total: u64,
    p: Painter,
) -> io::Result<()> {
    if recent.is_empty() {
        return Ok(());
    }
    let project_width = recent.iter().any(|s| s.project.is_some()).then(|| {
        terminal::path_column_width(
            recent
                .iter()
                .filter_map(|s| s.project.as_ref())
                .map(|project| project.label.as_str()),
            "PROJECT".len(),
            PROJECT_CHARS,
        )
    });
    let project_cell = |label: &str| match project_width {
        Some(width) => format!(
            "{}  ",
            terminal::pad(&terminal::path_tail(label, PROJECT_CHARS), width)
        ),
        None => String::new(),
    };
    // Of the errors, the turns' (an API error that ended one) in a column of their own when a
    // session has some, as `list` shows them.
    let turn_column = recent.iter().any(|s| s.turn_errors > 0);
    let turn_head = if turn_column { "  TURN ERRORS" } else { "" };
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        p.bold(&format!(
            "{:<10}  {}{:<16}  {:>6}  {:>6}{turn_head}  {:>9}  {:>8}  FIRST PROMPT",
            "SESSION",
            project_cell("PROJECT"),
            "STARTED",
            "CALLS",
            "ERRORS",
            "COST",
            "DURATION"
        ))
    )?;
    for s in recent {
        let errors = format!("{:>6}", terminal::believed(s.errors, |n| n.to_string()));
        let turn_errors = if turn_column {
            format!("  {:>11}", s.turn_errors)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{}  {}{:<16}  {:>6}  {}{turn_errors}  {:>9}{} {:>8}  {}",
            terminal::cell(&s.session_id, 10),
            project_cell(s.project.as_ref().map_or("", |project| &project.label)),
            terminal::believed(s.started_at, terminal::local_time),
            terminal::believed(s.tool_calls, |n| n.to_string()),
            p.errors(&errors, s.tool_errors.value, s.turn_errors),
            terminal::dollars(s.cost_usd),
            unpriced_mark(s.cost_marked()),
            terminal::believed(s.duration_s, terminal::duration_secs),
            terminal::one_line(s.first_prompt.as_deref().unwrap_or("-"), 50)
        )?;
    }
    if let Some(note) = recent_cut_note(recent.len(), total) {
        writeln!(out, "{}", p.dim(&note))?;
    }
    writeln!(
        out,
        "{}",
        p.dim("Replay one with `agent-strace replay ID`; `--html FILE` links each to its page.")
    )
}

/// The line saying the table shows only the newest of the period's sessions, when it does.
pub fn recent_cut_note(shown: usize, total: u64) -> Option<String> {
    (total > shown as u64).then(|| {
        format!("The newest {shown} of {total} sessions; `agent-strace list` lists them all.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_largest_value() {
        let v = [Some(0.0), Some(1.0), Some(4.0), Some(8.0), None];
        assert_eq!(sparkline(&v, None), "·▁▄█ ");
        assert_eq!(sparkline(&[Some(0.5), Some(1.0)], Some(1.0)), "▄█");
        assert_eq!(sparkline(&[Some(0.0)], None), "·");
    }
}
