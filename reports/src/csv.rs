//! CSV for spreadsheets and scripts: full-precision numbers (no rounding, no bold), the
//! speed-up interval in its own columns, header names with units.

use crate::table::{Column, Table, TableExporter, Value};

pub struct Csv;

fn num(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        String::new()
    }
}

impl TableExporter for Csv {
    fn export(&self, t: &Table) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = t
            .label_headers()
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        for c in &t.columns {
            match c {
                Column::Speedup => header.extend([
                    "speedup".to_string(),
                    "speedup_ci95_low".into(),
                    "speedup_ci95_high".into(),
                ]),
                Column::P50 | Column::P95 | Column::Mean => header.push(format!("{}_ms", c.key())),
                _ => header.push(c.key().replace('-', "_")),
            }
        }
        w.write_record(&header).expect("in-memory write");
        for r in &t.rows {
            let mut rec: Vec<String> = r.labels().into_iter().map(str::to_string).collect();
            for (c, cell) in t.columns.iter().zip(&r.cells) {
                match (c, cell.value) {
                    (Column::Speedup, Value::Ratio { median, lo, hi }) => {
                        rec.extend([num(median), num(lo), num(hi)])
                    }
                    (Column::Speedup, Value::Baseline) => {
                        rec.extend(["1".into(), "1".into(), "1".into()])
                    }
                    (Column::Speedup, _) => {
                        rec.extend([String::new(), String::new(), String::new()])
                    }
                    (_, Value::Num(x)) | (_, Value::Percent(x)) => rec.push(num(x)),
                    (_, Value::Count(n)) => rec.push(n.to_string()),
                    _ => rec.push(String::new()),
                }
            }
            w.write_record(&rec).expect("in-memory write");
        }
        String::from_utf8(w.into_inner().expect("in-memory flush")).expect("UTF-8 in, UTF-8 out")
    }
}
