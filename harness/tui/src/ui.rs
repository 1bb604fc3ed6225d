//! Layout and drawing. Everything here reads [`App`]; the numbers come from
//! `fcbench_core::summary` via [`App::summaries`], never from statistics of its own.

use crate::app::{App, Focus, LastCall, LogKind};
use fcbench_core::arm::ArmId;
use fcbench_core::record::{ArmSummary, CallRecord, CallStatus};
use fcbench_core::scenario::FunctionCall;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Cell, Chart, Clear, Dataset, Gauge, GraphType, Paragraph, Row, Sparkline,
    SparklineBar, Table, Wrap,
};
use ratatui::Frame;
use std::time::Duration;

/// The real-time lines every latency view marks: 16 Hz and 10 Hz.
pub const HZ16_MS: f64 = 62.5;
pub const HZ10_MS: f64 = 100.0;

/// Below this the full layout does not fit and the compact view is drawn.
pub const MIN_FULL: (u16, u16) = (80, 24);
/// From this size on the wide layout adds columns and an over-time chart.
const WIDE: (u16, u16) = (120, 36);

pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    if area.width < MIN_FULL.0 || area.height < MIN_FULL.1 {
        draw_compact(f, area, app);
    } else {
        draw_full(f, area, app);
    }
    if app.help {
        draw_help(f, area);
    }
}

fn draw_full(f: &mut Frame, area: Rect, app: &mut App) {
    let wide = area.width >= WIDE.0 && area.height >= WIDE.1;
    let arms_h = app.arms.len().max(1) as u16 + 3;
    let log_h = if wide { 8 } else { 3 };
    let [header, gauge, table, middle, log, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(arms_h),
        Constraint::Min(6),
        Constraint::Length(log_h),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(f, header, app);
    draw_gauge(f, gauge, app);
    draw_table(f, table, app, wide);
    let [lat, call] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(middle);
    draw_latency(f, lat, app, wide);
    draw_call(f, call, app);
    draw_log(f, log, app);
    draw_footer(f, footer, app);
}

fn block<'a>(title: &'a str, focused: bool) -> Block<'a> {
    let b = Block::bordered().title(title);
    if focused {
        b.border_style(Style::new().fg(Color::Cyan))
            .title_style(Modifier::BOLD)
    } else {
        b.border_style(Style::new().fg(Color::DarkGray))
    }
}

fn hms(d: Duration) -> String {
    let s = d.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Milliseconds as `run`'s table prints them (one decimal), `–` when there is no value.
fn ms(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "–".into()
    }
}

fn status_tag(app: &App) -> Span<'static> {
    match (&app.finished, app.stopping, app.paused) {
        (Some(Ok(_)), _, _) => " DONE ".black().on_green(),
        (Some(Err(_)), _, _) => " FAILED ".white().on_red(),
        (None, true, _) => " STOPPING ".black().on_yellow(),
        (None, false, true) => " PAUSED ".black().on_yellow(),
        (None, false, false) if app.started_at.is_none() => " LOADING ".black().on_cyan(),
        _ => " RUNNING ".black().on_cyan(),
    }
}

fn uniq(parts: impl Iterator<Item = String>) -> String {
    let mut v: Vec<String> = Vec::new();
    for p in parts {
        if !v.contains(&p) {
            v.push(p);
        }
    }
    v.join(",")
}

fn draw_header(f: &mut Frame, area: Rect, app: &App) {
    let h = &app.header;
    let split = |part: fn(&ArmId) -> &str| uniq(app.arms.iter().map(|a| part(a).to_string()));
    let line1 = Line::from(vec![
        "fcbench ".bold(),
        status_tag(app),
        format!(
            " {} · {} · {} · {} threads · ×{} · ",
            h.scenario, h.mode, h.regime, h.threads, h.repeat
        )
        .into(),
        hms(app.elapsed()).bold(),
    ]);
    let base = app
        .baseline()
        .map(|b| b.short(&app.arms))
        .unwrap_or_else(|| "none".into());
    let line2 = Line::from(vec![
        "backend ".dark_gray(),
        split(|a| &a.backend).into(),
        "  model ".dark_gray(),
        split(|a| &a.model).into(),
        "  arms ".dark_gray(),
        // Each arm by what tells it apart: with two backends, `llama/json,candle/json`.
        uniq(app.arms.iter().map(|a| a.short(&app.arms))).into(),
        "  baseline ".dark_gray(),
        base.into(),
    ]);
    f.render_widget(Paragraph::new(vec![line1, line2]), area);
}

