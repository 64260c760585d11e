//! The documentation points at the code: every `[`name`](../src/file.rs#L12)` link in
//! `docs/how-it-works.md` and every `[`name`](src/file.rs#L12)` link in the README lands on a line
//! that mentions `name`, and every file the README links to exists. Moving code without updating
//! the docs fails here.

use std::path::Path;

fn links(text: &str) -> Vec<(String, String)> {
    // [`label`](target)
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("[`") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find("`](") else { break };
        let label = rest[..end].to_string();
        let after = &rest[end + 3..];
        let Some(close) = after.find(')') else { break };
        found.push((label, after[..close].to_string()));
        rest = &after[close..];
    }
    found
}

/// Checks every line link of the document `doc` (relative to the repository root); returns how
/// many links named code.
fn check_line_links(doc: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(doc)).unwrap();
    let folder = root.join(doc).parent().unwrap().to_path_buf();
    let mut checked = 0;
    for (label, target) in links(&text) {
        let Some((file, line)) = target.split_once("#L") else {
            continue;
        };
        let path = folder.join(file);
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{doc}: {label}: cannot read {}: {e}", path.display()));
        let line: usize = line.parse().unwrap();
        if label.ends_with(".rs") {
            // A link to a whole file: it exists, that is all.
            continue;
        }
        let text = source.lines().nth(line - 1).unwrap_or("");
        let name = label.rsplit("::").next().unwrap();
        assert!(
            text.contains(name),
            "{doc} links `{label}` to {file} line {line}, which reads: {text:?}; \
             run `python3 scripts/update_doc_anchors.py` after moving code"
        );
        checked += 1;
    }
    checked
}

#[test]
fn how_it_works_links_land_on_the_code_they_name() {
    let checked = check_line_links("docs/how-it-works.md");
    assert!(checked >= 20, "only {checked} code links found");
}

#[test]
fn the_readmes_formula_table_links_land_on_the_code_they_name() {
    let checked = check_line_links("README.md");
    assert!(checked >= 14, "only {checked} code links found");
}

#[test]
fn readme_links_point_at_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for (label, target) in links(&readme) {
        if target.starts_with("http") {
            continue;
        }
        let file = target.split('#').next().unwrap();
        assert!(
            root.join(file).exists(),
            "README links `{label}` to missing {file}"
        );
    }
}

/// Every `.rs` file under `dir`, read.
fn sources(dir: &Path, into: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_test_that_docs_reliability_names_exists() {
    // docs/reliability.md holds each promise by the tests named beside it, as
    // `module::test_name`; a renamed or deleted test must not leave a promise unheld.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/reliability.md")).unwrap();
    let mut code = String::new();
    for dir in ["src", "tests", "fuzz/fuzz_targets"] {
        sources(&root.join(dir), &mut code);
    }
    let mut named = 0;
    for quoted in doc.split('`').skip(1).step_by(2) {
        let Some((_, name)) = quoted.rsplit_once("::") else {
            continue;
        };
        // A test's name is a sentence: words joined by underscores.
        if name.matches('_').count() < 3
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            continue;
        }
        named += 1;
        assert!(
            code.contains(&format!("fn {name}(")),
            "docs/reliability.md names `{quoted}`, which no test is called"
        );
    }
    assert!(named >= 40, "only {named} tests named");
}
