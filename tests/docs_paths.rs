//! Every path named in docs/ (and the README files) or in a module comment
//! (`//!`) exists, so a reader who follows one lands somewhere.
//!
//! A path is a word ending in a file extension the project uses (`.rs`,
//! `.md`, `.toml`, `.sh`, `.go`, `.svg`, ...) or a word with a `/` that
//! ends in `/`. It must resolve from the repository's root, from the
//! directory of the file that names it, from that file's crate (its
//! `Cargo.toml`'s directory) or that crate's `src/`, or be the tail of a
//! path in the tree (`sched/idle.rs` names `runtime/src/sched/idle.rs`,
//! as the docs write module paths); a bare file name (`park.rs`) must be
//! the name of some file in the repository. Words that are not paths here
//! are skipped: absolute paths, URLs, patterns (`*`, `{a,b}`), generated
//! output under `target/` and bare names of output files (`t.html`,
//! `report.svg`), Go's sources (a `.go` path is checked only when
//! it starts with a directory of this tree that holds Go files, such as
//! sched-bench's: Go's own files are named all over the Go ports), the
//! project's shared folder beside the tree (`../shared/API.md`), and
//! the few names of files in other projects listed in [`ELSEWHERE`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Files of other projects that the text names on purpose (Go's runtime,
/// crates weft learned from). A path here must not exist in this tree.
const ELSEWHERE: &[&str] = &[
    // Go's runtime, src/runtime/...
    "proc.go",
    "chan.go",
    "select.go",
    "sema.go",
    "time.go",
    "netpoll.go",
    "netpoll_epoll.go",
    "runtime2.go",
    "lockrank.go",
    "mklockrank.go",
    "stack.go",
    "trace.go",
    "runtime/HACKING.md",
    "runtime/proc.go",
    "runtime/netpoll.go",
    "runtime/netpoll_epoll.go",
    "runtime/chan.go",
    "runtime/select.go",
    "runtime/sema.go",
    "runtime/time.go",
    "runtime/stack.go",
    "runtime/lockrank.go",
    "runtime/trace.go",
    "runtime/mklockrank.go",
    "src/runtime/proc.go",
    "internal/trace/",
    // rayon, tokio, crossbeam, async-task
    "sleep/README.md",
    "sleep/counters.rs",
    "multi_thread/idle.rs",
    "batch_semaphore.rs",
    "state.rs",
    "tests/stack_overflow_crash.rs",
    // The project's shared folder, beside the tree (shared/API.md).
    "API.md",
];

/// Paths another branch brings, named ahead of its merge. Each line goes
/// when that branch lands (the test then checks the path as any other).
const COMING: &[&str] = &[];

/// Whether `path` (or the bare name of it a link in docs/ uses) is in
/// [`COMING`].
fn coming(path: &str) -> bool {
    COMING
        .iter()
        .any(|c| *c == path || c.ends_with(&format!("/{path}")))
}

/// Extensions of files that programs write (traces, pictures, reports):
/// a bare name with one of these, as in `WEFT_TRACE=t.html`, is the
/// output of a command, not a file of the tree.
const OUTPUTS: &[&str] = &[".html", ".json", ".svg", ".png"];

const EXTENSIONS: &[&str] = &[
    "rs", "md", "toml", "sh", "go", "mod", "svg", "html", "json", "py", "txt", "yml", "yaml", "png",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file of the tree `walk` reads, and the set of their file names.
fn tree() -> (Vec<PathBuf>, HashSet<String>) {
    let mut files = Vec::new();
    walk(&root(), &mut files);
    let names = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    (files, names)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The words of `text` that look like paths (see the module comment).
fn paths_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || "`'\"()[]<>|,;=!?*".contains(c)) {
        if raw.contains("://") || raw.contains('{') || raw.contains('}') || raw.contains('*') {
            continue;
        }
        // `path.rs:12:5`, `path.rs:`, `path.rs.` (end of a sentence).
        let mut w = raw.split(':').next().unwrap_or("");
        w = w.trim_end_matches('.').trim_start_matches("./");
        if w.is_empty() || w.starts_with('/') || w.starts_with('~') || w.starts_with("target/") {
            continue;
        }
        if !w
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./+".contains(c))
        {
            continue;
        }
        let is_dir = w.ends_with('/')
            && w.len() > 1
            && w[..w.len() - 1].contains(|c: char| c.is_ascii_alphabetic());
        let is_file = Path::new(w)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
            && Path::new(w)
                .file_stem()
                .is_some_and(|s| s.to_string_lossy().chars().any(|c| c.is_ascii_alphabetic()));
        if is_dir || is_file {
            out.push(w.to_string());
        }
    }
    out
}

