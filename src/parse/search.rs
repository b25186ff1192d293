//! Where lines end: the first LF of a line (16 bytes at a time, two words for a short line),
//! and the plain continuation lines of a multiline reply, found eight bytes at a time.

use crate::MAX_REPLY_LEN;

/// Longest plain continuation line that `skip_plain_continuations` skips (EHLO keywords are
/// shorter); a longer one is read the usual way, its search going on from where the skip
/// stopped.
pub(super) const PLAIN_LINE_MAX: usize = 128;

/// Where [`skip_plain_continuations`] stopped.
pub(super) struct Skipped {
    /// The first line not skipped.
    pub(super) line_start: usize,
    /// That line holds no LF before this.
    pub(super) searched_to: usize,
    /// Lines skipped.
    pub(super) lines: u32,
}

/// Skips the lines from `start` on that only continue the reply: the first line's code, `-`,
/// no enhanced code, CRLF, shorter than [`PLAIN_LINE_MAX`]. They change nothing but the line
/// count, and most lines of a multiline reply (EHLO's keywords) are such lines, so they are
/// found eight bytes at a time across line boundaries instead of line by line. The first
/// line was checked in full, so comparing its code's bytes suffices. A line whose head is
/// not a plain line's is left at once, before its end is searched for; a line found too
/// long is left where the search stopped, which the caller's search goes on from.
#[inline(always)]
pub(super) fn skip_plain_continuations(input: &[u8], start: usize) -> Skipped {
    // Most lines that are not plain fail at once: that test stays in the caller.
    match input.first_chunk() {
        Some(&[c0, c1, c2]) if plain_head(input, start, [c0, c1, c2, b'-']) => {
            skip_plain_lines(input, start, [c0, c1, c2, b'-'])
        }
        _ => Skipped {
            line_start: start,
            searched_to: start,
            lines: 0,
        },
    }
}

/// [`skip_plain_continuations`] from a line known to begin as a plain one (`head`).
#[inline(never)]
pub(super) fn skip_plain_lines(input: &[u8], mut start: usize, head: [u8; 4]) -> Skipped {
    let limit = input.len().min(MAX_REPLY_LEN);
    let mut lines = 0;
    let stop = |start, lines| Skipped {
        line_start: start,
        searched_to: start,
        lines,
    };
    let mut at = start;
    while let Some(mut found) = lfs_in_word(input, at, limit) {
        while found != 0 {
            let lf = at + (found.trailing_zeros() / 8) as usize;
            // The head was checked: the length and the CR remain.
            let line = &input[start..lf];
            if line.len() < 5 || line.len() >= PLAIN_LINE_MAX || line[line.len() - 1] != b'\r' {
                return stop(start, lines);
            }
            lines += 1;
            start = lf + 1;
            if !plain_head(input, start, head) {
                return stop(start, lines);
            }
            found &= found - 1;
        }
        at += 8;
        if at - start > PLAIN_LINE_MAX {
            return Skipped {
                line_start: start,
                searched_to: at,
                lines,
            };
        }
    }
    stop(start, lines)
}

/// True if the line at `start` begins as a plain continuation line does: `head` (the first
/// line's code and `-`), then neither a blank nor the first digit of an enhanced code.
#[inline(always)]
pub(super) fn plain_head(input: &[u8], start: usize, head: [u8; 4]) -> bool {
    match input.get(start..start + 5) {
        Some(&[a, b, c, d, next]) => {
            [a, b, c, d] == head && !matches!(next, b' ' | b'2' | b'4' | b'5')
        }
        _ => false,
    }
}

/// The LFs among the 8 bytes at `hay[at..]`, if they lie before `limit`: the high bit of each
/// byte that is one (exact for every byte, unlike the any-zero test of `lf_in_word`).
#[inline]
pub(super) fn lfs_in_word(hay: &[u8], at: usize, limit: usize) -> Option<u64> {
    if at + 8 > limit {
        return None;
    }
    let word: [u8; 8] = hay.get(at..at + 8)?.try_into().ok()?;
    Some(lfs_in(u64::from_le_bytes(word)))
}

