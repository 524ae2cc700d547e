//! Embeds the default mapping files (`rules/mappings/*.yml`) so `haidang` runs from anywhere.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/mappings");
    println!("cargo::rerun-if-changed={}", directory.display());
    let mut names: Vec<String> = std::fs::read_dir(&directory)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".yml") || name.ends_with(".yaml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut code = String::from(
        "/// The mapping files built into the binary: (file name, text).\npub(crate) const EMBEDDED_MAPPINGS: &[(&str, &str)] = &[\n",
    );
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
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_mappings.rs");
    std::fs::write(out, code).expect("write embedded_mappings.rs");
}
