//! The dashboard and the trend as one self-contained HTML page: no script at all, no request
//! to anywhere (a Content-Security-Policy that allows inline styles and nothing else), charts
//! drawn as inline SVG here, tooltips as SVG `<title>`s.
//!
//! Everything a session recorded (prompts, tool names, session ids, notes) reaches the page
//! through [`text`], which escapes the five characters that matter in HTML text and attribute
//! values; links to replay pages are relative file names with the id percent-encoded, so no
//! session can give one a scheme (`javascript:`) or leave its attribute.

use std::fmt::Write as _;

use super::terminal;
use crate::analysis::dashboard::{Bucket, Dashboard, Marker, SessionFigures, Totals, Trend};

/// How much of a tool's or an agent's name the page shows: a session can name one with
/// 100 KB.
const NAME_CHARS: usize = 80;

/// `s` safe in HTML text and in a quoted attribute value; a character that reorders or hides
/// text shows as its escape (`\u202e`), as in every other view, and a flag as itself.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // The character before, as the text has it: a joiner or selector hides or not by it.
    let mut prev = None;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = crate::model::text::flag_len(rest) {
            out.push_str(&rest[..len]);
            prev = rest[..len].chars().next_back();
            rest = &rest[len..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        let hidden = crate::model::text::is_hidden_after(prev, c);
        prev = Some(c);
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if hidden => crate::model::text::push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// The name of the replay page of session `id` beside the dashboard's page, as written on
/// disk: `replay-<id>.html`.
pub fn replay_file(id: &str) -> String {
    format!("replay-{id}.html")
}

/// The relative link to [`replay_file`]: every byte of the id but letters, digits, `-`, `_`
/// and `.` percent-encoded, so the link is always a file name beside the page.
pub fn replay_href(id: &str) -> String {
    let mut out = String::from("replay-");
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out.push_str(".html");
    out
}

const STYLE: &str = r"
:root{--bg:#fff;--fg:#1b1f24;--dim:#667;--line:#d8dde3;--card:#f5f7f9;--bar:#3b82c4;--err:#c4453b;--note:#c48a1b}
@media (prefers-color-scheme:dark){:root{--bg:#15181c;--fg:#e4e7ea;--dim:#8b939c;--line:#2c333a;--card:#1d2227;--bar:#5aa2e0;--err:#e0665a;--note:#e0b050}}
body{margin:0;padding:24px 32px;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,sans-serif}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:28px 0 8px}
.sub{color:var(--dim);margin-bottom:18px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:280px}
.card .name{color:var(--dim);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:22px;font-weight:600}
svg.chart{display:block;margin-top:4px}
svg .bar{fill:var(--bar)}svg .bar.err{fill:var(--err)}svg .axis{stroke:var(--line)}
svg .marker{stroke:var(--note);stroke-dasharray:3 3}svg .label{fill:var(--dim);font-size:10px}
svg .line{fill:none;stroke-width:2}svg .dot{stroke:none}
table{border-collapse:collapse;margin-top:6px}
th,td{text-align:left;padding:4px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--dim);font-weight:600;font-size:12px}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.prompt{max-width:520px;overflow-wrap:anywhere}
a{color:var(--bar)}.legend span{margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
ul.notes{padding-left:18px}
";

/// Colours of the judges' lines, in turn.
const PALETTE: [&str; 6] = [
    "#3b82c4", "#2f9e6a", "#c4453b", "#9b59b6", "#c48a1b", "#1b9cc4",
];

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 90.0;
const PAD: f64 = 16.0;

fn page_start(out: &mut String, title: &str, d: &Dashboard) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>agent-strace {}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        text(&title.to_lowercase()),
        text(title)
    );
    let period = match (&d.from, &d.to) {
        (Some(from), Some(to)) => {
            let per = if d.bucket_days == 1 {
                "a bar a day".to_owned()
            } else {
                format!("a bar every {} days", d.bucket_days)
            };
            format!("{from} to {to} · {per}")
        }
        _ => "No sessions in this period.".to_owned(),
    };
    let _ = writeln!(out, "<div class=\"sub\">{}</div>", text(&period));
}

/// The x position of bucket `i`'s left edge, and a bar's width.
fn slot(i: usize, n: usize) -> (f64, f64) {
    let w = (WIDTH - 2.0 * PAD) / n.max(1) as f64;
    (PAD + w * i as f64, w)
}

fn markers_svg(out: &mut String, markers: &[Marker], n: usize) {
    for m in markers {
        let (x, w) = slot(m.bucket, n);
        let x = x + w / 2.0;
        let _ = write!(
            out,
            "<line class=\"marker\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"4\" y2=\"{:.1}\"><title>{}: {}</title></line>",
            HEIGHT - PAD,
            text(&m.date),
            text(&m.note)
        );
    }
}

/// A bar chart of one figure per bucket.
fn bars(
    out: &mut String,
    metric: &str,
    buckets: &[Bucket],
    values: &[f64],
    show: &dyn Fn(f64) -> String,
    markers: &[Marker],
    class: &str,
) {
    let n = values.len();
    let top = values.iter().copied().fold(0.0, f64::max);
    let _ = write!(
        out,
        "<svg class=\"chart\" data-metric=\"{}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{} per bucket\">",
        text(metric),
        text(metric)
    );
    let base = HEIGHT - PAD;
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{PAD}\" x2=\"{:.1}\" y1=\"{base}\" y2=\"{base}\"/>",
        WIDTH - PAD
    );
    for (i, (v, b)) in values.iter().zip(buckets).enumerate() {
        let (x, w) = slot(i, n);
        let h = if top > 0.0 {
            (v / top) * (base - 6.0)
        } else {
            0.0
        };
        let _ = write!(
            out,
            "<rect class=\"bar {class}\" data-value=\"{v}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\"><title>{}: {}{}</title></rect>",
            x + w * 0.1,
            base - h,
            (w * 0.8).max(1.0),
            text(&b.start),
            text(&show(*v)),
            mark(metric == "cost_usd" && !b.cost_unpriced_models.is_empty())
        );
    }
    markers_svg(out, markers, n);
    if let (Some(first), Some(last)) = (buckets.first(), buckets.last()) {
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{PAD}\" y=\"{:.1}\">{}</text><text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            HEIGHT - 3.0,
            text(&first.start),
            WIDTH - PAD,
            HEIGHT - 3.0,
            text(&last.start)
        );
    }
    out.push_str("</svg>");
}

