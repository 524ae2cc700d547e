//! Finding the files the include and exclude globs name.
//!
//! Each include pattern is split into a literal directory prefix (its components up to the first
//! one with a glob metacharacter) and the rest; only that directory is walked, and only as deep as
//! the rest can reach (unbounded, up to [`MAX_DEPTH`], for `**` or braces). Every regular file
//! found (symbolic links followed) is kept if it matches an include pattern, matches no exclude
//! pattern, and does not look compressed.

use std::collections::{BTreeMap, HashSet};
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::SourceError;

/// How deep a `**` pattern is walked below its literal prefix.
const MAX_DEPTH: usize = 32;

/// Extensions of rotated, compressed logs: never tailed, even when a glob matches them.
const COMPRESSED_EXTENSIONS: &[&str] = &["gz", "tgz", "bz2", "xz", "lzma", "zst", "zip", "lz4", "7z"];

/// The compiled include and exclude patterns and the directories to walk.
#[derive(Debug)]
pub(super) struct Matcher {
    include: GlobSet,
    exclude: GlobSet,
    roots: Vec<Root>,
}

#[derive(Debug, PartialEq, Eq)]
struct Root {
    directory: PathBuf,
    /// How many levels below `directory` a match can be; `None` for unbounded.
    depth: Option<usize>,
}

/// A file the patterns name.
#[derive(Debug)]
pub(super) struct Found {
    pub(super) path: PathBuf,
    pub(super) metadata: Metadata,
}

impl Matcher {
    pub(super) fn new(include: &[String], exclude: &[String]) -> Result<Self, SourceError> {
        if include.is_empty() {
            return Err(SourceError::NoInclude);
        }
        let mut roots = Vec::new();
        for pattern in include {
            let root = root_of(pattern)?;
            if !roots.contains(&root) {
                roots.push(root);
            }
        }
        Ok(Self {
            include: glob_set(include)?,
            exclude: glob_set(exclude)?,
            roots,
        })
    }

    /// Whether `path` is a file this source should tail (its type is not checked here).
    pub(super) fn matches(&self, path: &Path) -> bool {
        self.include.is_match(path) && !self.exclude.is_match(path) && !is_compressed(path)
    }

    /// Every regular file the patterns name now, in path order. Directories that are missing or
    /// unreadable are skipped: a log directory may appear later.
    pub(super) fn discover(&self) -> Vec<Found> {
        let mut found = BTreeMap::new();
        for root in &self.roots {
            let mut visited = HashSet::new();
            self.walk(
                &root.directory,
                root.depth.unwrap_or(MAX_DEPTH),
                &mut visited,
                &mut found,
            );
        }
        found
            .into_iter()
            .map(|(path, metadata)| Found { path, metadata })
            .collect()
    }

    fn walk(
        &self,
        directory: &Path,
        depth: usize,
        visited: &mut HashSet<(u64, u64)>,
        found: &mut BTreeMap<PathBuf, Metadata>,
    ) {
        if depth == 0 {
            return;
        }
        let Ok(metadata) = std::fs::metadata(directory) else {
            return;
        };
        // A symbolic link cycle would otherwise be walked until MAX_DEPTH.
        if !visited.insert((metadata.dev(), metadata.ino())) {
            return;
        }
        let Ok(entries) = std::fs::read_dir(directory) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(metadata) = std::fs::metadata(&path) else {
                continue;
            };
            if metadata.is_dir() {
                self.walk(&path, depth - 1, visited, found);
            } else if metadata.is_file() && self.matches(&path) {
                found.entry(path).or_insert(metadata);
            }
        }
    }
}

