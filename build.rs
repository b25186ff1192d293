//! Turns the IANA enhanced status code registry (data/enhanced_status_codes.tsv, copied from
//! the registry) into a static table, so the titles live in one data file and cost nothing at
//! run time.
use std::fmt::Write as _;
use std::{env, fs, path::Path};

fn main() {
    let source = "data/enhanced_status_codes.tsv";
    println!("cargo:rerun-if-changed={source}");
    let tsv = fs::read_to_string(source).expect("read the enhanced status code registry");
    let mut table = String::from("&[\n");
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 5 || cols[0] != "enumerated" {
            continue;
        }
        let mut parts = cols[1]
            .split('.')
            .skip(1)
            .map(|n| n.parse::<u16>().expect("number"));
        let (subject, detail) = (
            parts.next().expect("subject"),
            parts.next().expect("detail"),
        );
        // X.6.10 has no title, only a description saying it is deprecated.
        let title = if cols[2].trim().is_empty() {
            cols[4]
        } else {
            cols[2]
        };
        // Titles end in NUL so the C API can hand out the same static bytes.
        writeln!(
            table,
            "    ({subject}, {detail}, {:?}),",
            format!("{}\0", title.trim())
        )
        .unwrap();
    }
    table.push(']');
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("registry.rs");
    fs::write(out, table).expect("write registry table");
}