/// Lines of rates from 0 to 1 per bucket, one per series; a gap where a series has no value.
fn lines(
    out: &mut String,
    metric: &str,
    series: &[(String, Vec<Option<f64>>)],
    markers: &[Marker],
) {
    let slots = series.first().map_or(0, |s| s.1.len());
    let base = HEIGHT - PAD;
    let _ = write!(
        out,
        "<svg class=\"chart\" data-metric=\"{}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        text(metric),
        text(metric)
    );
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{PAD}\" x2=\"{:.1}\" y1=\"{base}\" y2=\"{base}\"/><line class=\"axis\" x1=\"{PAD}\" x2=\"{:.1}\" y1=\"6\" y2=\"6\"/>",
        WIDTH - PAD,
        WIDTH - PAD
    );
    for (k, (name, values)) in series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let mut path = String::new();
        let mut pen_down = false;
        for (i, v) in values.iter().enumerate() {
            let Some(rate) = v else {
                pen_down = false;
                continue;
            };
            let (left, width) = slot(i, slots);
            let (x, y) = (
                left + width / 2.0,
                base - rate.clamp(0.0, 1.0) * (base - 6.0),
            );
            let _ = write!(path, "{}{x:.1},{y:.1} ", if pen_down { "L" } else { "M" });
            pen_down = true;
            let _ = write!(
                out,
                "<circle class=\"dot\" data-series=\"{}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2.5\" fill=\"{colour}\"><title>{}: {:.0}%</title></circle>",
                text(name),
                text(name),
                rate * 100.0
            );
        }
        if !path.is_empty() {
            let _ = write!(
                out,
                "<path class=\"line\" data-series=\"{}\" stroke=\"{colour}\" d=\"{}\"/>",
                text(name),
                path.trim_end()
            );
        }
    }
    markers_svg(out, markers, slots);
    let _ = write!(
        out,
        "<text class=\"label\" x=\"{PAD}\" y=\"{:.1}\">0%</text><text class=\"label\" x=\"{PAD}\" y=\"14\">100%</text></svg>",
        HEIGHT - 3.0
    );
    out.push_str("<div class=\"legend\">");
    for (k, (name, _)) in series.iter().enumerate() {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>{}</span>",
            PALETTE[k % PALETTE.len()],
            text(name)
        );
    }
    out.push_str("</div>");
}

