//! The dependency rules between workspace crates, checked from `cargo metadata`.

use std::process::Command;

fn workspace_dependencies() -> Vec<(String, Vec<String>)> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let names: Vec<&str> = packages
        .iter()
        .filter_map(|package| package["name"].as_str())
        .collect();
    packages
        .iter()
        .map(|package| {
            let name = package["name"].as_str().unwrap_or_default().to_owned();
            let dependencies = package["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|dependency| dependency["kind"].is_null())
                .filter_map(|dependency| dependency["name"].as_str())
                .filter(|dependency| names.contains(dependency))
                .map(str::to_owned)
                .collect();
            (name, dependencies)
        })
        .collect()
}

fn dependencies_of(name: &str) -> Vec<String> {
    workspace_dependencies()
        .into_iter()
        .find(|(package, _)| package == name)
        .map(|(_, dependencies)| dependencies)
        .unwrap_or_else(|| panic!("package {name} exists"))
}

#[test]
fn event_depends_on_no_workspace_crate_and_no_runtime() {
    assert!(dependencies_of("haidang-event").is_empty());
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../event/Cargo.toml"))
        .unwrap_or_default();
    assert!(!manifest.contains("tokio"), "event must not use tokio");
}

#[test]
fn detector_depends_only_on_event() {
    assert_eq!(
        dependencies_of("haidang-detector"),
        vec!["haidang-event".to_owned()]
    );
}

#[test]
fn agent_never_depends_on_detector_or_collector() {
    let dependencies = dependencies_of("haidang-agent");
    assert!(
        !dependencies
            .iter()
            .any(|name| name == "haidang-detector" || name == "haidang-collector"),
        "{dependencies:?}"
    );
}

#[test]
fn collector_depends_on_event_and_detector() {
    let mut dependencies = dependencies_of("haidang-collector");
    dependencies.sort();
    assert_eq!(
        dependencies,
        vec!["haidang-detector".to_owned(), "haidang-event".to_owned()]
    );
}
