//! CSV for spreadsheets and scripts: full-precision numbers (no rounding, no bold), the
//! speed-up interval in its own columns, header names with units.

use crate::table::{Align, Column, Grid, Markup, Table, Value};

pub struct Csv;

/// Full precision; nothing where there is no number.
fn num(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        String::new()
    }
}

impl Markup for Csv {
    /// Quoting is the row's job (the `csv` crate's rules), not the cell's.
    fn escape(&self, s: &str) -> String {
        s.to_string()
    }
    fn value(&self, v: &Value, _digits: usize) -> String {
        match *v {
            Value::Num(x) | Value::Percent(x) | Value::Ratio { median: x, .. } => num(x),
            Value::Count(n) => n.to_string(),
            Value::Baseline => "1".into(),
            Value::Missing => String::new(),
        }
    }
    fn table_start(&self, _: &str, _: Option<&str>, _: &[Align]) -> String {
        String::new()
    }
    fn table_row(&self, cells: &[String], _: &[Align]) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(cells).expect("in-memory write");
        String::from_utf8(w.into_inner().expect("in-memory flush")).expect("UTF-8 in, UTF-8 out")
    }
    fn paper_grid(&self, t: &Table) -> Grid {
        let mut heads: Vec<String> = t
            .label_headers()
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        for c in &t.columns {
            match c {
                Column::Speedup => heads
                    .extend(["speedup", "speedup_ci95_low", "speedup_ci95_high"].map(Into::into)),
                Column::P50 | Column::P95 | Column::Mean => heads.push(format!("{}_ms", c.key())),
                _ => heads.push(c.key().replace('-', "_")),
            }
        }
        let rows = t.rows.iter().map(|r| {
            let mut rec: Vec<String> = r.labels().into_iter().map(str::to_string).collect();
            for (c, cell) in t.columns.iter().zip(&r.cells) {
                let text = self.value(&cell.value, 0);
                // The interval gets its own columns: a spreadsheet cannot read `2.31× [2.10–2.55]`.
                match (c, cell.value) {
                    (Column::Speedup, Value::Ratio { lo, hi, .. }) => {
                        rec.extend([text, num(lo), num(hi)])
                    }
                    (Column::Speedup, _) => rec.extend([text.clone(), text.clone(), text]),
                    _ => rec.push(text),
                }
            }
            rec
        });
        Grid::of(
            &heads.iter().map(String::as_str).collect::<Vec<_>>(),
            rows.collect(),
        )
    }
}