fn card(out: &mut String, name: &str, value: &str, chart: impl FnOnce(&mut String)) {
    let _ = write!(
        out,
        "<div class=\"card\"><div class=\"name\">{}</div><div class=\"value\">{}</div>",
        text(name),
        text(value)
    );
    chart(out);
    out.push_str("</div>\n");
}

fn count(v: f64) -> String {
    terminal::thousands(v as u64)
}

fn percent(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// The dashboard's page: totals with a bar chart each, the top tools, the newest sessions.
pub fn dashboard_page(d: &Dashboard) -> String {
    let mut out = String::new();
    page_start(&mut out, "Dashboard", d);
    let t = &d.totals;
    let b = &d.buckets;
    let col = |f: fn(&Bucket) -> f64| b.iter().map(f).collect::<Vec<f64>>();
    out.push_str("<div class=\"cards\">\n");
    card(&mut out, "Sessions", &count(t.sessions as f64), |o| {
        bars(
            o,
            "sessions",
            b,
            &col(|b| b.sessions as f64),
            &count,
            &[],
            "",
        );
    });
    // A total that leaves out a count no session can have is marked, as an unpriced cost.
    let left_out = |name: &str| mark(t.unbelieved_counts.contains(&name));
    let tool_calls = format!("{}{}", count(t.tool_calls as f64), left_out("tool_calls"));
    card(&mut out, "Tool calls", &tool_calls, |o| {
        bars(
            o,
            "tool_calls",
            b,
            &col(|b| b.tool_calls as f64),
            &count,
            &[],
            "",
        );
    });
    // The API errors that ended turns are no tool's: said apart, as `stats` says them.
    let errors = format!("{}{}", count(t.errors as f64), left_out("errors"));
    let errors = if t.turn_errors > 0 {
        format!("{errors} ({} of the turn)", count(t.turn_errors as f64))
    } else {
        errors
    };
    card(&mut out, "Errors", &errors, |o| {
        bars(
            o,
            "errors",
            b,
            &col(|b| b.errors as f64),
            &count,
            &[],
            "err",
        );
    });
    let tokens = format!("{}{}", count(t.tokens as f64), left_out("tokens"));
    card(&mut out, "Tokens", &tokens, |o| {
        bars(o, "tokens", b, &col(|b| b.tokens as f64), &count, &[], "");
    });
    let cost = format!(
        "{}{}",
        if t.cost_estimated { "~" } else { "" },
        terminal::dollars_marked(t.cost_usd, t.cost_marked())
    );
    card(&mut out, "Cost", &cost, |o| {
        bars(
            o,
            "cost_usd",
            b,
            &col(|b| b.cost_usd),
            &terminal::dollars,
            &[],
            "",
        );
    });
    out.push_str("</div>\n");
    unpriced_note(&mut out, &t.cost_unpriced_models);
    unbelieved_usage_note(&mut out, t);
    if let Some(note) = super::dashboard::unbelieved_note(t) {
        let _ = writeln!(
            out,
            "<p class=\"sub\" id=\"unbelieved\">{}</p>",
            text(&note)
        );
    }
    out.push_str("<h2>Top tools</h2>\n<table id=\"top-tools\"><thead><tr><th>Tool</th><th>Calls</th><th>Share</th></tr></thead><tbody>\n");
    for tool in &d.top_tools {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            text(&terminal::one_line(&tool.tool, NAME_CHARS)),
            terminal::thousands(tool.calls),
            percent(tool.share)
        );
    }
    out.push_str("</tbody></table>\n");
    if d.other_tools > 0 {
        let _ = writeln!(
            out,
            "<p class=\"sub\">and {}</p>",
            terminal::count_as(d.other_tools, "other tool", "other tools")
        );
    }
    recent(&mut out, &d.recent, d.totals.sessions);
    out.push_str("</body></html>\n");
    out
}

