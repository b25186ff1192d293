//! The committed header is what the pinned cbindgen generates from the sources now.

use std::path::Path;

#[test]
fn header_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = root.join("include/smtp_verdict.h");
    if std::env::var_os("SMTP_VERDICT_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write header");
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/smtp_verdict.h is not what cbindgen generates: run \
         `SMTP_VERDICT_BLESS=1 cargo test --test header` and commit the result"
    );
}

#[test]
fn version_macros_match_cargo_toml() {
    use ::smtp_verdict::ffi as c;
    let parse = |s: &str| s.parse::<u32>().unwrap();
    let (major, minor, patch) = (
        parse(env!("CARGO_PKG_VERSION_MAJOR")),
        parse(env!("CARGO_PKG_VERSION_MINOR")),
        parse(env!("CARGO_PKG_VERSION_PATCH")),
    );
    assert_eq!(
        (
            c::SMTP_VERDICT_VERSION_MAJOR,
            c::SMTP_VERDICT_VERSION_MINOR,
            c::SMTP_VERDICT_VERSION_PATCH
        ),
        (major, minor, patch)
    );
    assert_eq!(
        c::SMTP_VERDICT_VERSION_NUMBER,
        major * 10000 + minor * 100 + patch
    );
    // SAFETY: the library returns a static NUL-terminated string.
    let runtime = unsafe { std::ffi::CStr::from_ptr(c::smtp_verdict_version()) };
    assert_eq!(runtime.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}
