//! Latency distributions: the CDF of every arm on one chart, and a histogram per arm on shared
//! bins; both with the 10 Hz and 16 Hz deadlines.

use super::{axis_label, chart_err, deadline_lines, FONT};
use crate::ReportError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One arm's sorted latencies.
pub struct Curve<'a> {
    pub name: String,
    pub color: RGBColor,
    pub sorted_ms: &'a [f64],
}

/// Upper end of the latency axis: the slowest call, and at least past the 10 Hz line.
pub fn x_max(curves: &[Curve]) -> f64 {
    let slowest = curves
        .iter()
        .filter_map(|c| c.sorted_ms.last().copied())
        .fold(0.0, f64::max);
    slowest.max(100.0) * 1.04
}

fn draw_deadlines<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    root: &DrawingArea<DB, plotters::coord::Shift>,
    ymax: f64,
) -> Result<(), ReportError> {
    for (k, l) in deadline_lines().iter().enumerate() {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(l.at, 0.0), (l.at, ymax)],
                l.color.stroke_width(2),
            )))
            .map_err(chart_err)?;
        let (x, y) = chart.backend_coord(&(l.at, ymax));
        root.draw(&Text::new(
            l.label.clone(),
            (x + 3, y + 8 + 13 * k as i32),
            TextStyle::from((FONT, 11).into_font()).color(&l.color),
        ))
        .map_err(chart_err)?;
    }
    Ok(())
}

/// Empirical CDF (a step per call) of every arm, on a logarithmic latency axis: the deadlines
/// and a slow tail both stay readable.
pub fn cdf(title: &str, curves: &[Curve]) -> Result<String, ReportError> {
    let xmax = x_max(curves);
    let fastest = curves
        .iter()
        .filter_map(|c| c.sorted_ms.first().copied())
        .fold(f64::INFINITY, f64::min);
    // Start below the fastest call and the 16 Hz line; a log axis cannot start at 0.
    let xmin = (fastest.min(62.5) * 0.8).max(1e-3);
    let legend_h = 18 * curves.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 420 + legend_h)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let (plot, legend) = root.split_vertically(420);
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, (FONT, 17))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d((xmin..xmax).log_scale(), 0.0..1.0)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("end-to-end latency (ms, log scale)")
            .y_desc("share of calls ≤ x")
            .x_label_formatter(&axis_label)
            .label_style((FONT, 12))
            .draw()
            .map_err(chart_err)?;
        for (k, l) in deadline_lines().iter().enumerate() {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(l.at, 0.0), (l.at, 1.0)],
                    l.color.stroke_width(2),
                )))
                .map_err(chart_err)?;
            let (x, y) = chart.backend_coord(&(l.at, 1.0));
            root.draw(&Text::new(
                l.label.clone(),
                (x + 3, y + 8 + 13 * k as i32),
                TextStyle::from((FONT, 11).into_font()).color(&l.color),
            ))
            .map_err(chart_err)?;
        }
        for c in curves {
            let n = c.sorted_ms.len() as f64;
            let mut pts = Vec::with_capacity(c.sorted_ms.len() * 2 + 2);
            pts.push((xmin, 0.0));
            for (i, &x) in c.sorted_ms.iter().enumerate() {
                pts.push((x, i as f64 / n));
                pts.push((x, (i + 1) as f64 / n));
            }
            if let Some(&last) = c.sorted_ms.last() {
                pts.push((xmax.max(last), 1.0));
            }
            chart
                .draw_series(std::iter::once(PathElement::new(
                    pts,
                    c.color.stroke_width(2),
                )))
                .map_err(chart_err)?;
        }
        for (i, c) in curves.iter().enumerate() {
            let y = 9 + 18 * i as i32;
            legend
                .draw(&PathElement::new(
                    vec![(70, y), (94, y)],
                    c.color.stroke_width(3),
                ))
                .map_err(chart_err)?;
            legend
                .draw(&Text::new(
                    format!("{} (n = {})", c.name, c.sorted_ms.len()),
                    (100, y),
                    TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// Bin edges shared by every arm's histogram, so the panels compare directly.
pub fn bins(xmax: f64, count: usize) -> Vec<f64> {
    (0..=count)
        .map(|i| xmax * i as f64 / count as f64)
        .collect()
}

/// Calls per bin (the last bin includes its upper edge).
pub fn bin_counts(sorted_ms: &[f64], edges: &[f64]) -> Vec<usize> {
    let nb = edges.len().saturating_sub(1);
    let mut counts = vec![0; nb];
    if nb == 0 {
        return counts;
    }
    let width = edges[nb] / nb as f64;
    for &x in sorted_ms {
        let b = ((x / width).floor() as usize).min(nb - 1);
        counts[b] += 1;
    }
    counts
}

/// One arm's histogram on the shared bins.
pub fn histogram(
    name: &str,
    color: RGBColor,
    edges: &[f64],
    counts: &[usize],
) -> Result<String, ReportError> {
    let xmax = *edges.last().unwrap_or(&1.0);
    let ymax = counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (470, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(name, (FONT, 13))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("latency (ms)")
            .y_desc("calls")
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&axis_label)
            .label_style((FONT, 11))
            .draw()
            .map_err(chart_err)?;
        chart
            .draw_series(
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, &c)| c > 0)
                    .map(|(i, &c)| {
                        Rectangle::new([(edges[i], 0.0), (edges[i + 1], c as f64)], color.filled())
                    }),
            )
            .map_err(chart_err)?;
        draw_deadlines(&mut chart, &root, ymax)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}
