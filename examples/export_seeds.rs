//! Writes the fuzz seed corpus from the test vectors (`tests/vectors/*.tsv`): one file per row
//! and per pipelined pair of rows, for every target in `fuzz/fuzz_targets/`, in the input
//! layout of `fuzz/fuzz_targets/common.rs` (8 header bytes: command, options, accepted,
//! limited, four knobs; then the reply bytes).
//!
//! ```sh
//! cargo run --example export_seeds -- fuzz/corpus   # fuzz/run.sh does this
//! ```

#[path = "../tests/common/vectors.rs"]
mod vectors;

use std::path::Path;

const TARGETS: [&str; 4] = ["rust_api", "c_abi", "invariants", "differential"];

fn header(v: &vectors::Vector, knobs: [u8; 4]) -> Vec<u8> {
    let small = |n: u32| u8::try_from(n).unwrap_or(u8::MAX);
    let mut seed = vec![
        v.command as u8,
        v.options.bits() as u8,
        small(v.accepted),
        small(v.limited),
    ];
    seed.extend_from_slice(&knobs);
    seed
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".into());
    let rows = vectors::load();
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, v) in rows.iter().enumerate() {
        let mut seed = header(v, [0; 4]);
        seed.extend_from_slice(&v.reply);
        seeds.push((format!("{i:03}-{}", v.id), seed));
        // Pipelined: this reply followed by the next row's.
        if let Some(next) = rows.get(i + 1) {
            let mut seed = header(v, [0; 4]);
            seed.extend_from_slice(&v.reply);
            seed.extend_from_slice(&next.reply);
            seeds.push((format!("{i:03}-{}-then-{}", v.id, next.id), seed));
        }
        // The same reply with every knob set: odd struct sizes, a byte at a time.
        let mut seed = header(v, [5, 0x40, 1, 0]);
        seed.extend_from_slice(&v.reply);
        seeds.push((format!("{i:03}-{}-knobs", v.id), seed));
    }
    for target in TARGETS {
        let dir = Path::new(&out).join(target);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        for (name, seed) in &seeds {
            let name: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let path = dir.join(name);
            std::fs::write(&path, seed).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
    }
    println!(
        "{} seeds from {} test vectors in each of {}/{{{}}}",
        seeds.len(),
        rows.len(),
        out,
        TARGETS.join(",")
    );
}
