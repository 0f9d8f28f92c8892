//! `BackupAndRestore`: backs up the training state so that an interrupted `fit` resumes where it stopped.
//!
//! At every epoch end (or every N training batches) the state is saved through
//! [`TrainerControl::save_backup`] to `backup_dir/latest.backup`, overwriting the previous backup; the epoch
//! recorded is the number of epochs completed (a batch-level backup taken during epoch `e` records `e`, so that
//! epoch runs again, as in Keras). When `fit` starts and a backup exists, it is restored and training continues
//! from the recorded epoch ([`TrainerControl::set_initial_epoch`]). At the successful end of `fit` the backup is
//! deleted (and `backup_dir` too if that leaves it empty) unless `delete_checkpoint` is false.
//!
//! Contract with the training loop: `on_train_end` runs only when `fit` completes (including an early stop);
//! a run that ends in an error must skip it, which is what keeps the backup for the next run.
//!
//! ```
//! use rkeras_callbacks::testing::{logs, simulate_fit, MockControl};
//! use rkeras_callbacks::{BackupAndRestore, Callback, LambdaCallback, RunParams};
//! let dir = tempfile::tempdir().unwrap();
//! let epochs = vec![logs(&[("loss", 1.0)]); 5];
//! // The first run fails during epoch 3: the backup from the end of epoch 2 stays.
//! let mut backup = BackupAndRestore::new(dir.path().join("backup")).unwrap();
//! let crash = LambdaCallback::new().on_epoch_begin(|e| if e == 3 { Err("power cut") } else { Ok(()) });
//! let mut list = rkeras_callbacks::CallbackList::new();
//! list.push(&mut backup);
//! list.push(crash);
//! assert!(simulate_fit(&mut list, &mut MockControl::new(0.1), &RunParams::default(), &epochs).is_err());
//! drop(list);
//! // The second run resumes at epoch 3 and deletes the backup when it completes.
//! let ran = simulate_fit(&mut backup, &mut MockControl::new(0.1), &RunParams::default(), &epochs).unwrap();
//! assert_eq!(ran, [3, 4]);
//! assert!(!backup.backup_path().exists());
//! ```

use crate::callback::Callback;
use crate::control::{RunParams, TrainerControl};
use crate::error::{CallbackError, Result};
use crate::fs_check::ensure_writable_dir;
use crate::logs::Logs;
use crate::save_freq::{BatchCounter, SaveFreq};
use std::path::{Path, PathBuf};

const NAME: &str = "BackupAndRestore";

/// The backup's file name inside `backup_dir`.
pub const BACKUP_FILE: &str = "latest.backup";

/// Keras's `BackupAndRestore(backup_dir, save_freq="epoch", delete_checkpoint=True)`.
#[derive(Debug, Clone)]
pub struct BackupAndRestore {
    backup_dir: PathBuf,
    save_freq: SaveFreq,
    delete_checkpoint: bool,
    batches: BatchCounter,
    current_epoch: usize,
}

impl BackupAndRestore {
    /// Backs up into `backup_dir`; an empty path is an error. The directory must not be shared with other runs
    /// or callbacks.
    pub fn new(backup_dir: impl AsRef<Path>) -> Result<Self> {
        let backup_dir = backup_dir.as_ref().to_path_buf();
        if backup_dir.as_os_str().is_empty() {
            return Err(CallbackError::InvalidArgument {
                callback: NAME,
                argument: "backup_dir",
                reason: "empty `backup_dir` argument passed".to_string(),
            });
        }
        Ok(Self {
            backup_dir,
            save_freq: SaveFreq::Epoch,
            delete_checkpoint: true,
            batches: BatchCounter::default(),
            current_epoch: 0,
        })
    }

    /// [`SaveFreq::Epoch`] (the default) or [`SaveFreq::Batches`]`(n)` with `n > 0`.
    pub fn with_save_freq(mut self, save_freq: SaveFreq) -> Result<Self> {
        self.save_freq = save_freq
            .validate()
            .map_err(|reason| CallbackError::InvalidArgument {
                callback: NAME,
                argument: "save_freq",
                reason,
            })?;
        Ok(self)
    }

    /// Delete the backup when `fit` completes. Defaults to true.
    pub fn with_delete_checkpoint(mut self, delete_checkpoint: bool) -> Self {
        self.delete_checkpoint = delete_checkpoint;
        self
    }

    /// Where the backup is written.
    pub fn backup_path(&self) -> PathBuf {
        self.backup_dir.join(BACKUP_FILE)
    }

    fn save(&self, ctl: &mut dyn TrainerControl) -> Result<()> {
        ctl.save_backup(&self.backup_path(), self.current_epoch)
    }

    fn io_error(&self, path: PathBuf, source: std::io::Error) -> CallbackError {
        CallbackError::Io {
            callback: NAME,
            path,
            source,
        }
    }
}

impl Callback for BackupAndRestore {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_train_begin(&mut self, _params: &RunParams, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.batches = BatchCounter::default();
        self.current_epoch = 0;
        let path = self.backup_path();
        if path.is_file() {
            let epoch = ctl.restore_backup(&path)?;
            self.current_epoch = epoch;
            ctl.set_initial_epoch(epoch);
        }
        ensure_writable_dir(NAME, &self.backup_dir)
    }

    fn on_epoch_begin(&mut self, epoch: usize, _ctl: &mut dyn TrainerControl) -> Result<()> {
        self.current_epoch = epoch;
        Ok(())
    }