fn progress_text(app: &App) -> String {
    let total = app.calls_total();
    let rate = app
        .calls_per_s()
        .map_or("–".into(), |r| format!("{r:.2} calls/s"));
    let eta = match (&app.finished, app.eta()) {
        (Some(_), _) => "done".to_string(),
        (None, Some(e)) => format!("ETA {}", hms(e)),
        (None, None) => "ETA –".into(),
    };
    let now = match (&app.current, &app.finished) {
        (Some(c), None) => format!(" · on {}", c.case_id),
        _ => String::new(),
    };
    format!(
        "cases {}/{}{now} · calls {}/{} · {rate} · {eta}",
        app.cases_done, app.cases_total, app.calls_done, total
    )
}

fn draw_gauge(f: &mut Frame, area: Rect, app: &App) {
    let total = app.calls_total();
    let ratio = if total == 0 {
        0.0
    } else {
        (app.calls_done as f64 / total as f64).clamp(0.0, 1.0)
    };
    f.render_widget(
        Gauge::default()
            .gauge_style(Style::new().fg(Color::Blue).bg(Color::Black))
            .ratio(ratio)
            .label(progress_text(app)),
        area,
    );
}

fn speedup(s: &ArmSummary, baseline: Option<&ArmId>) -> String {
    if baseline == Some(&s.arm) {
        return "base".into();
    }
    s.speedup_vs_baseline
        .as_ref()
        .map_or("–".into(), |r| format!("{:.2}×", r.median))
}

fn accuracy(s: &ArmSummary) -> String {
    s.accuracy
        .as_ref()
        .filter(|a| a.all.scored > 0)
        .map_or("–".into(), |a| {
            format!("{:.0}%", 100.0 * a.all.rate(a.all.strict))
        })
}

/// Bars coloured by the real-time line they meet: green ≤ 62.5 ms, yellow ≤ 100 ms, red above.
fn rt_color(ms: f64) -> Color {
    if ms <= HZ16_MS {
        Color::Green
    } else if ms <= HZ10_MS {
        Color::Yellow
    } else {
        Color::Red
    }
}

fn trend_bars(lat: &[f64], width: usize) -> Vec<SparklineBar> {
    let tail = &lat[lat.len().saturating_sub(width)..];
    tail.iter()
        .map(|&v| SparklineBar::from(v.max(0.0).round() as u64).style(Some(rt_color(v).into())))
        .collect()
}