/// The directory of the crate `file` belongs to (its nearest `Cargo.toml`).
fn crate_of(file: &Path) -> PathBuf {
    let mut d = file.parent();
    while let Some(dir) = d {
        if dir.join("Cargo.toml").is_file() {
            return dir.to_path_buf();
        }
        d = dir.parent();
    }
    root()
}

fn resolves(path: &str, file: &Path, files: &[PathBuf], names: &HashSet<String>) -> bool {
    if ELSEWHERE.contains(&path)
        || path.starts_with("../shared/")
        || (coming(path) && !root().join(path).exists())
    {
        return true;
    }
    // A bare output file in a command (`WEFT_TRACE=t.html`, `report.svg`).
    if !path.contains('/') && OUTPUTS.iter().any(|e| path.ends_with(e)) {
        return true;
    }
    if path.ends_with(".go") {
        let first = path.split('/').next().unwrap_or("");
        let ours = root().join(first);
        let has_go = files
            .iter()
            .any(|f| f.starts_with(&ours) && f.extension().is_some_and(|e| e == "go"));
        if !path.contains('/') || !has_go {
            return true; // Go's, not ours
        }
    }
    if !path.contains('/') {
        return names.contains(path);
    }
    // The tail of a file's path, or of a directory's (`sched/`).
    let tail = format!("/{}", path.trim_end_matches('/'));
    let in_tree = files.iter().any(|f| {
        let f = f.to_string_lossy();
        f.ends_with(&tail) || (path.ends_with('/') && f.contains(&format!("{tail}/")))
    });
    if in_tree {
        return true;
    }
    let krate = crate_of(file);
    let bases = [
        root(),
        file.parent().unwrap_or(Path::new(".")).to_path_buf(),
        krate.clone(),
        krate.join("src"),
    ];
    bases.iter().any(|b| b.join(path).exists())
}

#[test]
fn every_path_named_in_docs_and_module_comments_exists() {
    let (files, names) = tree();
    let docs_dir = root().join("docs");
    let mut checked = 0;
    let mut missing = Vec::new();
    for f in &files {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        let text = match ext {
            "md" if f.starts_with(&docs_dir)
                || f.file_name()
                    .is_some_and(|n| n == "README.md" || n == "HACKING.md") =>
            {
                std::fs::read_to_string(f).unwrap_or_default()
            }
            "rs" => std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("//!"))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => continue,
        };
        for p in paths_in(&text) {
            checked += 1;
            if !resolves(&p, f, &files, &names) {
                let rel = f.strip_prefix(root()).unwrap_or(f);
                missing.push(format!("{}: {p}", rel.display()));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        checked > 100,
        "found only {checked} paths: is the tree there?"
    );
    assert!(
        missing.is_empty(),
        "{} path(s) named in docs or module comments do not exist:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn elsewhere_names_are_not_in_this_tree() {
    for p in ELSEWHERE
        .iter()
        .filter(|p| p.contains('/') && !p.ends_with(".go"))
    {
        assert!(
            !root().join(p).exists(),
            "{p} is listed as another project's file but exists here: check it as a path"
        );
    }
}

#[test]
fn the_scanner_finds_paths() {
    let found = paths_in(
        "see `runtime/src/park.rs` and docs/HACKING.md, (tests/x.rs:12:5). Go's proc.go; \
         not https://a/b.rs nor /proc/self/status nor sched/{a,b}.rs nor target/x.svg; dir runtime/src/",
    );
    assert_eq!(
        found,
        [
            "runtime/src/park.rs",
            "docs/HACKING.md",
            "tests/x.rs",
            "proc.go",
            "runtime/src/"
        ]
    );
}

#[test]
fn the_check_can_fail() {
    let (files, names) = tree();
    let doc = root().join("docs/README.md");
    let ok = |p: &str| resolves(p, &doc, &files, &names);
    assert!(ok("runtime/src/park.rs") && ok("sched/idle.rs") && ok("sched/") && ok("HACKING.md"));
    assert!(ok("proc.go") && ok("t.html"));
    assert!(!ok("runtime/src/no_such_module.rs"));
    assert!(!ok("docs/no_such_chapter.md"));
    assert!(!ok("no_such_file.rs"));
    assert!(
        !ok("sched-bench/go/no_such.go"),
        "a .go path under a Go directory of ours"
    );
}
