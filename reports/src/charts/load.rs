//! A load sweep: latency P50/P95 against the level (with the SLO line) next to goodput and
//! achieved calls/s against the level.

use super::{chart_err, color, FONT};
use crate::ReportError;
use fcbench_core::record::{LoadLevel, LoadReport};
use plotters::prelude::*;

/// Points with a finite y only (a level with no successful call has no latency).
fn series(
    r: &LoadReport,
    y: impl Fn(&fcbench_core::record::LoadLevelResult) -> f64,
) -> Vec<(f64, f64)> {
    r.levels
        .iter()
        .map(|l| (l.level.value(), y(l)))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect()
}

/// One panel: y axis name, y maximum, two named lines.
type Panel<'a> = (&'a str, f64, [(&'a str, &'a Vec<(f64, f64)>); 2]);

pub fn sweep(title: &str, r: &LoadReport) -> Result<String, ReportError> {
    let clients = !matches!(r.levels.first().map(|l| l.level), Some(LoadLevel::Rate(_)));
    let x_desc = if clients {
        "parallel clients"
    } else {
        "offered rate (calls/s)"
    };
    let xmax = r.levels.iter().map(|l| l.level.value()).fold(1.0, f64::max) * 1.1;
    let p50 = series(r, |l| l.p50_ms);
    let p95 = series(r, |l| l.p95_ms);
    let good = series(r, |l| l.goodput_per_s);
    let achieved = series(r, |l| l.achieved_per_s);
    let lat_max = p95.iter().chain(&p50).map(|p| p.1).fold(r.slo_ms, f64::max) * 1.1;
    let rate_max = good
        .iter()
        .chain(&achieved)
        .map(|p| p.1)
        .fold(1.0, f64::max)
        * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let root = root.titled(title, (FONT, 17)).map_err(chart_err)?;
        let panels = root.split_evenly((1, 2));
        let panel_specs: [Panel; 2] = [
            ("latency (ms)", lat_max, [("P50", &p50), ("P95", &p95)]),
            (
                "calls/s",
                rate_max,
                [("goodput", &good), ("achieved", &achieved)],
            ),
        ];
        for (pi, (panel, (y_desc, ymax, lines))) in panels.iter().zip(panel_specs).enumerate() {
            let mut chart = ChartBuilder::on(panel)
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(52)
                .build_cartesian_2d(0.0..xmax, 0.0..ymax)
                .map_err(chart_err)?;
            chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(y_desc)
                .x_label_formatter(&|x: &f64| {
                    // Clients come in whole numbers: no 1.5-client ticks.
                    if clients && x.fract() != 0.0 {
                        String::new()
                    } else {
                        super::axis_label(x)
                    }
                })
                .y_label_formatter(&super::axis_label)
                .label_style((FONT, 12))
                .draw()
                .map_err(chart_err)?;
            if pi == 0 {
                let c = super::DEADLINE_10HZ;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(0.0, r.slo_ms), (xmax, r.slo_ms)],
                        c.stroke_width(1),
                    )))
                    .map_err(chart_err)?
                    .label(format!("SLO {} ms", r.slo_ms))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c));
            }
            for (si, (name, pts)) in lines.iter().enumerate() {
                let c = color(si + 2 * pi);
                chart
                    .draw_series(LineSeries::new(pts.to_vec(), c.stroke_width(2)))
                    .map_err(chart_err)?
                    .label(*name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
                    .map_err(chart_err)?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font((FONT, 12))
                .draw()
                .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}