fn draw_table(f: &mut Frame, area: Rect, app: &mut App, wide: bool) {
    let baseline = app.baseline().cloned();
    let summaries = app.summaries().to_vec();
    let any_unstable = summaries
        .iter()
        .any(|s| s.stability.as_ref().is_some_and(|st| st.unstable));
    let arms = app.arms.clone();
    let mut header = vec![
        "arm", "n", "mean ms", "P50 ms", "P95 ms", "Hz", "speedup", "slot", "acc",
    ];
    if wide {
        header.extend(["fail", "prefill|decode ms", "tok long|all"]);
    }
    let rows: Vec<Row> = summaries
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // An arm without calls yet has an all-zero distribution: show dashes, not zeros.
            let some = |v: f64| if s.e2e.n > 0 { ms(v) } else { "–".into() };
            // The same verdict as the run table's warning (core::noise): figures taken on a
            // busy machine are marked where they are shown.
            let unstable = s.stability.as_ref().is_some_and(|st| st.unstable);
            let mut cells = vec![
                Cell::from(if unstable {
                    format!("{} ⚠", s.arm.short(&arms))
                } else {
                    s.arm.short(&arms)
                }),
                Cell::from(s.e2e.n.to_string()),
                Cell::from(some(s.e2e.mean)),
                Cell::from(some(s.e2e.p50)),
                Cell::from(some(s.e2e.p95)),
                Cell::from(if s.e2e.n > 0 {
                    format!("{:.1}", s.hz)
                } else {
                    "–".into()
                }),
                Cell::from(speedup(s, baseline.as_ref())),
                Cell::from(if s.e2e.n > 0 {
                    format!("{:.0}%", 100.0 * s.mean_slot_utilisation)
                } else {
                    "–".into()
                }),
                Cell::from(accuracy(s)),
            ];
            if wide {
                cells.push(Cell::from(s.calls_failed.to_string()));
                cells.push(Cell::from(if s.e2e.n > 0 {
                    format!("{} | {}", ms(s.prefill.mean), ms(s.decode.mean))
                } else {
                    "–".into()
                }));
                cells.push(Cell::from(if s.e2e.n > 0 {
                    format!(
                        "{:.1} | {:.1}",
                        s.mean_longest_head_tokens, s.mean_decoded_tokens
                    )
                } else {
                    "–".into()
                }));
            }
            let row = Row::new(cells);
            if i == app.selected_arm {
                row.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let arm_w = arms
        .iter()
        .map(|a| a.short(&arms).chars().count())
        .max()
        .unwrap_or(3)
        .max(3) as u16
        + if any_unstable { 2 } else { 0 };
    let mut widths = vec![
        Constraint::Length(arm_w),
        Constraint::Length(3),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Length(4),
    ];
    if wide {
        widths.extend([
            Constraint::Length(4),
            Constraint::Length(17),
            Constraint::Length(12),
        ]);
    }
    let title = match (app.baseline().is_some(), any_unstable) {
        (true, false) => "arms (speedup = baseline P50/arm P50 per case, median)",
        (true, true) => "arms (speedup = baseline P50/arm P50 per case, median; ⚠ = unstable timings: repeats disagree, busy machine?)",
        (false, false) => "arms",
        (false, true) => "arms (⚠ = unstable timings: repeats disagree, busy machine?)",
    };
    let b = block(title, app.focus == Focus::Arms);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let table = Table::new(rows, widths.clone())
        .header(Row::new(header).style(Style::new().bold()))
        .column_spacing(1);
    f.render_widget(table, inner);
    if wide {
        // A sparkline per arm over its calls, in the space right of the table.
        let used: u16 = widths
            .iter()
            .map(|c| match c {
                Constraint::Length(n) => n + 1,
                _ => 0,
            })
            .sum();
        if inner.width > used + 4 {
            let x = inner.x + used;
            let w = inner.width - used;
            let head = Rect::new(x, inner.y, w, 1);
            f.render_widget(
                Paragraph::new("latency trend (green ≤62.5 ms, yellow ≤100 ms)".bold()),
                head,
            );
            for (i, arm) in arms.iter().enumerate() {
                let y = inner.y + 1 + i as u16;
                if y >= inner.y + inner.height {
                    break;
                }
                let lat = app.latencies(arm);
                f.render_widget(
                    Sparkline::default().data(trend_bars(&lat, w as usize)),
                    Rect::new(x, y, w, 1),
                );
            }
        }
    }
}

fn draw_latency(f: &mut Frame, area: Rect, app: &App, wide: bool) {
    let title = format!("latency: {} (←/→)", app.selected_name());
    let b = block(&title, app.focus == Focus::Latency);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let lat = app
        .selected_arm()
        .map_or_else(Vec::new, |a| app.latencies(a));
    if lat.is_empty() {
        f.render_widget(Paragraph::new("no calls yet".dark_gray()), inner);
        return;
    }
    let over_time = wide && inner.height >= 14;
    let [hist, legend, time] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(if over_time { inner.height / 2 } else { 1 }),
    ])
    .areas(inner);
    draw_histogram(f, hist, &lat);
    let mut keys = vec!["┊ 16 Hz 62.5 ms ".yellow(), "┊ 10 Hz 100 ms ".red()];
    if over_time {
        keys.push("· over time ↓".dark_gray());
    }
    f.render_widget(Paragraph::new(Line::from(keys)), legend);
    if over_time {
        draw_over_time(f, time, &lat);
    } else {
        f.render_widget(
            Sparkline::default().data(trend_bars(&lat, time.width as usize)),
            time,
        );
    }
}

