//! Per-rank file names.

use std::path::{Path, PathBuf};

/// The file rank `rank` writes for `path`: `path` itself on rank 0, else `path` with `.rank<r>` before the
/// extension (`summary.json` → `summary.rank1.json`; no extension: `summary.rank1`).
///
/// ```
/// use rkeras_distributed::rank_path;
/// use std::path::Path;
/// assert_eq!(rank_path(Path::new("out/s.json"), 0), Path::new("out/s.json"));
/// assert_eq!(rank_path(Path::new("out/s.json"), 3), Path::new("out/s.rank3.json"));
/// assert_eq!(rank_path(Path::new("s"), 1), Path::new("s.rank1"));
/// ```
pub fn rank_path(path: &Path, rank: usize) -> PathBuf {
    if rank == 0 {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.rank{rank}.{}", ext.to_string_lossy()),
        None => format!("{stem}.rank{rank}"),
    };
    path.with_file_name(name)
}