    fn saves_within_epoch(&self) -> bool {
        matches!(self.save_freq, SaveFreq::Batches(_))
    }

    fn on_train_batch_end(
        &mut self,
        batch: usize,
        _logs: &Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        if let SaveFreq::Batches(every) = self.save_freq {
            if self.batches.should_save(batch, every) {
                self.save(ctl)?;
            }
        }
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        _logs: &mut Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        self.current_epoch = epoch + 1;
        self.batches.last_batch_seen = 0;
        match self.save_freq {
            SaveFreq::Batches(_) => Ok(()),
            SaveFreq::Epoch | SaveFreq::Epochs(_) => self.save(ctl),
        }
    }

    fn on_train_end(&mut self, _logs: &Logs, _ctl: &mut dyn TrainerControl) -> Result<()> {
        if !self.delete_checkpoint {
            return Ok(());
        }
        let path = self.backup_path();
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| self.io_error(path, e))?;
        }
        // Remove the directory only if nothing else is in it.
        let empty = std::fs::read_dir(&self.backup_dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if empty {
            std::fs::remove_dir(&self.backup_dir)
                .map_err(|e| self.io_error(self.backup_dir.clone(), e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MockControl, logs, simulate_fit};

    fn epochs(n: usize) -> Vec<Logs> {
        vec![logs(&[("loss", 1.0)]); n]
    }

    #[test]
    fn saves_after_every_epoch_with_the_epochs_completed() {
        let dir = tempfile::tempdir().unwrap();
        let mut backup = BackupAndRestore::new(dir.path().join("b"))
            .unwrap()
            .with_delete_checkpoint(false);
        let mut ctl = MockControl::new(0.1);
        simulate_fit(&mut backup, &mut ctl, &RunParams::default(), &epochs(3)).unwrap();
        let recorded: Vec<usize> = ctl.backups.iter().map(|(_, e)| *e).collect();
        assert_eq!(recorded, [1, 2, 3]);
        assert!(ctl.backups.iter().all(|(p, _)| *p == backup.backup_path()));
        assert!(
            backup.backup_path().exists(),
            "delete_checkpoint=false keeps the backup"
        );
        // A later run restores it and, all epochs being done, runs none.
        let mut ctl = MockControl::new(0.1);
        let ran = simulate_fit(&mut backup, &mut ctl, &RunParams::default(), &epochs(3)).unwrap();
        assert!(ran.is_empty());
        assert_eq!(ctl.initial_epoch, Some(3));
    }

    #[test]
    fn saves_within_an_epoch_only_with_a_save_freq_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            !BackupAndRestore::new(dir.path())
                .unwrap()
                .saves_within_epoch()
        );
        let batches = BackupAndRestore::new(dir.path())
            .unwrap()
            .with_save_freq(SaveFreq::Batches(3))
            .unwrap();
        assert!(batches.saves_within_epoch());
    }

    #[test]
    fn batch_level_backups_rerun_the_interrupted_epoch() {
        // 4 batches per epoch, backup every 3 batches: saved during epoch 0 (batch 2) and epoch 1 (batch 1).
        let dir = tempfile::tempdir().unwrap();
        let mut backup = BackupAndRestore::new(dir.path())
            .unwrap()
            .with_save_freq(SaveFreq::Batches(3))
            .unwrap();
        let mut ctl = MockControl::new(0.1);
        let params = RunParams {
            steps: 4,
            ..RunParams::default()
        };
        // Stop the run by hand after epoch 1's batches, without on_train_end (an interruption).
        backup.on_train_begin(&params, &mut ctl).unwrap();
        for epoch in 0..2 {
            backup.on_epoch_begin(epoch, &mut ctl).unwrap();
            for batch in 0..4 {
                backup
                    .on_train_batch_end(batch, &Logs::new(), &mut ctl)
                    .unwrap();
            }
            if epoch == 0 {
                backup
                    .on_epoch_end(epoch, &mut Logs::new(), &mut ctl)
                    .unwrap();
            }
        }
        let recorded: Vec<usize> = ctl.backups.iter().map(|(_, e)| *e).collect();
        assert_eq!(recorded, [0, 1], "taken during epochs 0 and 1");
        let mut resumed = MockControl::new(0.1);
        let ran = simulate_fit(&mut backup, &mut resumed, &params, &epochs(3)).unwrap();
        assert_eq!(ran, [1, 2], "epoch 1 was interrupted: it runs again");
    }

    #[test]
    fn bad_arguments_and_unwritable_directories_are_errors() {
        assert!(BackupAndRestore::new("").is_err());
        assert!(
            BackupAndRestore::new("b")
                .unwrap()
                .with_save_freq(SaveFreq::Batches(0))
                .is_err()
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let mut backup = BackupAndRestore::new(file.join("b")).unwrap();
        let err = backup
            .on_train_begin(&RunParams::default(), &mut MockControl::new(0.1))
            .unwrap_err();
        assert!(matches!(err, CallbackError::Path { .. }), "{err}");
    }

    #[test]
    fn deletion_leaves_other_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "keep").unwrap();
        let mut backup = BackupAndRestore::new(dir.path()).unwrap();
        simulate_fit(
            &mut backup,
            &mut MockControl::new(0.1),
            &RunParams::default(),
            &epochs(2),
        )
        .unwrap();
        assert!(!backup.backup_path().exists());
        assert!(dir.path().join("notes.txt").exists());
    }
}
