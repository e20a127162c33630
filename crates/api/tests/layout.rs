//! The layout of the API, the emulator, the terminal client and the SPA (issues #31, #33): no
//! two source files import each other,
//! directly or round a loop, so that each file can be read (and changed) knowing only what it
//! imports. A file imports another when it names an item the other defines: `crate::a::b`,
//! `super::x`, a `use` group, a child module's `child::item`, or a re-export (counted as the file
//! that defines the item). Inside an inline module (`mod tests { … }`), `super::` is its file.
//!
//! This reads the sources as text, which no crate does for us here: a Rust parser (`syn`) would
//! see items but not which file a path resolves to without a name resolver of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path (`["scim", "store"]`) and its file.
type Modules = BTreeMap<Vec<String>, PathBuf>;

fn modules(root: &Path) -> Modules {
    let mut found = Modules::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let relative = path.strip_prefix(root).unwrap().with_extension("");
            let mut module: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if module == ["main"] || path.extension().is_none_or(|e| e != "rs") {
                continue; // the binary is a crate of its own
            }
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            found.insert(module, path);
        }
    }
    found
}

/// The code without comments, with every string and character literal emptied, and with
/// `super::` in an inline module read as its file.
fn code(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            'r' if matches!(chars.peek(), Some('#' | '"'))
                && !out.ends_with(|c: char| c.is_alphanumeric() || c == '_') =>
            {
                let mut hashes = 0;
                while chars.peek() == Some(&'#') {
                    chars.next();
                    hashes += 1;
                }
                if chars.next() != Some('"') {
                    out.push('r');
                    continue;
                }
                let closing = format!("\"{}", "#".repeat(hashes));
                let mut text = String::new();
                for c in chars.by_ref() {
                    text.push(c);
                    if text.ends_with(&closing) {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            '\'' => {
                // A character literal ('x', '\n', '"'), or a lifetime ('a), kept as it is.
                let rest: String = chars.clone().take(12).collect();
                let literal = match rest.strip_prefix('\\') {
                    // '\n', '\'', '\u{…}': the escaped character, then up to the closing quote.
                    Some(escaped) => escaped.char_indices().skip(1).find(|&(_, c)| c == '\'').map(|(at, _)| at + 2),
                    None => (rest.chars().nth(1) == Some('\'')).then_some(2),
                };
                match literal {
                    Some(length) => {
                        for _ in 0..length {
                            chars.next();
                        }
                        out.push_str("' '");
                    }
                    None => out.push('\''),
                }
            }
            c => out.push(c),
        }
    }
    inline_modules_as_their_file(out)
}

/// Inside a module written in its file (`mod tests { … }`, `pub mod demo { … }`), `super::` is
/// that file: read as `self::`.
fn inline_modules_as_their_file(mut code: String) -> String {
    let mut from = 0;
    while let Some(at) = code[from..].find("mod ").map(|at| from + at) {
        from = at + 4;
        let declared = at == 0 || !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let rest = &code[from..];
        let name = rest.len() - rest.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_').len();
        if !declared || name == 0 || !rest[name..].trim_start().starts_with('{') {
            continue; // `mod x;`, or a word ending in `mod`
        }
        let open = from + name + rest[name..].find('{').unwrap();
        let mut depth = 0;
        let close = code[open..]
            .char_indices()
            .find_map(|(i, c)| {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                (depth == 0).then_some(open + i)
            })
            .unwrap_or(code.len());
        let inner = code[open..close].replace("super::", "self::");
        code.replace_range(open..close, &inner);
    }
    code
}

/// The paths a file's code names: `a::b::c` runs, with `use` groups expanded.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < bytes.len() {
        if !word(bytes[i]) || (i > 0 && (word(bytes[i - 1]) || bytes[i - 1] == ':')) {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while end < bytes.len() && (word(bytes[end]) || (bytes[end] == ':' && bytes.get(end + 1) == Some(&':'))) {
            end += if bytes[end] == ':' { 2 } else { 1 };
        }
        let path: String = bytes[start..end].iter().collect();
        if path.ends_with("::") && bytes.get(end) == Some(&'{') {
            // `prefix::{a, b::c, d::{e}}`: each member is prefix::member.
            let mut depth = 0;
            let mut close = end;
            for (k, c) in bytes.iter().enumerate().skip(end) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    close = k;
                    break;
                }
            }
            let inner: String = bytes[end + 1..close].iter().collect();
            found.extend(members(&inner).into_iter().map(|member| match member.as_str() {
                "self" => path.trim_end_matches("::").to_owned(),
                _ => format!("{path}{member}"),
            }));
            i = close + 1;
            continue;
        }
        if path.contains("::") {
            found.push(path.trim_end_matches("::").to_owned());
        }
        i = end.max(i + 1);
    }
    found
}