fn threshold_lines(x: [f64; 2], y: [f64; 2], vertical: bool) -> [Vec<(f64, f64)>; 2] {
    [HZ16_MS, HZ10_MS].map(|t| {
        if vertical {
            vec![(t, y[0]), (t, y[1])]
        } else {
            vec![(x[0], t), (x[1], t)]
        }
    })
}

fn draw_histogram(f: &mut Frame, area: Rect, lat: &[f64]) {
    let max = lat.iter().cloned().fold(0.0, f64::max);
    let x_max = (max * 1.05).max(HZ10_MS * 1.1);
    // One bin per column of the plot (the y labels take ~4 columns).
    let bins = (area.width.saturating_sub(5) as usize).clamp(4, 200);
    let width = x_max / bins as f64;
    let mut counts = vec![0u32; bins];
    for &v in lat {
        let i = ((v / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let peak = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bars: Vec<(f64, f64)> = counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| ((i as f64 + 0.5) * width, c as f64))
        .collect();
    let [l16, l10] = threshold_lines([0.0, x_max], [0.0, peak], true);
    let data = Dataset::default()
        .marker(Marker::HalfBlock)
        .graph_type(GraphType::Bar)
        .style(Style::new().fg(Color::Cyan))
        .data(&bars);
    let x = (x_max, ["0".to_string(), format!("{x_max:.0} ms")]);
    let y = (peak, ["0".to_string(), format!("{peak:.0}")]);
    f.render_widget(deadline_chart(&l16, &l10, data, x, y), area);
}

/// A chart of `data` behind the 16 Hz (62.5 ms, yellow) and 10 Hz (100 ms, red) deadline
/// lines, each axis from 0 to its bound, labelled at both ends.
fn deadline_chart<'a>(
    l16: &'a [(f64, f64)],
    l10: &'a [(f64, f64)],
    data: Dataset<'a>,
    (x_max, x_labels): (f64, [String; 2]),
    (y_max, y_labels): (f64, [String; 2]),
) -> Chart<'a> {
    let line = |color, data| {
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(color))
            .data(data)
    };
    Chart::new(vec![line(Color::Yellow, l16), line(Color::Red, l10), data])
        .legend_position(None)
        .x_axis(Axis::default().bounds([0.0, x_max]).labels(x_labels))
        .y_axis(Axis::default().bounds([0.0, y_max]).labels(y_labels))
}

fn draw_over_time(f: &mut Frame, area: Rect, lat: &[f64]) {
    let max = lat.iter().cloned().fold(0.0, f64::max);
    let y_max = (max * 1.05).max(HZ10_MS * 1.1);
    let n = lat.len().max(2) as f64;
    let pts: Vec<(f64, f64)> = lat
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as f64, v))
        .collect();
    let [l16, l10] = threshold_lines([0.0, n - 1.0], [0.0, y_max], false);
    let data = Dataset::default()
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(Style::new().fg(Color::Cyan))
        .data(&pts);
    let x = (n - 1.0, ["call 1".to_string(), format!("{}", lat.len())]);
    let y = (y_max, ["0".to_string(), format!("{y_max:.0}")]);
    f.render_widget(deadline_chart(&l16, &l10, data, x, y), area);
}

/// `name(a=1, b="x")`.
pub fn call_text(c: &FunctionCall) -> String {
    let args: Vec<String> = c
        .arguments
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{}({})", c.name, args.join(", "))
}

/// Which timeline columns (steps) each head is live in. The prefill yields every head's first
/// token, then each step decodes one more token per live head: in a parallel protocol head i
/// is live for its first `tokens` columns; in a serial one the heads follow each other.
pub fn head_spans(r: &CallRecord) -> Vec<(usize, usize)> {
    let parallel = r.protocol.parallel();
    let mut offset = 0;
    r.heads
        .iter()
        .map(|h| {
            let span = (offset, offset + h.tokens);
            if !parallel {
                offset += h.tokens;
            }
            span
        })
        .collect()
}

