//! Charts as inline SVG strings drawn with `plotters` (SVG backend only, no font files: text is
//! left to the browser's sans-serif). One module per kind of chart; the shared horizontal bar
//! chart lives here.

pub mod heads;
pub mod latency;
pub mod load;
pub mod scatter;

use crate::ReportError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Colours of the 16 Hz and 10 Hz deadline lines.
pub const DEADLINE_16HZ: RGBColor = RGBColor(200, 30, 30);
pub const DEADLINE_10HZ: RGBColor = RGBColor(120, 20, 120);

pub const FONT: &str = "sans-serif";

pub(crate) fn chart_err<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Chart(e.to_string())
}

/// A vertical reference line (a deadline, or 1× for speed-ups).
#[derive(Debug, Clone)]
pub struct RefLine {
    pub at: f64,
    pub label: String,
    pub color: RGBColor,
}

/// The two real-time deadlines every latency chart shows.
pub fn deadline_lines() -> Vec<RefLine> {
    vec![
        RefLine {
            at: 100.0,
            label: "10 Hz".into(),
            color: DEADLINE_10HZ,
        },
        RefLine {
            at: 62.5,
            label: "16 Hz".into(),
            color: DEADLINE_16HZ,
        },
    ]
}

/// One series of a bar chart: a value (and optionally a 95% interval) per category.
#[derive(Debug, Clone)]
pub struct BarSeries {
    pub name: String,
    pub color: RGBColor,
    pub values: Vec<Option<f64>>,
    pub intervals: Option<Vec<Option<(f64, f64)>>>,
}

/// Horizontal bars, one band per category (long arm names read well on the left).
#[derive(Debug, Clone)]
pub struct HBars {
    pub title: String,
    pub x_desc: String,
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
    /// Stack the series in one bar per category instead of grouping them.
    pub stacked: bool,
    pub lines: Vec<RefLine>,
    /// Decimal places of the value labels drawn next to the bars.
    pub digits: usize,
    pub suffix: String,
}

fn label_width(labels: &[String]) -> u32 {
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    (longest as u32 * 7 + 16).clamp(60, 380)
}

