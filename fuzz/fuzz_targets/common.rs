//! The input layout shared by the fuzz targets (and written by `examples/export_seeds.rs`):
//!
//! | bytes | meaning |
//! |---|---|
//! | 0 | command number (raw: values over 18 are invalid and must be refused by the C ABI) |
//! | 1 | option bits (raw: bits over 4 are unknown) |
//! | 2 | accepted recipients |
//! | 3 | limited recipients |
//! | 4..8 | knobs, each target reads them its own way; all 0 means "the ordinary call" |
//! | 8.. | the bytes from the server |
#![allow(dead_code)]

use smtp_verdict::{Command, Context, Options};

pub const HEADER: usize = 8;

pub struct Input<'a> {
    pub command: u8,
    pub options: u8,
    pub accepted: u8,
    pub limited: u8,
    pub knobs: [u8; 4],
    pub reply: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        let mut head = [0u8; HEADER];
        let n = data.len().min(HEADER);
        head[..n].copy_from_slice(&data[..n]);
        Input {
            command: head[0],
            options: head[1],
            accepted: head[2],
            limited: head[3],
            knobs: [head[4], head[5], head[6], head[7]],
            reply: &data[n..],
        }
    }

    /// A valid Rust context: the command and options folded into range.
    pub fn context(&self) -> Context {
        Context {
            command: Command::ALL[usize::from(self.command) % Command::ALL.len()],
            accepted_recipients: u32::from(self.accepted),
            limited_recipients: u32::from(self.limited),
            options: Options::from_bits(u32::from(self.options) & Options::ALL.bits())
                .unwrap_or_default(),
        }
    }
}

/// Chunk sizes for feeding `len` bytes to a scanner: from the knob (1 = a byte at a time).
pub fn chunks(len: usize, knob: u8) -> impl Iterator<Item = usize> {
    let step = usize::from(knob).max(1);
    (1..=len.div_ceil(step)).map(move |i| (i * step).min(len))
}
