//! The [`Scanner`]: a reply's lines read one after the other, from where an earlier call left
//! off, and the one-line path that most replies take.

use super::grammar::reply_line;
use super::reply::Reply;
use super::search::{PLAIN_LINE_MAX, find_lf, skip_plain_continuations};
use crate::{
    Classification, Context, EnhancedCode, Error, Flags, MAX_LINE_LEN, MAX_REPLY_LEN, Options,
    RFC_LINE_LEN,
};

/// Parse state carried between calls while a reply is incomplete.
///
/// Give the same scanner the same input again, grown at the end, and it goes on from the last
/// line end instead of starting over. After any answer other than [`Error::Incomplete`] it is
/// fresh again, ready for the next reply (which starts at the returned `consumed`).
// Every field is a u32: the state is stored and reloaded on each call, and fields of one
// width keep those stores and loads cheap (mixed widths stalled store forwarding: a third of
// the time of a one-line reply).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scanner {
    /// Where the search for the current line's end goes on: the input before it is read.
    /// Absolute, and first with `line_limit`: the resume check reads only those two.
    scanned_to: u32,
    /// Where the line being read reaches a length limit, for the resume check; 0 when no
    /// call has left the scanner inside a line.
    line_limit: u32,
    /// Where the line being read starts.
    line_start: u32,
    lines: u32,
    first_code: u32,
    /// [`Flags`] bits.
    flags: u32,
    /// 1 once a line's code starts with 4 or 5.
    negative_line: u32,
    /// The last enhanced code seen, an [`EnhancedCode`]'s word; 0 for none.
    enhanced: u32,
}

pub(super) fn is_standard_code(code: u16) -> bool {
    (2..=5).contains(&(code / 100)) && (code / 10) % 10 <= 5
}

impl Scanner {
    /// A fresh scanner.
    pub const fn new() -> Scanner {
        Scanner {
            scanned_to: 0,
            line_limit: 0,
            line_start: 0,
            lines: 0,
            first_code: 0,
            flags: 0,
            negative_line: 0,
            enhanced: 0,
        }
    }

    /// Number of words in [`Scanner::to_words`].
    ///
    /// cbindgen:ignore
    pub const WORDS: usize = 8;

    /// The state as plain integers, for callers that keep it in foreign memory (the C ABI).
    pub fn to_words(&self) -> [u32; Scanner::WORDS] {
        [
            self.scanned_to,
            self.line_limit,
            self.line_start,
            self.lines,
            self.first_code,
            self.flags,
            self.negative_line,
            self.enhanced,
        ]
    }

    /// The state from [`Scanner::to_words`], or `None` if the words could not have come from
    /// there (a stale or corrupted copy).
    pub fn from_words(w: &[u32; Scanner::WORDS]) -> Option<Scanner> {
        let [
            scanned_to,
            line_limit,
            line_start,
            lines,
            first_code,
            flags,
            negative_line,
            enhanced,
        ] = *w;
        let scanner = Scanner {
            scanned_to,
            line_limit,
            line_start,
            lines,
            first_code,
            flags,
            negative_line,
            enhanced,
        };
        let consistent = line_start as usize <= MAX_REPLY_LEN
            && line_start <= scanned_to
            && scanned_to as usize <= line_limit_at(line_start as usize)
            && (line_limit == 0 || line_limit as usize == line_limit_at(line_start as usize))
            && lines <= line_start
            && (lines == 0) == (line_start == 0)
            && first_code < 1000
            && Flags::from_bits(flags).is_some()
            && negative_line <= 1
            && (enhanced == 0 || EnhancedCode::is_valid_word(enhanced));
        consistent.then_some(scanner)
    }

    /// True when no call has left a reply half read.
    pub fn is_fresh(&self) -> bool {
        *self == Scanner::new()
    }

    /// Parses the reply at the start of `input` and classifies it (see [`crate::classify`]).
    #[inline(always)]
    pub fn classify(&mut self, input: &[u8], ctx: &Context) -> Result<Classification, Error> {
        self.parse(input, ctx.options)
            .map(|reply| reply.classify(ctx))
    }