/// Steps (timeline columns) revealed `since` the call arrived, replaying its real step times:
/// column 0 after the prefill, column j after the first j decode steps.
pub fn revealed_steps(r: &CallRecord, since: Duration) -> usize {
    let t = since.as_secs_f64() * 1e3;
    if t < r.prefill_ms {
        return 0;
    }
    let mut acc = r.prefill_ms;
    let mut n = 1;
    for s in &r.step_ms {
        acc += s;
        if acc > t {
            break;
        }
        n += 1;
    }
    n
}

fn draw_call(f: &mut Frame, area: Rect, app: &App) {
    let title = format!("current call: {}", app.selected_name());
    let b = block(&title, app.focus == Focus::Call);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let mut lines: Vec<Line> = Vec::new();
    let Some(LastCall {
        record: r,
        received,
    }) = app.selected_arm().and_then(|a| app.last_call.get(a))
    else {
        lines.push(
            format!("no call of {} yet", app.selected_name())
                .dark_gray()
                .into(),
        );
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    };
    lines.push(Line::from(vec![
        format!("{} #{} ", r.case_id, r.repeat + 1).dark_gray(),
        app.query(&r.case_id).unwrap_or("").to_string().into(),
    ]));
    lines.push(Line::from(vec![
        "prefill ".into(),
        ms(r.prefill_ms).cyan(),
        " + decode ".into(),
        ms(r.decode_ms).magenta(),
        " = ".into(),
        ms(r.e2e_ms).fg(rt_color(r.e2e_ms)).bold(),
        " ms".into(),
    ]));
    if r.status != CallStatus::Ok {
        lines.push(
            format!("{:?}: {}", r.status, r.error.as_deref().unwrap_or(""))
                .red()
                .into(),
        );
    }
    let spans = head_spans(r);
    let cols = spans.iter().map(|s| s.1).max().unwrap_or(0);
    let shown = revealed_steps(r, app.now.saturating_sub(*received));
    let longest = r.heads.iter().map(|h| h.tokens).max().unwrap_or(0);
    let name_w = r
        .heads
        .iter()
        .map(|h| h.name.chars().count())
        .max()
        .unwrap_or(0);
    // Each column of the bar is one step, squeezed when the call is longer than the bar.
    let bar_w = (inner.width as usize / 3).clamp(4, 48);
    let per_cell = cols.div_ceil(bar_w).max(1);
    let cells = cols.div_ceil(per_cell);
    let footer_lines = 2;
    let room = (inner.height as usize).saturating_sub(lines.len() + footer_lines);
    let n_heads = r.heads.len();
    let show = if n_heads > room {
        room.saturating_sub(1)
    } else {
        n_heads
    };
    for (h, &(a, b)) in r.heads.iter().zip(&spans).take(show) {
        let mut bar = String::with_capacity(cells);
        for c in 0..cells {
            let col = c * per_cell;
            bar.push(if col >= a && col < b {
                if col < shown {
                    '█'
                } else {
                    '░'
                }
            } else {
                ' '
            });
        }
        let style = if h.tokens == longest && parallel_or_single(r) {
            Style::new().fg(Color::Yellow).bold()
        } else {
            Style::new()
        };
        let text = if b <= shown {
            h.text.replace('\n', "⏎")
        } else {
            String::new()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<name_w$} ", h.name), style),
            Span::styled(bar, style.fg(Color::Cyan)),
            Span::styled(
                format!(" {:>3} {:<9} ", h.tokens, h.stop.to_string()),
                style,
            ),
            Span::styled(text, style),
        ]));
    }
    if show < n_heads {
        lines.push(
            format!("… {} more heads", n_heads - show)
                .dark_gray()
                .into(),
        );
    }
    let parsed = match (&r.parsed, &r.parse_error) {
        (Some(c), _) => call_text(c),
        (None, Some(e)) => format!("parse error: {e}"),
        (None, None) => "–".into(),
    };
    let gold = app.gold(&r.case_id);
    let verdict = match (&r.verdict, &r.parsed, gold) {
        (Some(v), _, _) if v.strict => " ✓".green(),
        (Some(_), _, _) => " ✗".red(),
        (None, Some(p), Some(g)) if p == g => " =".green(),
        (None, _, Some(_)) => " ≠".red(),
        _ => "".into(),
    };
    lines.push(Line::from(vec![
        "parsed ".dark_gray(),
        parsed.into(),
        verdict,
    ]));
    lines.push(Line::from(vec![
        "gold   ".dark_gray(),
        gold.map_or("–".into(), call_text).into(),
    ]));
    f.render_widget(Paragraph::new(lines), inner);
}

