//! GitHub-flavoured Markdown table: caption as an italic line above, numbers right-aligned,
//! best values in bold.

use crate::table::{plain, Align, Markup, Value};

pub struct Markdown;

impl Markup for Markdown {
    /// Pipes would end a cell; backslash-escape them (and backslashes themselves).
    fn escape(&self, s: &str) -> String {
        s.replace('\\', "\\\\").replace('|', "\\|")
    }
    fn value(&self, v: &Value, digits: usize) -> String {
        plain(v, digits)
    }
    fn bold(&self, s: String) -> String {
        format!("**{s}**")
    }
    fn table_start(&self, caption: &str, _: Option<&str>, _: &[Align]) -> String {
        format!("*{}*\n\n", self.escape(caption))
    }
    fn table_divider(&self, aligns: &[Align]) -> String {
        let marks: Vec<String> = aligns
            .iter()
            .map(|a| match a {
                Align::Left => ":---".into(),
                Align::Right => "---:".into(),
            })
            .collect();
        self.table_row(&marks, aligns)
    }
    fn table_row(&self, cells: &[String], _: &[Align]) -> String {
        let mut out = String::from("|");
        for c in cells {
            out.push_str(&format!(" {c} |"));
        }
        out + "\n"
    }
}