/// The trend's page: pass rates per judge, error and retry rates, cost and duration per bucket
/// with the dated notes marked, the notes, and the newest sessions.
pub fn trend_page(board: &Dashboard, trend: &Trend) -> String {
    let mut out = String::new();
    page_start(&mut out, "Trend", board);
    let b = &board.buckets;
    let m = &trend.markers;
    out.push_str("<div class=\"cards\">\n");
    let series: Vec<(String, Vec<Option<f64>>)> = trend
        .judges
        .iter()
        .map(|j| (j.judge.clone(), j.pass_rate.clone()))
        .collect();
    let overall = trend.judges.first().filter(|j| j.judged > 0).map_or_else(
        || "-".to_owned(),
        |j| percent(j.passed as f64 / j.judged as f64),
    );
    card(&mut out, "Eval pass rate", &overall, |o| {
        lines(o, "pass_rate", &series, m);
    });
    let totals = &board.totals;
    let whole = |part: u64| {
        if totals.tool_calls > 0 {
            percent(part as f64 / totals.tool_calls as f64)
        } else {
            "-".to_owned()
        }
    };
    // Of the calls' own errors: an API error that ended a turn is no call's.
    card(&mut out, "Error rate", &whole(totals.tool_errors), |o| {
        let v: Vec<f64> = b.iter().map(|b| b.error_rate).collect();
        bars(o, "error_rate", b, &v, &percent, m, "err");
    });
    card(&mut out, "Retry rate", &whole(totals.retries), |o| {
        let v: Vec<f64> = b.iter().map(|b| b.retry_rate).collect();
        bars(o, "retry_rate", b, &v, &percent, m, "");
    });
    let cost = terminal::dollars_marked(totals.cost_usd, totals.cost_marked());
    card(&mut out, "Cost", &cost, |o| {
        let v: Vec<f64> = b.iter().map(|b| b.cost_usd).collect();
        bars(o, "cost_usd", b, &v, &terminal::dollars, m, "");
    });
    let mut medians: Vec<f64> = b.iter().filter_map(|b| b.median_duration_s).collect();
    medians.sort_by(f64::total_cmp);
    let typical = medians
        .get(medians.len() / 2)
        .map_or_else(|| "-".to_owned(), |m| terminal::duration_secs(*m));
    card(&mut out, "Median duration", &typical, |o| {
        let v: Vec<f64> = b
            .iter()
            .map(|b| b.median_duration_s.unwrap_or(0.0))
            .collect();
        bars(o, "duration_s", b, &v, &terminal::duration_secs, m, "");
    });
    out.push_str("</div>\n");
    unpriced_note(&mut out, &totals.cost_unpriced_models);
    unbelieved_usage_note(&mut out, totals);
    if !m.is_empty() {
        out.push_str("<h2>Notes</h2>\n<ul class=\"notes\" id=\"notes\">\n");
        for note in m {
            let _ = writeln!(
                out,
                "<li><b>{}</b> {}</li>",
                text(&note.date),
                text(&note.note)
            );
        }
        out.push_str("</ul>\n");
    }
    recent(&mut out, &board.recent, board.totals.sessions);
    out.push_str("</body></html>\n");
    out
}

