//! Reading rule directories and mapping files.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use haidang_detector::{Mappings, RuleSource};

include!(concat!(env!("OUT_DIR"), "/embedded_mappings.rs"));

/// Rule files read from disk, and those that could not be read.
#[derive(Debug, Default)]
pub struct LoadedRules {
    /// Readable rule files.
    pub sources: Vec<RuleSource>,
    /// Files that could not be read, with the reason.
    pub unreadable: Vec<(String, String)>,
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|extension| extension.to_str()),
        Some("yml" | "yaml")
    )
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_files(&entry, out)?;
        } else if is_yaml(&entry) {
            out.push(entry);
        }
    }
    Ok(())
}

/// Reads every `.yml`/`.yaml` file under the given files and directories, in path order.
pub fn load_rules(paths: &[PathBuf]) -> anyhow::Result<LoadedRules> {
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, &mut files)
            .with_context(|| format!("cannot read rule directory {}", path.display()))?;
    }
    let mut loaded = LoadedRules::default();
    for file in files {
        let name = file.display().to_string();
        match std::fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => loaded.sources.push(RuleSource { name, text }),
                Err(_) => loaded
                    .unreadable
                    .push((name, "the file is not UTF-8 text".to_owned())),
            },
            Err(error) => loaded.unreadable.push((name, format!("cannot read: {error}"))),
        }
    }
    Ok(loaded)
}

/// The built-in mappings, loaded once (used to name the fields of JSON lines during parsing).
pub(crate) fn embedded_mappings() -> &'static Mappings {
    static MAPPINGS: std::sync::OnceLock<Mappings> = std::sync::OnceLock::new();
    MAPPINGS.get_or_init(|| Mappings::from_files(EMBEDDED_MAPPINGS.iter().copied()).unwrap_or_default())
}

/// Loads mapping files from a directory, or the built-in ones when `directory` is `None`.
pub fn load_mappings(directory: Option<&Path>) -> anyhow::Result<Mappings> {
    let Some(directory) = directory else {
        return Mappings::from_files(EMBEDDED_MAPPINGS.iter().copied()).context("built-in mapping files");
    };
    let mut files = Vec::new();
    collect_files(directory, &mut files)
        .with_context(|| format!("cannot read mapping directory {}", directory.display()))?;
    let mut texts = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read mapping file {}", file.display()))?;
        texts.push((file.display().to_string(), text));
    }
    Ok(Mappings::from_files(
        texts.iter().map(|(name, text)| (name.as_str(), text.as_str())),
    )?)
}