/// Whether the file name ends with a compression extension (any case).
pub(super) fn is_compressed(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            COMPRESSED_EXTENSIONS
                .iter()
                .any(|compressed| extension.eq_ignore_ascii_case(compressed))
        })
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, SourceError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        if !pattern.starts_with('/') {
            return Err(SourceError::RelativeGlob {
                pattern: pattern.clone(),
            });
        }
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|source| SourceError::InvalidGlob {
                pattern: pattern.clone(),
                source,
            })?;
        builder.add(glob);
    }
    builder.build().map_err(|source| SourceError::InvalidGlob {
        pattern: patterns.join(", "),
        source,
    })
}

fn has_metacharacter(component: &str) -> bool {
    component.contains(['*', '?', '[', ']', '{', '}', '\\'])
}

/// The literal directory prefix of an absolute pattern and how deep below it matches can be.
fn root_of(pattern: &str) -> Result<Root, SourceError> {
    if !pattern.starts_with('/') {
        return Err(SourceError::RelativeGlob {
            pattern: pattern.to_owned(),
        });
    }
    let components: Vec<&str> = pattern.split('/').filter(|part| !part.is_empty()).collect();
    let literal = components
        .iter()
        .position(|component| has_metacharacter(component))
        .unwrap_or(components.len());
    // A fully literal pattern names a file: walk its parent directory, one level.
    let literal = literal.min(components.len().saturating_sub(1));
    let mut directory = PathBuf::from("/");
    directory.extend(&components[..literal]);
    let rest = &components[literal..];
    let unbounded = rest
        .iter()
        .any(|component| component.contains("**") || component.contains(['{', '}']));
    Ok(Root {
        directory,
        depth: if unbounded { None } else { Some(rest.len()) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_the_literal_prefix() {
        let root = root_of("/var/log/nginx/*access*").unwrap();
        assert_eq!(root.directory, PathBuf::from("/var/log/nginx"));
        assert_eq!(root.depth, Some(1));
        let root = root_of("/var/log/*/current").unwrap();
        assert_eq!(root.directory, PathBuf::from("/var/log"));
        assert_eq!(root.depth, Some(2));
        let root = root_of("/var/log/**/*.log").unwrap();
        assert_eq!((root.directory, root.depth), (PathBuf::from("/var/log"), None));
        let root = root_of("/var/log/syslog").unwrap();
        assert_eq!((root.directory, root.depth), (PathBuf::from("/var/log"), Some(1)));
        assert!(matches!(
            root_of("logs/*.log"),
            Err(SourceError::RelativeGlob { .. })
        ));
    }

    #[test]
    fn compressed_names_are_recognised() {
        assert!(is_compressed(Path::new("/var/log/app.log.1.gz")));
        assert!(is_compressed(Path::new("/var/log/app.log.2.ZST")));
        assert!(is_compressed(Path::new("/var/log/old.zip")));
        assert!(!is_compressed(Path::new("/var/log/app.log.1")));
        assert!(!is_compressed(Path::new("/var/log/gz")));
    }

    #[test]
    fn discover_applies_include_exclude_depth_and_compression() {
        let directory = tempfile::tempdir().unwrap();
        let base = directory.path();
        std::fs::create_dir_all(base.join("nginx/deep")).unwrap();
        for name in [
            "app.log",
            "app.log.1",
            "app.log.2.gz",
            "debug.log",
            "notes.txt",
            "nginx/site-access.log",
            "nginx/error.log",
            "nginx/deep/inner-access.log",
        ] {
            std::fs::write(base.join(name), b"x\n").unwrap();
        }
        let base_text = base.to_str().unwrap();
        let matcher = Matcher::new(
            &[
                format!("{base_text}/app.log*"),
                format!("{base_text}/*.log"),
                format!("{base_text}/nginx/*access*"),
            ],
            &[format!("{base_text}/debug.*")],
        )
        .unwrap();
        let found: Vec<String> = matcher
            .discover()
            .into_iter()
            .map(|found| {
                found
                    .path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(found, ["app.log", "app.log.1", "nginx/site-access.log"]);

        let recursive = Matcher::new(&[format!("{base_text}/**/*access*")], &[]).unwrap();
        assert_eq!(recursive.discover().len(), 2);
    }
}