/// [`terminal::UNPRICED_MARK`] after a cost that counts a model without a price at $0, or a
/// total that leaves out a count no session can have.
fn mark(unpriced: bool) -> String {
    if unpriced {
        terminal::UNPRICED_MARK.to_string()
    } else {
        String::new()
    }
}

/// The note under a total cost that leaves out responses of unknown usage, as `list` says it.
fn unbelieved_usage_note(out: &mut String, t: &Totals) {
    if let Some(note) = terminal::unbelieved_cost_note(t.cost_unbelieved_usage) {
        let _ = writeln!(
            out,
            "<p class=\"sub\" id=\"unbelieved-usage\">{}</p>",
            text(&note)
        );
    }
}

/// The note naming the models the marked costs count at $0, if any.
fn unpriced_note(out: &mut String, models: &[String]) {
    if let Some(note) = terminal::unpriced_note(models) {
        let _ = writeln!(out, "<p class=\"sub\" id=\"unpriced\">{}</p>", text(&note));
    }
}

fn recent(out: &mut String, sessions: &[SessionFigures], total: u64) {
    // A Project column when the sessions come from several projects' stores.
    let projects = sessions.iter().any(|s| s.project.is_some());
    let _ = writeln!(
        out,
        "<h2>Recent sessions</h2>\n<table id=\"recent\"><thead><tr><th>Session</th>{}<th>Started</th><th>Agent</th><th>Calls</th><th>Errors</th><th>Cost</th><th>Duration</th><th>First prompt</th></tr></thead><tbody>",
        if projects { "<th>Project</th>" } else { "" }
    );
    for s in sessions {
        let short: String = s.session_id.chars().take(12).collect();
        let project = match (&s.project, projects) {
            (Some(project), _) => format!(
                "<td title=\"{}\">{}</td>",
                text(project.path.as_deref().unwrap_or(&project.label)),
                text(&project.label)
            ),
            (None, true) => "<td></td>".to_owned(),
            (None, false) => String::new(),
        };
        let _ = writeln!(
            out,
            "<tr><td><a href=\"{}\" title=\"{}\">{}</a></td>{project}<td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"prompt\">{}</td></tr>",
            text(&replay_href(&s.session_id)),
            text(&s.session_id),
            text(&short),
            text(&terminal::believed(s.started_at, terminal::local_time)),
            text(&terminal::one_line(&s.agent_name, NAME_CHARS)),
            terminal::believed(s.tool_calls, |n| n.to_string()),
            errors_cell(s),
            text(&terminal::dollars_marked(s.cost_usd, s.cost_marked())),
            text(&terminal::believed(s.duration_s, terminal::duration_secs)),
            text(&terminal::one_line(
                s.first_prompt.as_deref().unwrap_or(""),
                200
            ))
        );
    }
    out.push_str("</tbody></table>\n");
    if let Some(note) = super::dashboard::recent_cut_note(sessions.len(), total) {
        let _ = writeln!(
            out,
            "<p class=\"sub\" id=\"recent-cut\">{}</p>",
            text(&note)
        );
    }
}

/// A session's errors, with how many were the turns' (an API error that ended one) when some
/// were, as `stats` says them.
fn errors_cell(s: &SessionFigures) -> String {
    let errors = terminal::believed(s.errors, |n| n.to_string());
    if s.turn_errors > 0 {
        format!("{errors} ({} of the turn)", s.turn_errors)
    } else {
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_text_cannot_leave_its_element_or_attribute() {
        assert_eq!(
            text("</script><img src=x onerror=\"alert(1)\">'"),
            "&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;"
        );
    }

    #[test]
    fn replay_links_are_file_names_beside_the_page() {
        assert_eq!(replay_href("3f2a-b_c.d"), "replay-3f2a-b_c.d.html");
        assert_eq!(
            replay_href("javascript:alert(1)"),
            "replay-javascript%3Aalert%281%29.html"
        );
        assert_eq!(replay_href("a\"b</x>"), "replay-a%22b%3C%2Fx%3E.html");
    }
}
