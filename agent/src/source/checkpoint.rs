//! File checkpoints, their atomic storage, and the fingerprints that identify a file.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Where reading of one file resumes: the position just after the last record the source
/// returned, and what identifies the file (device, inode and a fingerprint of its first
/// `fingerprint_len` bytes).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FileCheckpoint {
    /// The path the file was last seen at (a rotated file may have been renamed since).
    pub path: String,
    /// The device holding the file (`st_dev`).
    pub device: u64,
    /// The file's inode number (`st_ino`).
    pub inode: u64,
    /// The first 8 bytes (little-endian) of the BLAKE3 hash of the file's first
    /// `fingerprint_len` bytes.
    pub fingerprint: u64,
    /// How many leading bytes `fingerprint` covers: the configured fingerprint size, or less if
    /// the file was shorter when it was fingerprinted.
    pub fingerprint_len: u32,
    /// The byte offset just after the last returned record.
    pub offset: u64,
}

/// The checkpoint file's layout; `version` lets a later agent read an older file.
#[derive(Serialize, Deserialize)]
struct CheckpointFile {
    version: u32,
    files: Vec<FileCheckpoint>,
}

const CHECKPOINT_VERSION: u32 = 1;

/// Writes `checkpoints` to `path` atomically: a temporary file next to it is written and
/// synced, renamed over `path`, and the directory is synced. A crash at any point leaves either
/// the previous file or the new one, never a mix.
pub fn save_checkpoints(path: &Path, checkpoints: &[FileCheckpoint]) -> io::Result<()> {
    let document = CheckpointFile {
        version: CHECKPOINT_VERSION,
        files: checkpoints.to_vec(),
    };
    let bytes = serde_json::to_vec_pretty(&document).map_err(io::Error::other)?;
    let temporary = temporary_path(path);
    let mut file = File::create(&temporary)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)?.sync_all()
}

/// Reads checkpoints saved by [`save_checkpoints`]. A missing file means no checkpoints; a file
/// that cannot be parsed is an `InvalidData` error (never silently empty, which would re-read or
/// skip everything).
pub fn load_checkpoints(path: &Path) -> io::Result<Vec<FileCheckpoint>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let document: CheckpointFile = serde_json::from_slice(&bytes).map_err(|error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("checkpoint file {}: {error}", path.display()),
        )
    })?;
    if document.version != CHECKPOINT_VERSION {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "checkpoint file {}: unsupported version {}",
                path.display(),
                document.version
            ),
        ));
    }
    Ok(document.files)
}

fn temporary_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// A file's fingerprint: a hash of its first `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Fingerprint {
    pub(super) hash: u64,
    pub(super) len: u32,
}

impl Fingerprint {
    /// Fingerprints the first `limit` bytes of `file` (fewer if the file is shorter).
    pub(super) fn of(file: &File, limit: usize) -> io::Result<Self> {
        let prefix = read_prefix(file, limit)?;
        Ok(Self::of_bytes(&prefix))
    }

    /// The fingerprint hash of `bytes`, for tests that forge checkpoints.
    #[cfg(test)]
    pub(super) fn of_test(bytes: &[u8]) -> u64 {
        Self::of_bytes(bytes).hash
    }

    fn of_bytes(bytes: &[u8]) -> Self {
        let digest = blake3::hash(bytes);
        let mut first = [0_u8; 8];
        first.copy_from_slice(&digest.as_bytes()[..8]);
        Self {
            hash: u64::from_le_bytes(first),
            len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
        }
    }

    /// Whether `file` still starts with the bytes this fingerprint was taken from. A file now
    /// shorter than the fingerprinted prefix does not match.
    pub(super) fn matches(&self, file: &File) -> io::Result<bool> {
        let wanted = self.len as usize;
        let prefix = read_prefix(file, wanted)?;
        Ok(prefix.len() == wanted && Self::of_bytes(&prefix) == *self)
    }
}

fn read_prefix(file: &File, limit: usize) -> io::Result<Vec<u8>> {
    let mut buffer = vec![0_u8; limit];
    let mut filled = 0;
    while filled < limit {
        match file.read_at(&mut buffer[filled..], filled as u64) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    buffer.truncate(filled);
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<FileCheckpoint> {
        vec![FileCheckpoint {
            path: "/var/log/app.log".into(),
            device: 2049,
            inode: 1234,
            fingerprint: 42,
            fingerprint_len: 256,
            offset: 1000,
        }]
    }

    #[test]
    fn checkpoints_round_trip() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("checkpoints.json");
        save_checkpoints(&path, &sample()).unwrap();
        assert_eq!(load_checkpoints(&path).unwrap(), sample());
        assert!(!temporary_path(&path).exists());
    }

    #[test]
    fn missing_checkpoint_file_is_empty() {
        let directory = tempfile::tempdir().unwrap();
        assert!(
            load_checkpoints(&directory.path().join("none.json"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn crash_leaving_temporary_file_keeps_previous_checkpoints() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("checkpoints.json");
        save_checkpoints(&path, &sample()).unwrap();
        // A crash mid-save leaves a half-written temporary file and the old file in place.
        std::fs::write(temporary_path(&path), b"{\"version\":1,\"files\":[{\"pa").unwrap();
        assert_eq!(load_checkpoints(&path).unwrap(), sample());
        // The next save replaces the leftover.
        let mut newer = sample();
        newer[0].offset = 2000;
        save_checkpoints(&path, &newer).unwrap();
        assert_eq!(load_checkpoints(&path).unwrap(), newer);
    }

    #[test]
    fn corrupt_checkpoint_file_is_an_error() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("checkpoints.json");
        std::fs::write(&path, b"not json").unwrap();
        let error = load_checkpoints(&path).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn fingerprint_of_a_growing_file_still_matches() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("grow.log");
        std::fs::write(&path, b"short\n").unwrap();
        let fingerprint = Fingerprint::of(&File::open(&path).unwrap(), 256).unwrap();
        assert_eq!(fingerprint.len, 6);
        std::fs::write(&path, b"short\nand longer now\n").unwrap();
        assert!(fingerprint.matches(&File::open(&path).unwrap()).unwrap());
        std::fs::write(&path, b"other\nand longer now\n").unwrap();
        assert!(!fingerprint.matches(&File::open(&path).unwrap()).unwrap());
        std::fs::write(&path, b"sho").unwrap();
        assert!(!fingerprint.matches(&File::open(&path).unwrap()).unwrap());
    }
}