/// The members of a `use` group's braces, split at its top-level commas, without `as` renames;
/// a nested group is expanded.
fn members(group: &str) -> Vec<String> {
    let mut members = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (at, c) in group.char_indices().chain([(group.len(), ',')]) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let member = group[start..at].trim();
                let member = member.split(" as ").next().unwrap_or_default().trim();
                if member.contains('{') {
                    members.extend(paths(member));
                } else if !member.is_empty() {
                    members.push(member.to_owned());
                }
                start = at + 1;
            }
            _ => {}
        }
    }
    members
}

/// The file that `path`, named in `module`, leads to (the deepest module it names; a
/// re-exported item leads to where it is defined).
fn resolve(
    modules: &Modules,
    reexports: &BTreeMap<(Vec<String>, String), String>,
    module: &[String],
    path: &str,
    depth: usize,
) -> Option<Vec<String>> {
    let mut parts = path.split("::").peekable();
    let mut current: Vec<String> = match *parts.peek()? {
        "crate" => {
            parts.next();
            Vec::new()
        }
        "super" => {
            let mut base = module.to_vec();
            while parts.peek() == Some(&"super") {
                parts.next();
                base.pop()?;
            }
            base
        }
        "self" => {
            parts.next();
            module.to_vec()
        }
        child => {
            let mut child_module = module.to_vec();
            child_module.push(child.to_owned());
            if !modules.contains_key(&child_module) {
                return None;
            }
            module.to_vec()
        }
    };
    for part in parts {
        let mut next = current.clone();
        next.push(part.to_owned());
        if modules.contains_key(&next) {
            current = next;
            continue;
        }
        if depth < 8 && current != module {
            if let Some(origin) = reexports.get(&(current.clone(), part.to_owned())) {
                if let Some(found) = resolve(modules, reexports, &current, origin, depth + 1) {
                    return Some(found);
                }
            }
        }
        break;
    }
    Some(current)
}

/// Each file's imports, by module path.
fn imports(root: &Path) -> (Modules, BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) {
    let modules = modules(root);
    let codes: BTreeMap<_, _> =
        modules.iter().map(|(module, file)| (module.clone(), code(&std::fs::read_to_string(file).unwrap()))).collect();
    let mut reexports = BTreeMap::new();
    for (module, code) in &codes {
        for line in
            code.split(';').map(str::trim).filter(|l| l.starts_with("pub use ") || l.starts_with("pub(crate) use "))
        {
            let used = line.split_once("use ").unwrap().1;
            for path in paths(used) {
                if let Some((origin, name)) = path.rsplit_once("::") {
                    reexports.insert((module.clone(), name.to_owned()), format!("{origin}::{name}"));
                }
            }
        }
    }
    let graph = codes
        .iter()
        .map(|(module, code)| {
            let targets = paths(code)
                .iter()
                .filter_map(|path| resolve(&modules, &reexports, module, path, 0))
                .filter(|target| target != module)
                .collect();
            (module.clone(), targets)
        })
        .collect();
    (modules, graph)
}

/// A loop of imports, if there is one: the files in order.
fn a_cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        path: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some(path[at..].to_vec());
        }
        if !done.insert(node.clone()) {
            return None;
        }
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// `crate_dir` is the crate's folder, from the repository's root.
fn assert_no_cycle(crate_dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(crate_dir).join("src");
    let (modules, graph) = imports(&root);
    assert!(modules.len() > 6, "expected the sources of {crate_dir} (found {} files)", modules.len());
    if let Some(cycle) = a_cycle(&graph) {
        let files: Vec<String> =
            cycle.iter().map(|m| modules[m].strip_prefix(&root).unwrap().display().to_string()).collect();
        panic!("{crate_dir}: these files import each other in a loop: {} → back to the first", files.join(" → "));
    }
}

#[test]
fn no_two_files_of_the_api_import_each_other() {
    assert_no_cycle("crates/api");
}

#[test]
fn no_two_files_of_the_emulator_import_each_other() {
    assert_no_cycle("crates/emulator");
}

#[test]
fn no_two_files_of_the_terminal_client_import_each_other() {
    assert_no_cycle("crates/cli");
}

#[test]
fn no_two_files_of_the_spa_import_each_other() {
    assert_no_cycle(".");
}

/// The check sees a loop when there is one: two files made here that import each other, through
/// a `use` group and through a re-export.
#[test]
fn a_loop_of_imports_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub use b::Thing;\n");
    write("a.rs", "use crate::{Thing, b::other};\n// crate::b is only a comment\npub struct A;\n");
    write("b.rs", "pub struct Thing;\npub fn other() -> \"crate::a\" {}\n");
    let (_, graph) = imports(dir.path());
    assert_eq!(a_cycle(&graph), None, "a → b only: the comment and the string import nothing");
    write("b.rs", "pub struct Thing;\npub fn other() { let _ = super::a::A; }\n");
    let (_, graph) = imports(dir.path());
    let cycle = a_cycle(&graph).expect("a → b → a");
    assert_eq!(cycle.len(), 2, "{cycle:?}");
    write("b.rs", "pub struct Thing;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n");
    let (_, graph) = imports(dir.path());
    assert_eq!(a_cycle(&graph), None, "a test module's super is its own file");
}
