//! Every exported function runs its whole body inside `ffi_guard!`, so that a panic becomes a
//! status instead of unwinding into C (undefined behaviour; rustls-ffi issue #286). Read from
//! the source text of `src/ffi/`: adding an `extern "C" fn` without the guard fails here, and
//! so does a function in the header that is not a guarded one. A private `extern "C"` helper
//! (made `extern "C"` so that no unwinding can leave it) needs the guard too.

use std::collections::BTreeSet;
use std::path::Path;

/// An `extern "C"` function as written: its name, whether `#[unsafe(no_mangle)]` precedes it,
/// whether it is `pub`, and its body between the braces.
#[derive(Debug)]
struct Exported {
    name: String,
    no_mangle: bool,
    public: bool,
    body: String,
}

/// The source without `//` comments (doc comments mention `extern "C"` functions too).
fn strip_comments(src: &str) -> String {
    src.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `extern "C..." fn` with a body in `src` (declarations in `extern` blocks have none).
fn exported(src: &str) -> Vec<Exported> {
    let src = strip_comments(src);
    let mut found = Vec::new();
    let mut rest = &src[..];
    let mut offset = 0;
    while let Some(at) = rest.find("extern \"C") {
        let start = offset + at;
        let after = &src[start..];
        // extern "C" / "C-unwind", then `fn name`.
        let close_quote = after[8..].find('"').map(|q| 8 + q + 1).unwrap();
        let tail = after[close_quote..].trim_start();
        offset = start + close_quote;
        rest = &src[offset..];
        let Some(sig) = tail.strip_prefix("fn ") else {
            continue; // an `extern "C" {` block
        };
        let name: String = sig
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // The body: the first `{` outside the parameter list's parentheses, to its match.
        let mut depth_paren = 0i32;
        let mut open = None;
        for (i, c) in sig.char_indices() {
            match c {
                '(' => depth_paren += 1,
                ')' => depth_paren -= 1,
                '{' if depth_paren == 0 => {
                    open = Some(i);
                    break;
                }
                ';' if depth_paren == 0 => break,
                _ => {}
            }
        }
        let Some(open) = open else { continue };
        let mut depth = 0i32;
        let mut end = None;
        for (i, c) in sig[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(open + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let body = sig[open + 1..end.expect("a closed body")]
            .trim()
            .to_string();
        // The attributes between the previous item and this function.
        let before = &src[..start];
        let item_start = before.rfind(['}', ';']).map_or(0, |i| i + 1);
        let attrs = &before[item_start..];
        let qualifiers = attrs.rsplit(']').next().unwrap_or(attrs);
        found.push(Exported {
            name,
            no_mangle: attrs.contains("#[unsafe(no_mangle)]") || attrs.contains("#[no_mangle]"),
            public: qualifiers.split_whitespace().any(|w| w.starts_with("pub")),
            body,
        });
    }
    found
}

/// The body is one `ffi_guard!(on_panic, { ... })` and nothing else.
fn guarded(f: &Exported) -> bool {
    let Some(args) = f.body.strip_prefix("ffi_guard!(") else {
        return false;
    };
    // The `)` that closes the macro call must be the body's last character.
    let (mut depth, mut in_str, mut escaped) = (1i32, false, false);
    for (i, c) in args.char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1 == args.len();
                }
            }
            _ => {}
        }
    }
    false
}

fn ffi_sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join("ffi");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// Functions exported anywhere else in src/ would escape this check: there must be none.
fn sources_outside_ffi() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_exported_function_has_the_panic_guard() {
    let mut names = BTreeSet::new();
    for (file, src) in ffi_sources() {
        for f in exported(&src) {
            assert_eq!(
                f.no_mangle, f.public,
                "{file}: {} must be pub and #[unsafe(no_mangle)] (exported) or neither (a helper)",
                f.name
            );
            assert!(
                guarded(&f),
                "{file}: the body of {} must be one ffi_guard!(..) call, found:\n{}",
                f.name,
                f.body
            );
            if f.no_mangle {
                names.insert(f.name);
            }
        }
    }
    assert!(names.len() >= 8, "found only {names:?}");
    for (file, src) in sources_outside_ffi() {
        let stripped = strip_comments(&src);
        assert!(
            !stripped.contains("no_mangle") && exported(&src).is_empty(),
            "{file}: exported functions belong in src/ffi/, where their guard is checked"
        );
    }
}

#[test]
fn every_header_function_is_a_guarded_one() {
    let header = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("include/smtp_verdict.h"),
    )
    .unwrap();
    // Declarations: a line that is not a comment or macro, with `smtp_name(`.
    let mut declared = BTreeSet::new();
    for line in header.lines() {
        let t = line.trim_start();
        if t.starts_with('*') || t.starts_with("/*") || t.starts_with('#') {
            continue;
        }
        let Some(paren) = t.find('(') else { continue };
        let name = t[..paren]
            .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .unwrap();
        if name.starts_with("smtp_") {
            declared.insert(name.to_string());
        }
    }
    let guarded_names: BTreeSet<String> = ffi_sources()
        .iter()
        .flat_map(|(_, src)| exported(src))
        .filter(|f| f.no_mangle && guarded(f))
        .map(|f| f.name)
        .collect();
    assert!(declared.contains("smtp_classify_reply"), "{declared:?}");
    assert_eq!(
        declared, guarded_names,
        "the header's functions and the guarded exported functions differ"
    );
}

/// The check itself catches a function without the guard, and one with more than the guard.
#[test]
fn the_check_catches_a_missing_guard() {
    let src = r#"
        /// Docs that mention `pub extern "C" fn not_a_function()`.
        #[unsafe(no_mangle)]
        pub extern "C" fn smtp_good(x: u32) -> u32 {
            ffi_guard!(0, { x + 1 })
        }

        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn smtp_bad(p: *const u8) -> u8 {
            unsafe { *p }
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn smtp_sneaky() -> u32 {
            let x = helper();
            ffi_guard!(0, { x })
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn smtp_trailing() -> u32 {
            ffi_guard!(0, { 1 });
            helper()
        }

        unsafe extern "C" {
            fn imported(x: u32) -> u32;
        }

        pub extern "C" fn smtp_no_mangle_missing() -> u32 {
            ffi_guard!(0, { 1 })
        }

        #[cold]
        unsafe extern "C" fn helper_unguarded() -> u32 {
            1
        }
    "#;
    let found = exported(src);
    let names: Vec<_> = found.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "smtp_good",
            "smtp_bad",
            "smtp_sneaky",
            "smtp_trailing",
            "smtp_no_mangle_missing",
            "helper_unguarded"
        ]
    );
    let ok: Vec<_> = found.iter().map(guarded).collect();
    assert_eq!(ok, [true, false, false, false, true, false]);
    let exported_as: Vec<_> = found.iter().map(|f| (f.no_mangle, f.public)).collect();
    assert_eq!(exported_as[0], (true, true));
    assert_eq!(exported_as[4], (false, true));
    assert_eq!(exported_as[5], (false, false));
}