    /// The first step of [`Scanner::parse`], for a scanner kept as words
    /// ([`Scanner::to_words`]), reading only the first two: if `input` still ends inside the
    /// line where that scanner stopped, short of the line's length limit, the answer is
    /// [`Error::Incomplete`] and the first word's new value is returned. `None`: parse in full.
    ///
    /// Only the new bytes are looked at, and only when they are a few (a reply arriving a
    /// byte at a time pays for each byte once). This holds from a line's first byte on: the
    /// line is read in full once its end arrives. A line that reaches its limit is an answer,
    /// not a resume.
    #[inline(always)]
    pub fn resume_words(words: [u32; 2], input: &[u8]) -> Option<u32> {
        let [scanned_to, line_limit] = words;
        // A scanner's own limit never passes MAX_REPLY_LEN (from_words checks it); words
        // kept elsewhere, perhaps corrupted, must not let a reply grow past it either.
        resume_in_line(scanned_to, line_limit.min(MAX_REPLY_LEN as u32), input)
    }

    /// Parses the reply at the start of `input`.
    #[inline(always)]
    pub fn parse<'a>(&mut self, input: &'a [u8], options: Options) -> Result<Reply<'a>, Error> {
        if let Some(scanned_to) = resume_in_line(self.scanned_to, self.line_limit, input) {
            self.scanned_to = scanned_to;
            return Err(Error::Incomplete);
        }
        let state = if self.line_start == 0 {
            match first_line(input, self.scanned_to as usize, options) {
                FirstLine::Reply(result) => {
                    *self = Scanner::new();
                    return result;
                }
                FirstLine::More(first) => first.scanner(),
                // A scanner past the end (reused on a shorter input) is left for
                // `parse_lines` to start over.
                FirstLine::Unfinished => Scanner {
                    scanned_to: self.scanned_to.max(first_line_end(input)),
                    ..*self
                },
            }
        } else {
            *self
        };
        let mut resume = Scanner::new();
        let result = parse_lines(state, input, options, &mut resume);
        *self = resume;
        result
    }

    /// The state of a fresh scanner whose first line was searched without an end found.
    #[inline(always)]
    fn searched_first_line(input: &[u8]) -> Scanner {
        Scanner {
            scanned_to: first_line_end(input),
            ..Scanner::new()
        }
    }

    /// [`Scanner::parse`] for a reply read whole: no scanner state lives in memory on the
    /// way to a one-line answer (a fresh scanner kept on the stack cost a store-forwarding
    /// stall per reply).
    #[inline(always)]
    pub(crate) fn parse_whole(input: &[u8], options: Options) -> Result<Reply<'_>, Error> {
        let first = match first_line(input, 0, options) {
            FirstLine::Reply(result) => return result,
            FirstLine::More(first) => Some(first),
            FirstLine::Unfinished => None,
        };
        read_lines(first, input, options)
    }

    /// [`crate::classify`]. A one-line reply is classified where it was read, in registers; the
    /// multiline path is a call of its own. (Merged into one parse result first, both went
    /// through a reply in memory, reloaded at once: a quarter of an enhanced reply's time.)
    #[inline(always)]
    pub(crate) fn classify_whole(input: &[u8], ctx: &Context) -> Result<Classification, Error> {
        let first = match first_line(input, 0, ctx.options) {
            FirstLine::Reply(result) => return result.map(|reply| reply.classify(ctx)),
            FirstLine::More(first) => Some(first),
            FirstLine::Unfinished => None,
        };
        read_lines(first, input, ctx.options).map(|reply| reply.classify(ctx))
    }
}

/// [`Scanner::classify_whole`] past the first line, up to the parsed reply: the verdict is
/// made in the caller. (With the verdict made here too, the caller's result had its address
/// passed to this call, so the one-line path built its result in memory as well: 263
/// instructions per short reply with it, 227 without.)
#[inline(never)]
pub(super) fn read_lines(
    first: Option<AfterFirst>,
    input: &[u8],
    options: Options,
) -> Result<Reply<'_>, Error> {
    let state = match first {
        Some(first) => match later_lines(first, input, options) {
            Ok(result) => return result,
            Err(state) => state,
        },
        None => Scanner::searched_first_line(input),
    };
    parse_lines(state, input, options, &mut Scanner::new())
}

