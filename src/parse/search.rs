//! Where lines end: the first LF of a line (64 bytes at a time, two words for a short line),
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
/// words; the first 128 bytes of a longer one are read as two groups of 64, each four 16-byte
/// blocks (the last block of a short line overlapping the ones before) whose LF bits are
/// joined into one word: one branch per group, not one per block, for line lengths vary and
/// a loop's exit mispredicts. The rest of a long line goes to memchr.
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
    for group in [0, 64] {
        let (start, lfs) = lfs_in_group(hay, group);
        if lfs != 0 {
            return Some(start + lfs.trailing_zeros() as usize);
        }
        if len <= group + 64 {
            return None;
        }
    }
    memchr::memchr(b'\n', &hay[SHORT..]).map(|i| SHORT + i)
}

/// The LFs among the 64 bytes of `hay` from `group` (`hay` holds at least 16 bytes), as bits
/// counted from the returned start: `group`, or the last 16 bytes' start if fewer remain.
/// Blocks that would pass the end are the last 16 bytes instead, whose first ones hold no LF
/// when `group` is past them (the group before found none).
#[inline(always)]
fn lfs_in_group(hay: &[u8], group: usize) -> (usize, u64) {
    let len = hay.len();
    let start = group.min(len.saturating_sub(16));
    let mut lfs = 0;
    for end in [group + 16, group + 32, group + 48, group + 64] {
        let before_end = &hay[..len.min(end)];
        if let Some(block) = before_end.last_chunk() {
            lfs |= u64::from(lf_mask(block)) << (before_end.len() - 16 - start);
        }
    }
    (start, lfs)
}

/// Bit i set if `block[i]` is an LF: one SSE2 compare and mask (part of every x86_64 target),
/// through safe_arch, for core::arch's intrinsics are unsafe to call.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn lf_mask(block: &[u8; 16]) -> u32 {
    use safe_arch::{
        cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let lfs = cmp_eq_mask_i8_m128i(load_unaligned_m128i(block), set_splat_i8_m128i(b'\n' as i8));
    move_mask_i8_m128i(lfs) as u32
}

/// [`lf_mask`] a byte at a time, where there is no SSE2 (and to test the one there is).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn lf_mask_bytes(block: &[u8; 16]) -> u32 {
    block
        .iter()
        .enumerate()
        .fold(0, |mask, (i, &b)| mask | (u32::from(b == b'\n') << i))
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
use lf_mask_bytes as lf_mask;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lf_mask_is_the_bytes_mask() {
        // Each byte value at each position, among LFs or among other bytes.
        for background in [b'x', b'\n'] {
            for at in 0..16 {
                for byte in 0..=255 {
                    let mut block = [background; 16];
                    block[at] = byte;
                    assert_eq!(lf_mask(&block), lf_mask_bytes(&block), "{block:?}");
                }
            }
        }
    }

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
