//! Filepath templates in Python's `str.format` syntax, as ModelCheckpoint fills them:
//! `weights.{epoch:02d}-{val_loss:.2f}.h5`.
//!
//! A template is parsed once, at construction; `epoch` and `batch` are integers, every other placeholder is a
//! float from the logs. Positional fields (`{}`), attribute or index access (`{a.b}`, `{a[0]}`) and conversions
//! (`{a!r}`) are rejected when parsing, as is an integer-only code on a log value (`{loss:d}`), which Python would
//! only reject at save time.
//!
//! ```
//! use rkeras_callbacks::template::FilepathTemplate;
//! use rkeras_callbacks::{Logs, LogsExt};
//! let template = FilepathTemplate::parse("weights.{epoch:02d}-{val_loss:.2f}.h5").unwrap();
//! assert_eq!(template.placeholders().collect::<Vec<_>>(), ["epoch", "val_loss"]);
//! let mut logs = Logs::new();
//! logs.set("val_loss", 0.4321);
//! assert_eq!(template.render(5, None, &logs).unwrap(), "weights.05-0.43.h5");
//! ```

use crate::logs::Logs;
use crate::pyformat::FormatSpec;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Field { name: String, spec: FormatSpec },
}

/// Why a template cannot be parsed: the placeholder at fault (as written between the braces), if any, and the
/// reason.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    /// The placeholder (`loss:.70000f`); `None` for a stray `}` or `{`.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "placeholder '{{{field}}}': {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

fn fault(field: Option<&str>, reason: String) -> TemplateError {
    TemplateError {
        field: field.map(str::to_string),
        reason,
    }
}

/// A placeholder that cannot be filled from the logs at hand.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingKey {
    /// The placeholder's name.
    pub key: String,
    /// Every name that could have been used (`epoch`, `batch` when given, then the logged keys).
    pub available: Vec<String>,
}

/// A parsed filepath template.
#[derive(Debug, Clone, PartialEq)]
pub struct FilepathTemplate {
    source: String,
    segments: Vec<Segment>,
}

impl FilepathTemplate {
    /// Parses `source`; the error names the offending placeholder and says what is wrong. Widths and precisions
    /// are bounded ([`crate::pyformat::MAX_WIDTH`]), so that rendering can neither panic nor exhaust memory.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(fault(
                        None,
                        "single '}' encountered in format string".to_string(),
                    ));
                }
                '{' => {
                    let mut field = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        match c {
                            '}' => {
                                closed = true;
                                break;
                            }
                            '{' => {
                                return Err(fault(Some(&field), "nested placeholder".to_string()));
                            }
                            _ => field.push(c),
                        }
                    }
                    if !closed {
                        return Err(fault(Some(&field), "unclosed placeholder".to_string()));
                    }
                    if !literal.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    }
                    segments.push(parse_field(&field)?);
                }
                _ => literal.push(c),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Ok(Self {
            source: source.to_string(),
            segments,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The placeholder names, in order of appearance (repeats included).
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Field { name, .. } => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// Whether the template has no placeholder (it always renders to the same path).
    pub fn is_constant(&self) -> bool {
        self.placeholders().next().is_none()
    }

    /// The text before the first placeholder (the whole template when constant).
    pub fn constant_prefix(&self) -> String {
        self.segments
            .iter()
            .map_while(|s| match s {
                Segment::Literal(text) => Some(text.as_str()),
                Segment::Field { .. } => None,
            })
            .collect()
    }

    /// Fills the template: `epoch` and `batch` are the 1-based numbers, everything else comes from `logs`.
    pub fn render(
        &self,
        epoch: usize,
        batch: Option<usize>,
        logs: &Logs,
    ) -> Result<String, MissingKey> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Field { name, spec } => {
                    let int_value = match name.as_str() {
                        "epoch" => Some(epoch),
                        "batch" => batch,
                        _ => None,
                    };
                    let formatted = match (int_value, logs.get(name)) {
                        (Some(v), _) => spec.format_int(i64::try_from(v).unwrap_or(i64::MAX)),
                        (None, Some(v)) => spec.format_float(*v),
                        (None, None) => return Err(self.missing(name, batch.is_some(), logs)),
                    };
                    // Integer-only codes on log values are rejected when parsing, so formatting cannot fail here;
                    // should it, the placeholder is reported as unusable.
                    match formatted {
                        Ok(text) => out.push_str(&text),
                        Err(_) => return Err(self.missing(name, batch.is_some(), logs)),
                    }
                }
            }
        }
        Ok(out)
    }

    fn missing(&self, key: &str, with_batch: bool, logs: &Logs) -> MissingKey {
        let mut available = vec!["epoch".to_string()];
        if with_batch {
            available.push("batch".to_string());
        }
        available.extend(logs.keys().cloned());
        MissingKey {
            key: key.to_string(),
            available,
        }
    }
}

