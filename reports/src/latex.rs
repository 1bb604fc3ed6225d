//! LaTeX table with booktabs rules (`\usepackage{booktabs}`): names escaped, best values in
//! bold, and a caption stating mode, regime, hardware and N.

use crate::table::{fixed, Align, Markup, Value};

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

impl Markup for Latex {
    fn escape(&self, s: &str) -> String {
        escape(s)
    }
    fn value(&self, v: &Value, digits: usize) -> String {
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
    fn bold(&self, s: String) -> String {
        format!("\\textbf{{{s}}}")
    }
    fn table_start(&self, caption: &str, label: Option<&str>, aligns: &[Align]) -> String {
        let spec: String = aligns
            .iter()
            .map(|a| if *a == Align::Left { 'l' } else { 'r' })
            .collect();
        let label = label.map_or(String::new(), |l| format!("\\label{{{l}}}\n"));
        format!(
            "% requires \\usepackage{{booktabs}}\n\\begin{{table}}[t]\n\\centering\n\\caption{{{}}}\n{label}\\begin{{tabular}}{{{spec}}}\n\\toprule\n",
            escape(caption)
        )
    }
    fn table_divider(&self, _: &[Align]) -> String {
        "\\midrule\n".into()
    }
    fn table_row(&self, cells: &[String], _: &[Align]) -> String {
        format!("{} \\\\\n", cells.join(" & "))
    }
    fn table_end(&self) -> String {
        "\\bottomrule\n\\end{tabular}\n\\end{table}\n".into()
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
