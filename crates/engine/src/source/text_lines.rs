//! [`TextLines`]: a text file read lazily, a batch of lines at a time.

use super::Batch;
use crate::error::{EngineError, Result};
use ndarray::{Array2, ArrayD};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Turns one line into a sample's input and target values.
pub type ParseLine =
    Box<dyn FnMut(&str) -> std::result::Result<(Vec<f32>, Vec<f32>), String> + Send>;

/// A generator over a text file: each non-empty line is one sample, parsed by a function into its input and
/// target values (the same count on every line); `batch_size` lines make a batch of shapes `[batch, inputs]`
/// and `[batch, targets]`. Only the lines of the batch being built are in memory. A line that does not parse
/// stops the run with an error naming the file and the line number.
///
/// ```
/// use rkeras_engine::source::TextLines;
/// let path = std::env::temp_dir().join("rkeras_text_lines_doc.csv");
/// std::fs::write(&path, "1,2,0\n3,4,1\n5,6,1\n")?;
/// let parse = |line: &str| {
///     let v: Vec<f32> = line.split(',').map(|t| t.parse().map_err(|e| format!("{e}"))).collect::<Result<_, _>>()?;
///     Ok((v[..2].to_vec(), v[2..].to_vec()))
/// };
/// let batches: Vec<_> = TextLines::open(&path, 2, parse)?.collect::<Result<_, _>>()?;
/// assert_eq!(batches.len(), 2);
/// assert_eq!(batches[1].x[0].shape(), &[1, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TextLines {
    path: PathBuf,
    lines: std::io::Lines<std::io::BufReader<std::fs::File>>,
    line_number: usize,
    batch_size: usize,
    parse: ParseLine,
    widths: Option<(usize, usize)>,
    failed: bool,
}

impl TextLines {
    /// Opens `path`; nothing is read until the first batch is asked for.
    pub fn open(
        path: impl AsRef<Path>,
        batch_size: usize,
        parse: impl FnMut(&str) -> std::result::Result<(Vec<f32>, Vec<f32>), String> + Send + 'static,
    ) -> Result<Self> {
        crate::data::check_batch_size(batch_size)?;
        let path = path.as_ref().to_path_buf();
        let file = std::fs::File::open(&path).map_err(|e| EngineError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(TextLines {
            path,
            lines: std::io::BufReader::new(file).lines(),
            line_number: 0,
            batch_size,
            parse: Box::new(parse),
            widths: None,
            failed: false,
        })
    }

    fn error(&self, reason: impl std::fmt::Display) -> EngineError {
        EngineError::File {
            path: self.path.display().to_string(),
            reason: format!("line {}: {reason}", self.line_number),
        }
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let (mut xs, mut ys, mut rows) = (Vec::new(), Vec::new(), 0);
        while rows < self.batch_size {
            let Some(line) = self.lines.next() else { break };
            self.line_number += 1;
            let line = line.map_err(|e| self.error(e))?;
            if line.trim().is_empty() {
                continue;
            }
            let (x, y) = (self.parse)(&line).map_err(|e| self.error(e))?;
            let widths = *self.widths.get_or_insert((x.len(), y.len()));
            if (x.len(), y.len()) != widths {
                return Err(self.error(format!(
                    "{} input and {} target values, the first line had {} and {}",
                    x.len(),
                    y.len(),
                    widths.0,
                    widths.1
                )));
            }
            xs.extend(x);
            ys.extend(y);
            rows += 1;
        }
        let Some((x_width, y_width)) = self.widths.filter(|_| rows > 0) else {
            return Ok(None);
        };
        let stack = |values: Vec<f32>, width: usize| -> Result<ArrayD<f32>> {
            Array2::from_shape_vec((rows, width), values)
                .map(|a| a.into_dyn())
                .map_err(|e| self.error(e))
        };
        Ok(Some(Batch::new(
            vec![stack(xs, x_width)?],
            stack(ys, y_width)?,
        )))
    }
}

impl Iterator for TextLines {
    type Item = Result<Batch>;
    fn next(&mut self) -> Option<Result<Batch>> {
        if self.failed {
            return None;
        }
        let item = self.next_batch().transpose();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}
