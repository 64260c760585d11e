//! The house keeps its shape: no import circle between the library's top-level modules, nor
//! between the binary's; the maths knows no engine; no source file past 900 lines.
//!
//! Imports are read from the source text: `crate::name` in any line of code (comments, where
//! doc links name other modules freely, are skipped), and `super::` in a folder's files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest source file allowed.
const MAX_LINES: usize = 900;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `module -> modules it imports`, for the top-level modules under `dir` (its files and
/// folders), read from `crate::name` in lines of code.
fn import_graph(dir: &Path, skip: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(dir).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = Path::new(first)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        if skip.contains(&module.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let imports = graph.entry(module.clone()).or_default();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let name: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    imports.insert(name);
                }
            }
        }
    }
    graph
}

/// A circle in `graph`, as the path around it, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_librarys_top_level_modules_import_in_one_direction() {
    let graph = import_graph(&root().join("src"), &["lib", "bin"]);
    assert!(graph.len() > 10, "read {} modules", graph.len());
    if let Some(circle) = find_circle(&graph) {
        panic!("import circle: {}", circle.join(" -> "));
    }
}

#[test]
fn the_maths_knows_no_engine_and_no_application() {
    let graph = import_graph(&root().join("src"), &["lib", "bin"]);
    let below = ["error", "matrix", "nn"];
    for import in &graph["nn"] {
        assert!(below.contains(&import.as_str()), "nn imports {import}");
    }
    for engine in ["cpu", "cuda"] {
        assert!(
            !graph["engine"].contains(engine),
            "the seam must not know its engines"
        );
        assert!(
            !graph["train"].contains(engine),
            "the loop must not know {engine}"
        );
    }
}

#[test]
fn the_binarys_modules_import_in_one_direction() {
    let graph = import_graph(&root().join("src/bin/ziffer"), &[]);
    assert!(graph.contains_key("commands"), "{graph:?}");
    if let Some(circle) = find_circle(&graph) {
        panic!("import circle in the binary: {}", circle.join(" -> "));
    }
}

#[test]
fn no_source_file_is_over_900_lines() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples"] {
        rust_files(&root().join(dir), &mut files);
    }
    let long: Vec<String> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).unwrap().lines().count()))
        .filter(|&(_, lines)| lines > MAX_LINES)
        .map(|(f, lines)| {
            format!(
                "{} ({lines} lines)",
                f.strip_prefix(root()).unwrap().display()
            )
        })
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines: {}",
        long.join(", ")
    );
}

#[test]
fn a_circle_is_found_where_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(find_circle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let mut line = graph.clone();
    line.get_mut("c").unwrap().clear();
    assert_eq!(find_circle(&line), None);
}