/// The lines after the first, each read by [`first_line`] as if it began a reply, and joined;
/// where `first_line` finds no line end (the input ends inside the reply, or a limit is near),
/// the state to go on from, for `parse_lines`. The general loop of `parse_lines`, with its
/// scanner state, cost more per line than a whole one-line reply (a six-line Gmail reply
/// 1,988 instructions).
#[inline(always)]
pub(super) fn later_lines(
    first: AfterFirst,
    input: &[u8],
    options: Options,
) -> Result<Result<Reply<'_>, Error>, Scanner> {
    let AfterFirst {
        end: mut line_start,
        code: first_code,
        mut flags,
        mut negative_line,
        mut enhanced,
    } = first;
    let mut lines = 1;
    let reply_end = input.len().min(MAX_REPLY_LEN);
    let mut last_line_len = line_start as usize;
    // Where `parse_lines` is to go on searching, when it is handed the reply.
    let searched_to = loop {
        if last_line_len < PLAIN_LINE_MAX {
            let skip = skip_plain_continuations(input, line_start as usize);
            lines += skip.lines;
            line_start = skip.line_start as u32;
            if skip.searched_to != skip.line_start {
                break skip.searched_to as u32;
            }
        }
        let start = line_start as usize;
        let line = match input.get(start..reply_end) {
            Some(rest) => first_line(rest, 0, options),
            None => FirstLine::Unfinished,
        };
        // The last line has an arm of its own: merged with the others' (the code check and the
        // flags taken once), it cost 18-19 more instructions per multiline reply and the
        // corpus about 1.5% more time.
        match line {
            FirstLine::More(line) => {
                lines += 1;
                if line.code != first_code {
                    if options.contains(Options::STRICT) {
                        let consumed = start + line.end as usize;
                        return Ok(Err(Error::Malformed { consumed, lines }));
                    }
                    flags |= Flags::CODE_MISMATCH.bits();
                }
                flags |= line.flags;
                negative_line |= line.negative_line;
                if line.enhanced != 0 {
                    enhanced = line.enhanced;
                }
                last_line_len = line.end as usize;
                line_start += line.end;
            }
            FirstLine::Reply(Ok(last)) => {
                let mut flags = last.flags.union(Flags(flags)).union(Flags::MULTILINE);
                if u32::from(last.code) != first_code {
                    if options.contains(Options::STRICT) {
                        let consumed = start + last.bytes.len();
                        return Ok(Err(Error::Malformed {
                            consumed,
                            lines: lines + 1,
                        }));
                    }
                    flags.insert(Flags::CODE_MISMATCH);
                }
                return Ok(Ok(Reply {
                    bytes: &input[..start + last.bytes.len()],
                    code: last.code,
                    digits: last.digits,
                    enhanced: if last.enhanced != 0 {
                        last.enhanced
                    } else {
                        enhanced
                    },
                    flags,
                    lines: lines + 1,
                    negative_line: last.negative_line || negative_line != 0,
                    text_start: start + last.text_start,
                    text_end: start + last.text_end,
                }));
            }
            FirstLine::Reply(Err(Error::Malformed { consumed, .. })) => {
                let consumed = start + consumed;
                return Ok(Err(Error::Malformed {
                    consumed,
                    lines: lines + 1,
                }));
            }
            FirstLine::Reply(Err(_)) | FirstLine::Unfinished => break line_start,
        }
    };
    Err(Scanner {
        scanned_to: searched_to,
        line_limit: 0,
        line_start,
        lines,
        first_code,
        flags,
        negative_line,
        enhanced,
    })
}

