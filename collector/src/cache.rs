//! The compile cache on disk: one file per pattern database, named by its content hash.

use std::path::PathBuf;

use haidang_detector::CompileCache;

/// Compiled databases kept in a directory. Writes go to a temporary file renamed into place, so
/// a crash never leaves a torn entry; an unreadable or stale entry is simply recompiled.
#[derive(Debug, Clone)]
pub struct DirectoryCache {
    directory: PathBuf,
}

impl DirectoryCache {
    /// A cache in `directory` (created when first written).
    pub fn new(directory: impl Into<PathBuf>) -> DirectoryCache {
        DirectoryCache {
            directory: directory.into(),
        }
    }

    /// The default place: `$HAIDANG_CACHE_DIR`, else `$XDG_CACHE_HOME/haidang`, else
    /// `~/.cache/haidang`, else `.haidang-cache`.
    pub fn default_directory() -> PathBuf {
        if let Some(directory) = std::env::var_os("HAIDANG_CACHE_DIR") {
            return PathBuf::from(directory);
        }
        if let Some(directory) = std::env::var_os("XDG_CACHE_HOME") {
            return PathBuf::from(directory).join("haidang");
        }
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(".cache").join("haidang");
        }
        PathBuf::from(".haidang-cache")
    }

    fn path(&self, key: &str) -> PathBuf {
        self.directory.join(format!("{key}.db"))
    }
}

impl CompileCache for DirectoryCache {
    fn load(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(key)).ok()
    }

    fn store(&self, key: &str, bytes: &[u8]) {
        let result = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(&self.directory)?;
            let temporary = self.directory.join(format!(".{key}.{}.tmp", std::process::id()));
            std::fs::write(&temporary, bytes)?;
            std::fs::rename(&temporary, self.path(key))
        })();
        if let Err(error) = result {
            eprintln!(
                "warning: cannot write compile cache in {}: {error}",
                self.directory.display()
            );
        }
    }
}