/// Axis tick text: no trailing zeros (`5000`, `2.5`, `0.25`).
pub fn axis_label(x: &f64) -> String {
    let t = format!("{x:.2}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" {
        "0".into()
    } else {
        t.to_string()
    }
}

/// Format a bar's value label the way tests and tables expect it.
pub fn value_label(x: f64, digits: usize, suffix: &str) -> String {
    format!("{x:.digits$}{suffix}")
}

pub fn hbars(c: &HBars) -> Result<String, ReportError> {
    let n = c.categories.len().max(1);
    let k = if c.stacked { 1 } else { c.series.len().max(1) };
    let band_px = 18 * k as u32 + 16;
    let legend_px = if c.series.len() > 1 { 24 } else { 0 };
    let height = 70 + legend_px + band_px * n as u32 + 40;
    let width = 960;
    let mut xmax: f64 = 0.0;
    for i in 0..c.categories.len() {
        let mut total = 0.0;
        for s in &c.series {
            let v = s.values.get(i).copied().flatten().unwrap_or(0.0);
            let hi = s
                .intervals
                .as_ref()
                .and_then(|iv| iv.get(i).copied().flatten())
                .map_or(v, |(_, h)| h);
            if c.stacked {
                total += v;
                xmax = xmax.max(total);
            } else {
                xmax = xmax.max(v).max(hi);
            }
        }
    }
    for l in &c.lines {
        xmax = xmax.max(l.at);
    }
    // Room for the value labels right of the longest bar.
    let xmax = if xmax > 0.0 { xmax * 1.18 } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let left = label_width(&c.categories);
        // The legend goes below the plot, where it cannot cover the title or the bars.
        let (plot, legend) = root.split_vertically(height - legend_px);
        let mut chart = ChartBuilder::on(&plot)
            .caption(&c.title, (FONT, 17))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(left)
            .build_cartesian_2d(0.0..xmax, 0.0..n as f64)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_label_formatter(&axis_label)
            .x_desc(c.x_desc.as_str())
            .label_style((FONT, 12))
            .draw()
            .map_err(chart_err)?;
        let label_style =
            TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        let cat_style =
            TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
        for (i, name) in c.categories.iter().enumerate() {
            // Category 0 at the top.
            let top = (n - i) as f64;
            let (px, py) = chart.backend_coord(&(0.0, top - 0.5));
            root.draw(&Text::new(name.clone(), (px - 8, py), cat_style.clone()))
                .map_err(chart_err)?;
            let pad = 0.14;
            let h = (1.0 - 2.0 * pad) / k as f64;
            let mut acc = 0.0;
            let mut stacked_parts = Vec::new();
            for (j, s) in c.series.iter().enumerate() {
                let Some(v) = s.values.get(i).copied().flatten() else {
                    continue;
                };
                let (y1, y0) = if c.stacked {
                    (top - pad, top - 1.0 + pad)
                } else {
                    let y1 = top - pad - h * j as f64;
                    (y1, y1 - h)
                };
                let (x0, x1) = if c.stacked { (acc, acc + v) } else { (0.0, v) };
                acc += v;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, y0 + 0.02), (x1, y1 - 0.02)],
                        s.color.filled(),
                    )))
                    .map_err(chart_err)?;
                let mut end = x1;
                if let Some((lo, hi)) = s
                    .intervals
                    .as_ref()
                    .and_then(|iv| iv.get(i).copied().flatten())
                {
                    chart
                        .draw_series(std::iter::once(ErrorBar::new_horizontal(
                            (y0 + y1) / 2.0,
                            lo,
                            v,
                            hi,
                            BLACK.stroke_width(1),
                            8,
                        )))
                        .map_err(chart_err)?;
                    end = end.max(hi);
                }
                if c.stacked {
                    stacked_parts.push(value_label(v, c.digits, &c.suffix));
                } else {
                    let (lx, ly) = chart.backend_coord(&(end, (y0 + y1) / 2.0));
                    root.draw(&Text::new(
                        value_label(v, c.digits, &c.suffix),
                        (lx + 5, ly),
                        label_style.clone(),
                    ))
                    .map_err(chart_err)?;
                }
            }
            if c.stacked && !stacked_parts.is_empty() {
                let (lx, ly) = chart.backend_coord(&(acc, top - 0.5));
                root.draw(&Text::new(
                    stacked_parts.join(" + "),
                    (lx + 5, ly),
                    label_style.clone(),
                ))
                .map_err(chart_err)?;
            }
        }
        for l in &c.lines {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(l.at, 0.0), (l.at, n as f64)],
                    l.color.stroke_width(2),
                )))
                .map_err(chart_err)?;
            let (lx, ly) = chart.backend_coord(&(l.at, n as f64));
            root.draw(&Text::new(
                l.label.clone(),
                (lx + 3, ly + 8),
                TextStyle::from((FONT, 11).into_font()).color(&l.color),
            ))
            .map_err(chart_err)?;
        }
        if c.series.len() > 1 {
            let mut x = left as i32 + 12;
            for s in &c.series {
                legend
                    .draw(&Rectangle::new([(x, 4), (x + 14, 16)], s.color.filled()))
                    .map_err(chart_err)?;
                legend
                    .draw(&Text::new(
                        s.name.clone(),
                        (x + 19, 10),
                        TextStyle::from((FONT, 12).into_font())
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    ))
                    .map_err(chart_err)?;
                x += 30 + 8 * s.name.chars().count() as i32;
            }
        }
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn axis_labels_drop_trailing_zeros() {
        let l = |x: f64| super::axis_label(&x);
        assert_eq!(
            (l(5000.0), l(2.5), l(0.25), l(0.0)),
            ("5000".into(), "2.5".into(), "0.25".into(), "0".into())
        );
    }
}