/// Reads lines on from state `s`; when the input ends inside the reply, leaves the state to
/// resume from in `resume` (untouched otherwise). The caller's own scanner is never passed
/// here: one whose address no call takes can live in registers, which is what makes a reply
/// fed a byte at a time cheap.
#[inline]
pub(super) fn parse_lines<'a>(
    s: Scanner,
    input: &'a [u8],
    options: Options,
    resume: &mut Scanner,
) -> Result<Reply<'a>, Error> {
    let strict = options.contains(Options::STRICT);
    // The state in locals, not in `s`: a by-value scanner is kept in the memory it was passed
    // in, and each line's update of it went there.
    let Scanner {
        mut scanned_to,
        line_limit: _,
        mut line_start,
        mut lines,
        mut first_code,
        mut flags,
        mut negative_line,
        mut enhanced,
    } = s;
    // The length of the line before, or more (a scanner from an earlier call knows only where
    // its reply starts): after a long line, the next is read the usual way, not skipped, as a
    // reply's lines tend to be alike (a reply of 8 KiB lines searched the first 128 bytes of
    // each twice).
    let mut last_line_len = line_start as usize;
    loop {
        if lines >= 1 && scanned_to == line_start && last_line_len < PLAIN_LINE_MAX {
            let skip = skip_plain_continuations(input, line_start as usize);
            line_start = skip.line_start as u32;
            scanned_to = skip.searched_to as u32;
            lines += skip.lines;
        }
        let start = line_start as usize;
        let limit = line_limit_at(start);
        let window_end = input.len().min(limit);
        let search_from = scanned_to as usize;
        if search_from > window_end {
            // Only a scanner reused on a shorter input gets here: start over.
            (scanned_to, line_start, lines, first_code) = (0, 0, 0, 0);
            (flags, negative_line, enhanced) = (0, 0, 0);
            continue;
        }
        // Each line is read by the one-line path's step, as if it began a reply.
        let reply_end = input.len().min(MAX_REPLY_LEN);
        let line = first_line(&input[start..reply_end], search_from - start, options);
        match line {
            FirstLine::Unfinished => {
                if window_end == limit {
                    return Err(Error::TooLong { consumed: 0, lines });
                }
                *resume = Scanner {
                    scanned_to: window_end as u32,
                    line_limit: limit as u32,
                    line_start,
                    lines,
                    first_code,
                    flags,
                    negative_line,
                    enhanced,
                };
                return Err(Error::Incomplete);
            }
            FirstLine::Reply(Err(e)) => {
                return Err(match e {
                    Error::Malformed { consumed, .. } => Error::Malformed {
                        consumed: start + consumed,
                        lines: lines + 1,
                    },
                    e => e,
                });
            }
            FirstLine::More(line) => {
                lines += 1;
                let end = start + line.end as usize;
                if lines == 1 {
                    first_code = line.code;
                } else if line.code != first_code {
                    if strict {
                        return Err(Error::Malformed {
                            consumed: end,
                            lines,
                        });
                    }
                    flags |= Flags::CODE_MISMATCH.bits();
                }
                flags |= line.flags;
                negative_line |= line.negative_line;
                if line.enhanced != 0 {
                    enhanced = line.enhanced;
                }
                line_start = end as u32;
                scanned_to = end as u32;
                last_line_len = line.end as usize;
            }
            FirstLine::Reply(Ok(last)) => {
                lines += 1;
                let end = start + last.bytes.len();
                let mut flags = last.flags.union(Flags(flags));
                if lines > 1 {
                    flags.insert(Flags::MULTILINE);
                    if u32::from(last.code) != first_code {
                        if strict {
                            return Err(Error::Malformed {
                                consumed: end,
                                lines,
                            });
                        }
                        flags.insert(Flags::CODE_MISMATCH);
                    }
                }
                return Ok(Reply {
                    bytes: &input[..end],
                    code: last.code,
                    digits: last.digits,
                    enhanced: if last.enhanced != 0 {
                        last.enhanced
                    } else {
                        enhanced
                    },
                    flags,
                    lines,
                    negative_line: last.negative_line || negative_line != 0,
                    text_start: start + last.text_start,
                    text_end: start + last.text_end,
                });
            }
        }
    }
}

/// What reading a reply's first line found.
pub(super) enum FirstLine<'a> {
    /// The whole reply: one line, or a malformed first line.
    Reply(Result<Reply<'a>, Error>),
    /// More lines follow; what the first said.
    More(AfterFirst),
    /// No line end yet: the first line is searched to [`first_line_end`].
    Unfinished,
}

/// Where [`first_line`] stops searching for the first line's end. On [`FirstLine::Unfinished`]
/// the search goes on from there (it used to start over: a line with no end in sight was
/// searched twice). Not handed back by `first_line`: a larger answer slowed every reply.
#[inline(always)]
pub(super) fn first_line_end(input: &[u8]) -> u32 {
    input.len().min(MAX_LINE_LEN) as u32
}

/// A multiline reply's first line, as the scanner keeps it: the words a fresh [`Scanner`]
/// does not already hold. Five words rather than a whole scanner: the larger value made the
/// caller's loop spill registers (a fifth more instructions per short reply).
#[derive(Clone, Copy)]
pub(super) struct AfterFirst {
    pub(super) end: u32,
    pub(super) code: u32,
    pub(super) flags: u32,
    pub(super) negative_line: u32,
    pub(super) enhanced: u32,
}