/// The longest head sets a parallel call's latency; a serial call pays for every head, so no
/// single head is highlighted there.
fn parallel_or_single(r: &CallRecord) -> bool {
    r.protocol.parallel() || r.heads.len() == 1
}

fn draw_log(f: &mut Frame, area: Rect, app: &App) {
    let title = format!("log ({}) ", app.log.len());
    let b = block(&title, app.focus == Focus::Log);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let h = inner.height as usize;
    let end = app.log.len().saturating_sub(app.log_scroll);
    let start = end.saturating_sub(h);
    let lines: Vec<Line> = app.log[start..end]
        .iter()
        .map(|l| {
            let style = match l.kind {
                LogKind::Warning | LogKind::Filtered => Style::new().fg(Color::Yellow),
                LogKind::Failed => Style::new().fg(Color::Red),
                LogKind::Info => Style::new(),
            };
            Line::from(vec![
                format!("{} ", hms(l.at)).dark_gray(),
                Span::styled(l.text.clone(), style),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn footer_text(app: &App) -> &'static str {
    if app.finished.is_some() {
        "q quit · ←/→ arm · Tab focus · ? help"
    } else if app.stopping {
        "stopping after the current call… results are being written"
    } else {
        "q quit · p pause · ←/→ arm · Tab focus · ? help"
    }
}

fn draw_footer(f: &mut Frame, area: Rect, app: &App) {
    f.render_widget(Paragraph::new(footer_text(app).dark_gray()), area);
}

fn draw_compact(f: &mut Frame, area: Rect, app: &mut App) {
    let baseline = app.baseline().cloned();
    let summaries = app.summaries().to_vec();
    let mut lines = vec![
        Line::from(vec![
            status_tag(app),
            format!(" {} · {}", app.header.scenario, hms(app.elapsed())).into(),
        ]),
        progress_text(app).into(),
    ];
    for (i, s) in summaries.iter().enumerate() {
        let unstable = s.stability.as_ref().is_some_and(|st| st.unstable);
        let text = format!(
            "{}{} n{} P50 {} ms {}",
            s.arm.short(&app.arms),
            if unstable { " ⚠ unstable" } else { "" },
            s.e2e.n,
            if s.e2e.n > 0 {
                ms(s.e2e.p50)
            } else {
                "–".into()
            },
            speedup(s, baseline.as_ref())
        );
        lines.push(if i == app.selected_arm {
            text.reversed().into()
        } else {
            text.into()
        });
    }
    if let Some(l) = app.log.last() {
        lines.push(l.text.clone().yellow().into());
    }
    lines.push(
        format!(
            "{}×{} < {}×{}: compact view",
            area.width, area.height, MIN_FULL.0, MIN_FULL.1
        )
        .dark_gray()
        .into(),
    );
    lines.push(footer_text(app).dark_gray().into());
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), area);
}

fn draw_help(f: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("fcbench tui — keys".bold()),
        "".into(),
        "q / Esc   stop after the current call, write results, quit".into(),
        "Ctrl-C    same; twice: quit at once (finished calls are on disk)".into(),
        "p / Space pause / resume between calls".into(),
        "Tab       cycle focus (arms, latency, call, log)".into(),
        "← / →     switch the arm shown in latency and call panes".into(),
        "↑ / ↓     scroll the log (when focused)".into(),
        "?         this help; any key closes it".into(),
        "".into(),
        "Lines: 16 Hz = 62.5 ms, 10 Hz = 100 ms per call.".into(),
        "Numbers: fcbench_core::summary, as `fcbench run` prints.".into(),
    ];
    let w = 70.min(area.width);
    let h = (text.len() as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title("help")),
        r,
    );
}
