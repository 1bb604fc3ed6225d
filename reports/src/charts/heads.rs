//! The head-efficiency curve: step efficiency against the number of parallel heads.

use super::{chart_err, color, FONT};
use crate::ReportError;
use fcbench_core::sweep::HeadSweep;
use plotters::prelude::*;

pub fn efficiency_curve(title: &str, sweep: &HeadSweep) -> Result<String, ReportError> {
    let maxh = sweep.points.iter().map(|p| p.heads).max().unwrap_or(1) as f64;
    let ymax = sweep
        .points
        .iter()
        .map(|p| p.step_efficiency * 100.0)
        .fold(110.0, f64::max)
        * 1.05;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 17))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(0.5..maxh + 0.5, 0.0..ymax)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("parallel heads (sequences per decode step)")
            .y_desc("step efficiency (%)")
            .x_labels(sweep.points.len().max(2))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&super::axis_label)
            .label_style((FONT, 12))
            .draw()
            .map_err(chart_err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.5, 100.0), (maxh + 0.5, 100.0)],
                RGBColor(150, 150, 150).stroke_width(1),
            )))
            .map_err(chart_err)?;
        let pts: Vec<(f64, f64)> = sweep
            .points
            .iter()
            .map(|p| (p.heads as f64, p.step_efficiency * 100.0))
            .collect();
        let c = color(0);
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
            .map_err(chart_err)?;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
            .map_err(chart_err)?;
        chart
            .draw_series(pts.iter().map(|&(x, y)| {
                EmptyElement::at((x, y))
                    + Text::new(
                        format!("{y:.0}%"),
                        (6, -18),
                        TextStyle::from((FONT, 12).into_font()),
                    )
            }))
            .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}