impl AfterFirst {
    #[inline(always)]
    fn scanner(self) -> Scanner {
        Scanner {
            scanned_to: self.end,
            line_limit: 0,
            line_start: self.end,
            lines: 1,
            first_code: self.code,
            flags: self.flags,
            negative_line: self.negative_line,
            enhanced: self.enhanced,
        }
    }
}

/// Reads a reply's first line, without the scanner's bookkeeping: most replies are one line
/// (all of a transaction's but EHLO's), and they are done here.
#[inline(always)]
pub(super) fn first_line(input: &[u8], searched: usize, options: Options) -> FirstLine<'_> {
    let Some(window) = input.get(searched..first_line_end(input) as usize) else {
        return FirstLine::Unfinished;
    };
    let Some(lf) = find_lf(window) else {
        return FirstLine::Unfinished;
    };
    let end = searched + lf + 1;
    let malformed = FirstLine::Reply(Err(Error::Malformed {
        consumed: end,
        lines: 1,
    }));
    let Some(head) = reply_line(&input[..end]) else {
        return malformed;
    };
    let bare_lf = head.bare_lf;
    let long_line = end > RFC_LINE_LEN;
    if options.contains(Options::STRICT) && (bare_lf || long_line || !is_standard_code(head.code)) {
        return malformed;
    }
    let mut flags = Flags::empty();
    if bare_lf {
        flags.insert(Flags::BARE_LF);
    }
    if long_line {
        flags.insert(Flags::LONG_LINE);
    }
    let negative_line = (400..600).contains(&head.code);
    if !head.last {
        return FirstLine::More(AfterFirst {
            end: end as u32,
            code: u32::from(head.code),
            flags: flags.bits(),
            negative_line: u32::from(negative_line),
            enhanced: head.enhanced,
        });
    }
    FirstLine::Reply(Ok(Reply {
        bytes: &input[..end],
        code: head.code,
        digits: head.digits,
        enhanced: head.enhanced,
        flags,
        lines: 1,
        negative_line,
        text_start: head.text_start,
        text_end: head.text_end,
    }))
}

/// [`Scanner::resume_words`] with a limit known to be at most [`MAX_REPLY_LEN`].
#[inline(always)]
pub(super) fn resume_in_line(scanned_to: u32, line_limit: u32, input: &[u8]) -> Option<u32> {
    let (from, len) = (scanned_to as usize, input.len());
    (len < line_limit as usize && from <= len && few_without_lf(&input[from..]))
        .then_some(len as u32)
}

/// Where a line that starts at `start` reaches [`MAX_LINE_LEN`] or the reply
/// [`MAX_REPLY_LEN`].
#[inline(always)]
pub(super) fn line_limit_at(start: usize) -> usize {
    (start + MAX_LINE_LEN).min(MAX_REPLY_LEN)
}

/// True if `new`, the bytes a resumed call brings, are a few and hold no LF. A few: a reply
/// arriving a byte at a time is the case the resume check is for; more bytes take the full
/// path, which searches them as fast, and no call out of the check keeps the C entry point
/// free of an unwinding path.
#[inline(always)]
pub(super) fn few_without_lf(new: &[u8]) -> bool {
    match new {
        [only] => *only != b'\n',
        _ => new.len() < 8 && new.iter().all(|&b| b != b'\n'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack_enhanced;

    #[test]
    fn scanner_words_with_an_impossible_enhanced_code_are_refused() {
        let mut scanner = Scanner::new();
        assert_eq!(
            scanner.parse(b"250-2.1.5 a\r\n250-b", Options::default()),
            Err(Error::Incomplete)
        );
        let words = scanner.to_words();
        assert_eq!(Scanner::from_words(&words), Some(scanner));
        let code = EnhancedCode::new(2, 1, 5).expect("a valid code");
        for (subject, detail, valid) in [(999, 999, true), (1000, 5, false), (1, 1023, false)] {
            let mut corrupted = words;
            corrupted[7] = pack_enhanced(2, subject, detail);
            assert_eq!(Scanner::from_words(&corrupted).is_some(), valid);
        }
        assert_eq!(words[7], pack_enhanced(2, 1, 5));
        assert_eq!(EnhancedCode::from_word(words[7]), Some(code));
    }
}
