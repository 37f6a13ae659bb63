//! Checks of the core's structure that the compiler does not make (unit
//! tests, run by `cargo test --workspace`, a step of `cargo xtask test`):
//!
//! * the emulation modules depend one way: the data of a process
//!   (`process`, and the state modules it holds) uses none of `signal`,
//!   `syscall` and `run`; `signal` does not use `syscall` or `run`;
//!   `syscall` does not use `run` (a module "uses" another when its code,
//!   comments aside, names `crate::other`, or `super::other` from a
//!   submodule);
//! * only the translator's back end folder names the back end: the front
//!   end (and everything else in the core, and the hosts) reach it through
//!   `translate::Native` and the `Backend` trait.

#![cfg(test)]

use crate::util::root;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The code of a Rust file without its comments (line comments, doc
/// comments and block comments) and without `#[cfg(test)]` modules'
/// bodies' test files (files named `tests.rs` or `*_tests.rs` are left
/// out by the callers).
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_block = false;
    for line in text.lines() {
        let mut l = line;
        if in_block {
            match l.find("*/") {
                Some(i) => {
                    l = &l[i + 2..];
                    in_block = false;
                }
                None => continue,
            }
        }
        if let Some(i) = l.find("/*") {
            in_block = !l[i..].contains("*/");
            l = &l[..i];
        }
        if let Some(i) = l.find("//") {
            l = &l[..i];
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

fn is_test_file(p: &Path) -> bool {
    let n = p.file_name().unwrap().to_string_lossy();
    n == "tests.rs" || n.ends_with("_tests.rs") || p.components().any(|c| c.as_os_str() == "tests")
}

/// The top-level module of vm-core a source file belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// vm-core's top-level modules and the ones each uses (test code aside).
fn core_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("vm-core/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let files = rust_files(&src);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    for f in &files {
        if is_test_file(f) {
            continue;
        }
        let m = module_of(&src, f);
        let text = fs::read_to_string(f).unwrap();
        // Inline test modules come last in a file: stop at them.
        let text = match text.find("#[cfg(test)]\nmod tests {") {
            Some(i) => &text[..i],
            None => &text[..],
        };
        let code = code_of(text);
        let uses = graph.entry(m.clone()).or_default();
        for other in &modules {
            if *other == m || other == "lib" {
                continue;
            }
            let named = code.contains(&format!("crate::{other}::"))
                || code.contains(&format!("crate::{other};"))
                || code.contains(&format!("crate::{other}}}"))
                || code.contains(&format!("crate::{other},"))
                || code.contains(&format!("crate::{{{other}"))
                || (code.contains("use crate::{") && code.contains(&format!("{{{other}::")));
            if named {
                uses.insert(other.clone());
            }
        }
    }
    graph
}

/// Every module `from` reaches in `graph`.
fn reach(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for n in graph.get(&m).into_iter().flatten() {
            if seen.insert(n.clone()) {
                todo.push(n.clone());
            }
        }
    }
    seen
}

#[test]
fn process_signal_syscall_and_run_depend_one_way() {
    let g = core_graph();
    let forbidden: &[(&str, &[&str])] = &[
        ("process", &["signal", "syscall", "run", "launch"]),
        ("signal", &["syscall", "run", "launch"]),
        ("syscall", &["run", "launch"]),
    ];
    let mut bad = Vec::new();
    for (m, not) in forbidden {
        let r = reach(&g, m);
        for n in *not {
            if r.contains(*n) {
                // Show the direct uses along the way.
                let path: Vec<_> = g[*m]
                    .iter()
                    .filter(|d| reach(&g, d).contains(*n) || *d == n)
                    .collect();
                bad.push(format!("{m} reaches {n} (through {path:?})"));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}\ngraph: {g:#?}");
}

#[test]
fn only_the_back_end_folder_names_the_back_end() {
    let mut bad = Vec::new();
    let core = root().join("vm-core/src");
    let back = core.join("translate/x86_64");
    let mut files = rust_files(&core);
    files.extend(rust_files(&root().join("host-linux/src")));
    files.extend(rust_files(&root().join("host-baremetal/src")));
    files.extend(rust_files(&root().join("vm-testkit/src")));
    for f in files {
        if f.starts_with(&back) {
            continue;
        }
        let code = code_of(&fs::read_to_string(&f).unwrap());
        for (n, line) in code.lines().enumerate() {
            let names_back_end = line.contains("translate::x86_64")
                || (f.ends_with("vm-core/src/translate/mod.rs")
                    && line.contains("x86_64::")
                    && !line.contains("pub type Native = x86_64::X86_64;"));
            if names_back_end {
                bad.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Does `name` look like a Linux ABI constant (flags, types, commands)?
fn abi_like(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "O_",
        "S_IF",
        "AT_",
        "F_",
        "FD_",
        "RLIMIT_",
        "RLIM_",
        "MAP_",
        "PROT_",
        "MADV_",
        "EPOLL",
        "EFD_",
        "TFD_",
        "MFD_",
        "SOCK_",
        "SO_",
        "SOL_",
        "SCM_",
        "MSG_",
        "AF_",
        "RWF_",
        "LOCK_",
        "POLL",
        "CLONE_",
        "FUTEX_",
        "CLOCK_",
        "SIG",
        "SI_",
        "SA_",
        "SS_",
        "CLD_",
        "XATTR_",
        "CLOSE_RANGE_",
        "SEEK_",
        "TIOC",
        "TCGETS",
        "TCSETS",
        "FIO",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
}

/// `(name, line)` of every `const NAME` a file's code defines.
fn consts(code: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in code.lines() {
        let t = line.trim_start();
        let t = t.strip_prefix("pub ").unwrap_or(t);
        let t = t.strip_prefix("pub(crate) ").unwrap_or(t);
        let t = t.strip_prefix("pub(super) ").unwrap_or(t);
        if let Some(rest) = t.strip_prefix("const ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push((name, line.trim().to_string()));
        }
    }
    out
}

/// The Linux ABI constants come from one place: `vm_core::abi` (signal
/// numbers and codes: `vm_core::sigstate`), which both hosts use. No
/// host defines one of its own (a constant that only renames the core's
/// is fine), and no name is defined twice in the core. Test code aside.
#[test]
fn linux_abi_constants_are_defined_once_in_the_core() {
    let mut bad = Vec::new();
    // pvm's own values that happen to share a prefix.
    let own = [
        "SOCK_BUF",
        "SIGNO",
        "SIGN",
        "SIGN32",
        "SIGN64",
        "SIGINFO_SIZE",
        "SIGNALFD_SIGINFO_SIZE",
    ];
    for host in ["host-linux/src", "host-baremetal/src"] {
        for f in rust_files(&root().join(host)) {
            if is_test_file(&f) {
                continue;
            }
            let text = fs::read_to_string(&f).unwrap();
            let text = match text.find("#[cfg(test)]\nmod tests {") {
                Some(i) => &text[..i],
                None => &text[..],
            };
            for (name, line) in consts(&code_of(text)) {
                if abi_like(&name) && !own.contains(&name.as_str()) && !line.contains("vm_core::") {
                    bad.push(format!("{}: {line}", f.display()));
                }
            }
        }
    }
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for f in rust_files(&root().join("vm-core/src")) {
        if is_test_file(&f) || f.ends_with("fpu/soft.rs") {
            continue;
        }
        let text = fs::read_to_string(&f).unwrap();
        let text = match text.find("#[cfg(test)]\nmod tests {") {
            Some(i) => &text[..i],
            None => &text[..],
        };
        for (name, line) in consts(&code_of(text)) {
            if !abi_like(&name) || line.contains("crate::") {
                continue;
            }
            if let Some(first) = seen.insert(name.clone(), f.clone()) {
                bad.push(format!(
                    "{name} in both {} and {}",
                    first.display(),
                    f.display()
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}
