//! LaTeX table with booktabs rules (`\usepackage{booktabs}`): names escaped, best values in
//! bold, and a caption stating mode, regime, hardware and N.

use crate::table::{fixed, Table, TableExporter, Value};

pub struct Latex;

/// Escape LaTeX's special characters in text.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '·' => out.push_str("\\textperiodcentered{}"),
            '×' => out.push_str("$\\times$"),
            '–' => out.push_str("--"),
            '`' => out.push('\''),
            _ => out.push(c),
        }
    }
    out
}

fn cell(v: &Value, digits: usize) -> String {
    match *v {
        Value::Missing => "--".into(),
        Value::Num(x) => fixed(x, digits),
        Value::Count(n) => n.to_string(),
        Value::Percent(x) => format!("{}\\%", fixed(x * 100.0, digits)),
        Value::Ratio { median, lo, hi } => format!(
            "{}$\\times$ [{}, {}]",
            fixed(median, digits.max(2)),
            fixed(lo, digits.max(2)),
            fixed(hi, digits.max(2))
        ),
        Value::Baseline => "baseline".into(),
    }
}

impl TableExporter for Latex {
    fn export(&self, t: &Table) -> String {
        let labels = t.label_headers();
        let spec: String = "l".repeat(labels.len()) + &"r".repeat(t.columns.len());
        let mut out = String::new();
        out.push_str("% requires \\usepackage{booktabs}\n");
        out.push_str("\\begin{table}[t]\n\\centering\n");
        out.push_str(&format!("\\caption{{{}}}\n", escape(&t.caption)));
        out.push_str("\\label{tab:fcbench-latency}\n");
        out.push_str(&format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n"));
        let heads: Vec<String> = labels
            .iter()
            .map(|h| escape(h))
            .chain(t.columns.iter().map(|c| escape(c.header())))
            .collect();
        out.push_str(&heads.join(" & "));
        out.push_str(" \\\\\n\\midrule\n");
        for r in &t.rows {
            let cells: Vec<String> = r
                .labels()
                .into_iter()
                .map(escape)
                .chain(r.cells.iter().map(|c| {
                    let text = cell(&c.value, t.digits);
                    if c.best {
                        format!("\\textbf{{{text}}}")
                    } else {
                        text
                    }
                }))
                .collect();
            out.push_str(&cells.join(" & "));
            out.push_str(" \\\\\n");
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n\\end{table}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape(r"a_b & 50% $x #1 {y} ~ ^ \"),
            r"a\_b \& 50\% \$x \#1 \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
        );
    }
}
