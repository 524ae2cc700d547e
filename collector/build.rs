//! Embeds files the `haidang` binary carries so it runs from anywhere: the default mapping files
//! (`rules/mappings/*.yml`) and the web UI (`collector/ui/*`).

use std::fmt::Write as _;
use std::path::Path;

/// Writes `OUT_DIR/<output>`: a constant `<constant>` listing (file name, contents) of every file
/// in `directory` whose name passes `keep`.
fn embed(directory: &Path, keep: impl Fn(&str) -> bool, constant: &str, output: &str, documentation: &str) {
    println!("cargo::rerun-if-changed={}", directory.display());
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| keep(name))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut code = format!("/// {documentation}\npub(crate) const {constant}: &[(&str, &str)] = &[\n");
    for name in names {
        let path = directory.join(&name);
        println!("cargo::rerun-if-changed={}", path.display());
        let _ = writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join(output);
    std::fs::write(out, code).expect("write the embedded file list");
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    embed(
        &root.join("../rules/mappings"),
        |name| name.ends_with(".yml") || name.ends_with(".yaml"),
        "EMBEDDED_MAPPINGS",
        "embedded_mappings.rs",
        "The mapping files built into the binary: (file name, text).",
    );
    embed(
        &root.join("ui"),
        |name| {
            [".html", ".js", ".css", ".svg", ".json"]
                .iter()
                .any(|suffix| name.ends_with(suffix))
        },
        "UI_FILES",
        "ui_files.rs",
        "The web UI's files built into the binary: (file name, text).",
    );
}