/// The high bit of each byte of `word` that is an LF, and no other bit.
#[inline(always)]
pub(super) fn lfs_in(word: u64) -> u64 {
    const LF: u64 = u64::from_ne_bytes([b'\n'; 8]);
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    let x = word ^ LF;
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// The first LF in `hay`. Reply lines are short: one of fewer than 16 bytes is read as two
/// words; the first 128 bytes of a longer one are tested 16 at a time for any LF (one SSE2
/// compare each, made by the compiler from safe code), the last 16 overlapping the ones
/// before, and memchr's SSE2 search finds the LF in the block that holds one; the rest of a
/// long line goes to memchr itself. (memchr's SSE2 search over the first 128 bytes, before:
/// 10 instructions more per short reply, 6 per enhanced one, for its alignment and unrolled
/// loop, which pays only on long lines.)
#[inline(always)]
pub(super) fn find_lf(hay: &[u8]) -> Option<usize> {
    const SHORT: usize = 128;
    let len = hay.len();
    if len < 8 {
        return hay.iter().position(|&b| b == b'\n');
    }
    if len < 16 {
        let first = lfs_in_word(hay, 0, len).unwrap_or(0);
        let last = lfs_in_word(hay, len - 8, len).unwrap_or(0);
        return if first != 0 {
            Some((first.trailing_zeros() / 8) as usize)
        } else if last != 0 {
            Some(len - 8 + (last.trailing_zeros() / 8) as usize)
        } else {
            None
        };
    }
    let near = &hay[..len.min(SHORT)];
    // One place that locates the LF in its block, for the compiler inlines memchr's search
    // there once (at the overlapping last block it called it: 30 instructions a reply).
    let (offset, block) = 'found: {
        let mut blocks = near.chunks_exact(16);
        for (k, block) in blocks.by_ref().enumerate() {
            let block = block.try_into().ok()?;
            if has_lf(block) {
                break 'found (16 * k, block);
            }
        }
        // The last 16 bytes, whose first ones were searched.
        if !blocks.remainder().is_empty() {
            let last = near.last_chunk()?;
            if has_lf(last) {
                break 'found (near.len() - 16, last);
            }
        }
        if len <= SHORT {
            return None;
        }
        return memchr::memchr(b'\n', &hay[SHORT..]).map(|i| SHORT + i);
    };
    lf_in_block(block).map(|i| offset + i)
}

/// True if `block` holds an LF: the compiler makes that an SSE2 compare per 16 bytes.
#[inline(always)]
fn has_lf(block: &[u8; 16]) -> bool {
    block.iter().fold(false, |any, &b| any | (b == b'\n'))
}

/// Where the LF is in a block known to hold one.
#[inline(always)]
fn lf_in_block(block: &[u8; 16]) -> Option<usize> {
    // SSE2 is part of every x86_64 target, so `new` never fails; if it did, memchr searches.
    #[cfg(target_arch = "x86_64")]
    if let Some(sse2) = memchr::arch::x86_64::sse2::memchr::One::new(b'\n') {
        return sse2.find(block);
    }
    memchr::memchr(b'\n', block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_lf_agrees_with_memchr() {
        // Every length up to past the memchr hand-over, an LF at every position or none,
        // with bytes around it that trip a careless has-zero-byte test (0x0b, 0x8a, 0x09).
        // Under Miri (slow): the short lengths and those around the hand-over, two fillers.
        let lens: Vec<usize> = if cfg!(miri) {
            (0..20).chain(28..36).chain(124..132).collect()
        } else {
            (0..150).collect()
        };
        let fillers: &[u8] = if cfg!(miri) {
            &[b'x', 0x8a]
        } else {
            &[b'x', 0x0b, 0x8a, 0x09, 0x00, 0xff]
        };
        for len in lens {
            for lf_at in (0..=len).chain([usize::MAX]) {
                for &filler in fillers {
                    let mut hay = vec![filler; len];
                    if lf_at < len {
                        hay[lf_at] = b'\n';
                        if lf_at + 1 < len {
                            hay[lf_at + 1] = b'\n';
                        }
                    }
                    assert_eq!(
                        find_lf(&hay),
                        memchr::memchr(b'\n', &hay),
                        "len {len} lf {lf_at}"
                    );
                }
            }
        }
    }
}
