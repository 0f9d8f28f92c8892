//! `TensorBoard`: Keras 3's TensorBoard callback, writing the same event files with the same tags.
//!
//! Files go to `log_dir/train` and `log_dir/validation`, one `events.out.tfevents.*.v2` each, as TensorFlow 2's
//! summary writer lays them out (TFRecord framing with masked CRC-32C, `tensorflow.Event` protobufs). What is
//! written, with the step it is written at:
//!
//! | tag | file | step |
//! |---|---|---|
//! | `epoch_{key}` for each training log (`epoch_loss`, `epoch_accuracy`) | train | epoch (0-based) |
//! | `epoch_learning_rate`, `epoch_steps_per_second` | train | epoch |
//! | `epoch_{key}` for each `val_` log, prefix dropped | validation | epoch |
//! | `evaluation_{key}_vs_iterations` after each validation pass | validation | training batches so far |
//! | `batch_{key}`, `batch_steps_per_second` (`update_freq` a number or `"batch"`) | train | batches so far |
//! | `{model}/{layer}/{weight}/histogram` (`histogram_freq`) | train | epoch |
//! | `keras`: the model's config JSON (`write_graph`) | train | 0 |
//!
//! ```
//! use rkeras_callbacks::testing::{logs, simulate_fit, MockControl};
//! use rkeras_callbacks::{RunParams, TensorBoard};
//! let dir = tempfile::tempdir().unwrap();
//! let mut tb = TensorBoard::new(dir.path()).with_update_freq("batch").unwrap();
//! let params = RunParams { epochs: 1, steps: 2, ..RunParams::default() };
//! simulate_fit(&mut tb, &mut MockControl::new(0.1), &params, &[logs(&[("loss", 0.5), ("val_loss", 0.7)])]).unwrap();
//! let events = rkeras_callbacks::tensorboard::read_scalars(&dir.path().join("train")).unwrap();
//! assert!(events.contains(&("epoch_loss".to_string(), 0, 0.5)));
//! assert!(events.contains(&("epoch_learning_rate".to_string(), 0, 0.1)));
//! ```

pub mod event_writer;
pub mod proto;
mod reader;
pub mod record;
pub mod summary;

pub use event_writer::EventWriter;
pub use reader::{read_events, read_scalars};

use crate::callback::Callback;
use crate::control::{RunParams, TrainerControl};
use crate::error::{CallbackError, Result};
use crate::logs::Logs;
use std::path::{Path, PathBuf};
use std::time::Instant;

const NAME: &str = "TensorBoard";

/// How often batch-level values are written (Keras's `update_freq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateFreq {
    /// Only at the end of each epoch (`"epoch"`, the default).
    Epoch,
    /// Every `n` training batches (`"batch"` is 1).
    Batches(usize),
}

/// Keras's `TensorBoard(log_dir="logs", histogram_freq=0, write_graph=True, write_steps_per_second=False,
/// update_freq="epoch")`. `write_images`, `profile_batch` and the embeddings arguments are not supported.
#[derive(Debug)]
pub struct TensorBoard {
    log_dir: PathBuf,
    update_freq: UpdateFreq,
    histogram_freq: usize,
    write_graph: bool,
    write_steps_per_second: bool,
    train: Option<EventWriter>,
    validation: Option<EventWriter>,
    train_step: i64,
    in_fit: bool,
    epoch_start: Option<Instant>,
    epoch_batches: usize,
    batch_start: Option<Instant>,
}

impl TensorBoard {
    /// A callback logging under `log_dir`.
    pub fn new(log_dir: impl AsRef<Path>) -> Self {
        Self {
            log_dir: log_dir.as_ref().to_path_buf(),
            update_freq: UpdateFreq::Epoch,
            histogram_freq: 0,
            write_graph: true,
            write_steps_per_second: false,
            train: None,
            validation: None,
            train_step: 0,
            in_fit: false,
            epoch_start: None,
            epoch_batches: 0,
            batch_start: None,
        }
    }

    /// `"epoch"`, `"batch"` or a number of batches, as Keras takes it. Defaults to `"epoch"`.
    pub fn with_update_freq(mut self, update_freq: &str) -> Result<Self> {
        self.update_freq = match update_freq {
            "epoch" => UpdateFreq::Epoch,
            "batch" => UpdateFreq::Batches(1),
            n => match n.parse::<usize>() {
                Ok(n) if n > 0 => UpdateFreq::Batches(n),
                _ => {
                    return Err(CallbackError::InvalidArgument {
                        callback: NAME,
                        argument: "update_freq",
                        reason: format!(
                            "expected \"epoch\", \"batch\" or a positive integer; received {update_freq:?}"
                        ),
                    });
                }
            },
        };
        Ok(self)
    }

    /// Writes weight histograms every `freq` epochs (0: never). Defaults to 0.
    pub fn with_histogram_freq(mut self, freq: usize) -> Self {
        self.histogram_freq = freq;
        self
    }

    /// Writes the model's config for TensorBoard's graph tab. Defaults to true.
    pub fn with_write_graph(mut self, write_graph: bool) -> Self {
        self.write_graph = write_graph;
        self
    }

