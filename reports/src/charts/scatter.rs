//! Accuracy against latency: one point per arm, the Pareto front (no other arm is both faster
//! and more accurate) joined and ringed.

use super::{chart_err, color, FONT};
use crate::ReportError;
use plotters::prelude::*;

#[derive(Debug, Clone)]
pub struct Point {
    pub name: String,
    pub latency_ms: f64,
    /// Share in 0..=1.
    pub accuracy: f64,
}

/// Indices of the Pareto-optimal points: lower latency and higher accuracy both better.
pub fn pareto_front(points: &[Point]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len()).collect();
    idx.sort_by(|&a, &b| {
        points[a]
            .latency_ms
            .total_cmp(&points[b].latency_ms)
            .then(points[b].accuracy.total_cmp(&points[a].accuracy))
    });
    let mut best = f64::NEG_INFINITY;
    let mut front = Vec::new();
    for i in idx {
        if points[i].accuracy > best {
            best = points[i].accuracy;
            front.push(i);
        }
    }
    front
}

pub fn accuracy_vs_latency(
    title: &str,
    y_desc: &str,
    points: &[Point],
) -> Result<String, ReportError> {
    let xmax = points.iter().map(|p| p.latency_ms).fold(100.0, f64::max) * 1.25;
    let front = pareto_front(points);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 17))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(0.0..xmax, 0.0..105.0)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("P50 end-to-end latency (ms)")
            .x_label_formatter(&super::axis_label)
            .y_label_formatter(&super::axis_label)
            .y_desc(y_desc)
            .label_style((FONT, 12))
            .draw()
            .map_err(chart_err)?;
        let fpts: Vec<(f64, f64)> = front
            .iter()
            .map(|&i| (points[i].latency_ms, points[i].accuracy * 100.0))
            .collect();
        chart
            .draw_series(std::iter::once(PathElement::new(
                fpts.clone(),
                RGBColor(60, 60, 60).stroke_width(1),
            )))
            .map_err(chart_err)?;
        chart
            .draw_series(
                fpts.iter()
                    .map(|&p| Circle::new(p, 9, BLACK.stroke_width(1))),
            )
            .map_err(chart_err)?;
        for (i, p) in points.iter().enumerate() {
            let xy = (p.latency_ms, p.accuracy * 100.0);
            chart
                .draw_series(std::iter::once(Circle::new(xy, 5, color(i).filled())))
                .map_err(chart_err)?;
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at(xy)
                        + Text::new(
                            // Numbers, not names: arms often share a latency or an accuracy, and
                            // long names would overlap. The table under the chart keys them.
                            (i + 1).to_string(),
                            (7, -16),
                            TextStyle::from((FONT, 11).into_font()),
                        ),
                ))
                .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(l: f64, a: f64) -> Point {
        Point {
            name: String::new(),
            latency_ms: l,
            accuracy: a,
        }
    }

    #[test]
    fn pareto_front_keeps_only_undominated_points() {
        let pts = [
            p(10.0, 0.5),
            p(20.0, 0.9),
            p(15.0, 0.4),
            p(30.0, 0.9),
            p(5.0, 0.1),
        ];
        assert_eq!(pareto_front(&pts), vec![4, 0, 1]);
    }
}
