//! A configuration file kept parsed and re-read when it changes: its modification time, size
//! or inode differs from the last read. A missing or unreadable file reads as empty text.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

/// A file's parsed contents, reparsed by [`Watched::get`] when the file changed.
#[derive(Debug)]
pub(crate) struct Watched<T> {
    path: PathBuf,
    /// `None` before the first read; `Some(None)` when the file was missing.
    stamp: Option<Option<Stamp>>,
    value: Arc<T>,
    parse: fn(&str) -> T,
}

impl<T: Default> Watched<T> {
    pub(crate) fn new(path: PathBuf, parse: fn(&str) -> T) -> Self {
        Watched {
            path,
            stamp: None,
            value: Arc::new(T::default()),
            parse,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The contents, re-read first if the file changed since the last call (one `stat`).
    pub(crate) fn get(&mut self) -> Arc<T> {
        let now = std::fs::metadata(&self.path).ok().map(|m| Stamp {
            modified: m.modified().ok(),
            len: m.len(),
            inode: m.ino(),
        });
        if self.stamp != Some(now) {
            let text = now
                .and_then(|_| std::fs::read_to_string(&self.path).ok())
                .unwrap_or_default();
            self.value = Arc::new((self.parse)(&text));
            self.stamp = Some(now);
        }
        Arc::clone(&self.value)
    }
}
