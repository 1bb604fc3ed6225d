//! GitHub-flavoured Markdown table: caption as an italic line above, numbers right-aligned,
//! best values in bold.

use crate::table::{plain, Table, TableExporter};

pub struct Markdown;

/// Pipes would end a cell; backslash-escape them (and backslashes themselves).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|")
}

impl TableExporter for Markdown {
    fn export(&self, t: &Table) -> String {
        let labels = t.label_headers();
        let mut out = format!("*{}*\n\n|", escape(&t.caption));
        for h in &labels {
            out.push_str(&format!(" {h} |"));
        }
        for c in &t.columns {
            out.push_str(&format!(" {} |", c.header()));
        }
        out.push_str("\n|");
        for _ in &labels {
            out.push_str(" :--- |");
        }
        for _ in &t.columns {
            out.push_str(" ---: |");
        }
        out.push('\n');
        for r in &t.rows {
            out.push('|');
            for l in r.labels() {
                out.push_str(&format!(" {} |", escape(l)));
            }
            for c in &r.cells {
                let text = plain(&c.value, t.digits);
                if c.best {
                    out.push_str(&format!(" **{text}** |"));
                } else {
                    out.push_str(&format!(" {text} |"));
                }
            }
            out.push('\n');
        }
        out
    }
}
