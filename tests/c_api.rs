//! The C tests (`tests/c/`), compiled with the system's C and C++ compilers against the
//! committed header and the static library cargo built for this test run, then run.
//!
//! The compilers are `$CC` and `$CXX` (default `cc` and `c++`, from Debian's
//! `build-essential`). Every program builds with `-Wall -Wextra -Wpedantic -Werror`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::vectors::{self, command_name, enhanced_name, flag_names, option_names};

const WARNINGS: [&str; 4] = ["-Wall", "-Wextra", "-Wpedantic", "-Werror"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_api");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `staticlib` cargo builds beside this test's executable (`target/<profile>/deps`).
fn static_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps, deps.parent().unwrap()]
        .iter()
        .map(|dir| dir.join("libsmtp_verdict.a"))
        .find(|lib| lib.exists())
        .expect("libsmtp_verdict.a next to the test executable: crate-type lists staticlib")
}

fn compiler(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

fn run(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{shown}: {e} (install build-essential)"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{shown} failed:\n{text}");
    text
}

/// Compiles and links one test program; `lang_flags` picks the language standard.
fn build(source: &str, cc: &str, lang_flags: &[&str]) -> PathBuf {
    let exe = out_dir().join(Path::new(source).file_stem().unwrap());
    run(Command::new(cc)
        .args(lang_flags)
        .args(WARNINGS)
        .args(["-O1", "-g", "-D_POSIX_C_SOURCE=200809L"])
        .arg("-I")
        .arg(root().join("include"))
        .arg("-I")
        .arg(root().join("tests/c"))
        .arg("-o")
        .arg(&exe)
        .arg(root().join("tests/c").join(source))
        .arg(static_library())
        .args(["-pthread", "-ldl", "-lm"]));
    exe
}

#[test]
fn header_compiles_alone_as_c_and_cxx() {
    let dir = out_dir();
    let c = dir.join("header_alone.c");
    // Included twice: the include guard must hold.
    std::fs::write(
        &c,
        "#include \"smtp_verdict.h\"\n#include \"smtp_verdict.h\"\nint main(void) { return 0; }\n",
    )
    .unwrap();
    let include = root().join("include");
    for (cc, lang) in [
        (compiler("CC", "cc"), vec!["-std=c99"]),
        (compiler("CC", "cc"), vec!["-std=c11"]),
        (compiler("CXX", "c++"), vec!["-x", "c++", "-std=c++11"]),
        (compiler("CXX", "c++"), vec!["-x", "c++", "-std=c++17"]),
    ] {
        run(Command::new(cc)
            .args(&lang)
            .args(WARNINGS)
            .arg("-fsyntax-only")
            .arg("-I")
            .arg(&include)
            .arg(&c));
    }
}

#[test]
fn c_api_test() {
    let exe = build("api_test.c", &compiler("CC", "cc"), &["-std=c99"]);
    let out = run(&mut Command::new(exe));
    assert!(out.contains(" 0 failed"), "{out}");
}

#[test]
fn cxx_header_test() {
    let exe = build("header_test.cpp", &compiler("CXX", "c++"), &["-std=c++11"]);
    run(&mut Command::new(exe));
}

#[test]
fn coexists_with_libesmtp() {
    // smtp_verdict.h beside libESMTP's declarations, in either order, as C99 and C++.
    let cc = compiler("CC", "cc");
    let cxx = compiler("CXX", "c++");
    for (source, compiler, flags) in [
        ("libesmtp_test.c", &cc, vec!["-std=c99"]),
        ("libesmtp_test.c", &cc, vec!["-std=c99", "-DVERDICT_FIRST"]),
        (
            "libesmtp_test.c",
            &cc,
            vec!["-std=c99", "-DSMTP_VERDICT_NO_COMPAT_NAMES"],
        ),
        ("libesmtp_test.cpp", &cxx, vec!["-std=c++11"]),
        (
            "libesmtp_test.cpp",
            &cxx,
            vec![
                "-std=c++11",
                "-DVERDICT_FIRST",
                "-DSMTP_VERDICT_NO_COMPAT_NAMES",
            ],
        ),
    ] {
        let exe = build(source, compiler, &flags);
        let out = run(&mut Command::new(exe));
        assert!(out.contains(" 0 failed"), "{flags:?}: {out}");
    }
}

/// Every row of `tests/vectors/*.tsv`, in the format `tests/c/vectors_test.c` reads.
fn write_vectors(path: &Path) -> usize {
    let rows = vectors::load();
    let mut text = String::new();
    for v in &rows {
        let hex: String = v.reply.iter().map(|b| format!("{b:02x}")).collect();
        text += &format!(
            "{} {} {} {} {} {} {} {} {} {} {} {}\n",
            v.id,
            command_name(v.command),
            v.accepted,
            v.limited,
            option_names(v.options),
            v.status.name(),
            v.verdict.map_or("-", vectors::verdict_name),
            v.scope.map_or("-", vectors::scope_name),
            v.code,
            enhanced_name(v.enhanced),
            flag_names(v.flags),
            if hex.is_empty() { "-" } else { &hex },
        );
    }
    std::fs::write(path, text).unwrap();
    rows.len()
}

#[test]
fn c_vectors_test() {
    let data = out_dir().join("vectors.txt");
    let rows = write_vectors(&data);
    let exe = build("vectors_test.c", &compiler("CC", "cc"), &["-std=c99"]);
    let out = run(Command::new(exe).arg(&data));
    assert!(out.contains(&format!("{rows} rows")), "{out}");
    assert!(out.contains(" 0 failed"), "{out}");
}