/// Parses the inside of `{...}`: a name and an optional `:spec`.
fn parse_field(field: &str) -> Result<Segment, TemplateError> {
    let (name, spec) = field.split_once(':').unwrap_or((field, ""));
    let fail = |reason: String| Err(fault(Some(field), reason));
    if name.is_empty() || name.chars().all(|c| c.is_ascii_digit()) {
        return fail(
            "positional placeholders are not supported: name the value, e.g. {epoch:02d} or {val_loss:.2f}"
                .to_string(),
        );
    }
    if let Some(bad) = name.chars().find(|c| matches!(c, '.' | '[' | ']' | '!')) {
        return fail(format!(
            "'{bad}' (attribute, index or conversion) is not supported"
        ));
    }
    let parsed = match FormatSpec::parse(spec) {
        Ok(parsed) => parsed,
        Err(e) => return fail(e),
    };
    if parsed.is_integer_only() && name != "epoch" && name != "batch" {
        return fail(format!(
            "`{name}` is a float and cannot use an integer format code; try {{{name}:.4f}}"
        ));
    }
    Ok(Segment::Field {
        name: name.to_string(),
        spec: parsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::LogsExt;

    fn logs(pairs: &[(&str, f64)]) -> Logs {
        let mut l = Logs::new();
        for (k, v) in pairs {
            l.set(k, *v);
        }
        l
    }

    #[test]
    fn renders_the_formats_used_in_practice() {
        let l = logs(&[
            ("loss", 0.123456),
            ("val_loss", 0.4012),
            ("val_accuracy", 0.9),
        ]);
        // (template, epoch, batch, expected as Python's str.format gives it)
        let rows: &[(&str, usize, Option<usize>, &str)] = &[
            (
                "weights.{epoch:02d}-{val_loss:.2f}.h5",
                5,
                None,
                "weights.05-0.40.h5",
            ),
            ("ckpt-{epoch}.h5", 12, None, "ckpt-12.h5"),
            ("ckpt-{epoch:03d}.h5", 7, None, "ckpt-007.h5"),
            ("m-{epoch:02d}-{batch}.h5", 1, Some(300), "m-01-300.h5"),
            ("m-{loss:.4f}.h5", 1, None, "m-0.1235.h5"),
            ("m-{loss:e}.h5", 1, None, "m-1.234560e-01.h5"),
            ("m-{val_loss}.h5", 1, None, "m-0.4012.h5"),
            ("{{literal}}-{epoch}.h5", 2, None, "{literal}-2.h5"),
            ("checkpoint.hdf5", 3, None, "checkpoint.hdf5"),
        ];
        for (template, epoch, batch, want) in rows {
            let t = FilepathTemplate::parse(template).unwrap();
            assert_eq!(t.render(*epoch, *batch, &l).unwrap(), *want, "{template}");
        }
    }

    #[test]
    fn rejects_bad_templates_when_parsing() {
        for bad in [
            "w{}.h5",
            "w{0}.h5",
            "w{epoch.real}.h5",
            "w{loss!r}.h5",
            "w{epoch.h5",
            "w}.h5",
            "w{loss:d}.h5",
        ] {
            assert!(
                FilepathTemplate::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn huge_widths_and_precisions_are_rejected_naming_the_placeholder() {
        // Before the bound these parsed; rendering then panicked (.70000f) or allocated 100 GB (99999999999d).
        let rows = [
            (
                "ck-{loss:.70000f}.h5",
                "loss:.70000f",
                "format spec '.70000f': precision 70000 exceeds the limit of 255",
            ),
            (
                "ck-{epoch:99999999999d}.h5",
                "epoch:99999999999d",
                "format spec '99999999999d': width 99999999999 exceeds the limit of 255",
            ),
        ];
        for (template, field, reason) in rows {
            let err = FilepathTemplate::parse(template).unwrap_err();
            assert_eq!(err.field.as_deref(), Some(field), "{template}");
            assert_eq!(err.reason, reason, "{template}");
        }
        // The largest allowed ones render, even for extreme values.
        let t = FilepathTemplate::parse("{epoch:0255d}-{loss:.255f}").unwrap();
        let name = t
            .render(usize::MAX, None, &logs(&[("loss", -f64::MAX)]))
            .unwrap();
        assert_eq!(name.len(), 255 + 1 + 1 + 309 + 1 + 255);
    }

    #[test]
    fn missing_key_lists_what_is_available() {
        let t = FilepathTemplate::parse("w-{val_acc:.2f}.h5").unwrap();
        let err = t
            .render(1, None, &logs(&[("loss", 1.0), ("val_accuracy", 0.5)]))
            .unwrap_err();
        assert_eq!(err.key, "val_acc");
        assert_eq!(err.available, ["epoch", "loss", "val_accuracy"]);
    }

    #[test]
    fn constant_prefix_stops_at_the_first_placeholder() {
        let t = FilepathTemplate::parse("runs/a/ep{epoch}/w.h5").unwrap();
        assert_eq!(t.constant_prefix(), "runs/a/ep");
        assert!(!t.is_constant());
        assert!(FilepathTemplate::parse("runs/a.h5").unwrap().is_constant());
    }
}