    /// Writes `epoch_steps_per_second` (and `batch_steps_per_second`). Defaults to false.
    pub fn with_write_steps_per_second(mut self, write: bool) -> Self {
        self.write_steps_per_second = write;
        self
    }

    /// The log directory.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// How often batch values are written.
    pub fn update_freq(&self) -> UpdateFreq {
        self.update_freq
    }

    fn train_writer(&mut self) -> Result<&mut EventWriter> {
        match &mut self.train {
            Some(w) => Ok(w),
            slot => Ok(slot.insert(EventWriter::create(&self.log_dir.join("train"))?)),
        }
    }

    fn validation_writer(&mut self) -> Result<&mut EventWriter> {
        match &mut self.validation {
            Some(w) => Ok(w),
            slot => Ok(slot.insert(EventWriter::create(&self.log_dir.join("validation"))?)),
        }
    }

    fn log_weights(&mut self, epoch: usize, ctl: &dyn TrainerControl) -> Result<()> {
        let names = ctl.weight_names();
        let weights = ctl.get_weights();
        let writer = self.train_writer()?;
        for (i, weight) in weights.iter().enumerate() {
            let name = names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("weight_{i}"));
            let data: Vec<f64> = weight.iter().map(|&v| f64::from(v)).collect();
            writer.write(
                epoch as i64,
                summary::histogram(
                    &format!("{name}/histogram"),
                    &data,
                    summary::DEFAULT_BUCKET_COUNT,
                ),
            )?;
        }
        Ok(())
    }
}

fn per_second(count: usize, since: Option<Instant>) -> Option<f32> {
    let seconds = since?.elapsed().as_secs_f64();
    (seconds > 0.0).then(|| (count as f64 / seconds) as f32)
}

impl Callback for TensorBoard {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_train_begin(&mut self, _params: &RunParams, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.in_fit = true;
        let graph = if self.write_graph {
            ctl.model_config()
        } else {
            None
        };
        let writer = self.train_writer()?;
        if let Some(config) = graph {
            writer.write(0, summary::keras_model(&config))?;
        }
        Ok(())
    }

    fn on_train_end(&mut self, _logs: &Logs, _ctl: &mut dyn TrainerControl) -> Result<()> {
        self.in_fit = false;
        Ok(())
    }

    fn on_epoch_begin(&mut self, _epoch: usize, _ctl: &mut dyn TrainerControl) -> Result<()> {
        self.epoch_start = Some(Instant::now());
        self.epoch_batches = 0;
        Ok(())
    }

    fn on_train_batch_begin(&mut self, _batch: usize, _ctl: &mut dyn TrainerControl) -> Result<()> {
        self.batch_start = Some(Instant::now());
        Ok(())
    }

    fn on_train_batch_end(
        &mut self,
        _batch: usize,
        logs: &Logs,
        _ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        self.train_step += 1;
        self.epoch_batches += 1;
        let UpdateFreq::Batches(n) = self.update_freq else {
            return Ok(());
        };
        if self.train_step % n as i64 != 0 {
            return Ok(());
        }
        let step = self.train_step;
        let rate = per_second(1, self.batch_start).filter(|_| self.write_steps_per_second);
        let writer = self.train_writer()?;
        if let Some(rate) = rate {
            writer.write(step, summary::scalar("batch_steps_per_second", rate))?;
        }
        for (key, value) in logs {
            writer.write(
                step,
                summary::scalar(&format!("batch_{key}"), *value as f32),
            )?;
        }
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        let step = epoch as i64;
        let rate = per_second(self.epoch_batches, self.epoch_start)
            .filter(|_| self.write_steps_per_second);
        let writer = self.train_writer()?;
        for (key, value) in logs.iter().filter(|(k, _)| !k.starts_with("val_")) {
            writer.write(
                step,
                summary::scalar(&format!("epoch_{key}"), *value as f32),
            )?;
        }
        if !logs.contains_key("learning_rate") {
            writer.write(
                step,
                summary::scalar("epoch_learning_rate", ctl.learning_rate() as f32),
            )?;
        }
        if let Some(rate) = rate {
            writer.write(step, summary::scalar("epoch_steps_per_second", rate))?;
        }
        let validation: Vec<(String, f64)> = logs
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("val_").map(|k| (k.to_string(), *v)))
            .collect();
        if !validation.is_empty() {
            let writer = self.validation_writer()?;
            for (key, value) in validation {
                writer.write(step, summary::scalar(&format!("epoch_{key}"), value as f32))?;
            }
        }
        if self.histogram_freq > 0 && epoch % self.histogram_freq == 0 {
            self.log_weights(epoch, ctl)?;
        }
        Ok(())
    }

    fn on_test_end(&mut self, logs: &Logs, _ctl: &mut dyn TrainerControl) -> Result<()> {
        if !self.in_fit {
            return Ok(());
        }
        let step = self.train_step;
        let writer = self.validation_writer()?;
        for (key, value) in logs {
            writer.write(
                step,
                summary::scalar(&format!("evaluation_{key}_vs_iterations"), *value as f32),
            )?;
        }
        Ok(())
    }
}
