//! The reply parser: RFC 5321 4.2 reply lines, RFC 3463 enhanced codes, pipelined streams.
//!
//! Line ends are found a word at a time (memchr for long lines); each complete line is read by
//! the grammar, `reply_line`, written with nom combinators. Only complete lines are judged, so
//! a reply cut anywhere is `Incomplete`, never a wrong answer.
//! The [`Scanner`] keeps what earlier calls learned, so a caller whose buffer grows a byte at a
//! time pays for each byte once, not once per call.

use core::ops::Range;

use nom::{
    Parser,
    branch::alt,
    bytes::complete::take_while,
    combinator::{map, opt, peek, value},
    sequence::{preceded, terminated},
};

use crate::{
    Classification, Context, EnhancedCode, Error, Flags, MAX_LINE_LEN, MAX_REPLY_LEN, Options,
    RFC_LINE_LEN, pack_enhanced,
};

/// A parsed reply, borrowing the input it was read from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Reply<'a> {
    bytes: &'a [u8],
    code: u16,
    /// The code's first two digits, as the parser read them: the policy's first questions,
    /// answered without dividing the code.
    digits: [u8; 2],
    /// An [`EnhancedCode`]'s word, 0 for none (the scanner keeps it so too).
    enhanced: u32,
    flags: Flags,
    lines: u32,
    negative_line: bool,
    text_start: usize,
    text_end: usize,
}

impl<'a> Reply<'a> {
    /// The final line's reply code.
    pub fn code(&self) -> u16 {
        self.code
    }
    /// The final line's code's first digit.
    pub(crate) fn first_digit(&self) -> u16 {
        u16::from(self.digits[0])
    }
    /// The final line's code's second digit.
    pub(crate) fn second_digit(&self) -> u16 {
        u16::from(self.digits[1])
    }
    /// The final line's enhanced code, or else the last line's that has one, as sent.
    pub fn enhanced(&self) -> Option<EnhancedCode> {
        EnhancedCode::from_word(self.enhanced)
    }
    /// Parse facts: [`Flags::MULTILINE`], [`Flags::BARE_LF`], [`Flags::CODE_MISMATCH`],
    /// [`Flags::LONG_LINE`].
    pub fn flags(&self) -> Flags {
        self.flags
    }
    /// Number of lines.
    pub fn line_count(&self) -> u32 {
        self.lines
    }
    /// True if any line's code starts with 4 or 5.
    pub fn has_negative_line(&self) -> bool {
        self.negative_line
    }
    /// Bytes of input the reply took, line ends included.
    pub fn consumed(&self) -> usize {
        self.bytes.len()
    }
    /// The whole reply as received, line ends included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// The final line's text after the code and enhanced code.
    pub fn text(&self) -> &'a [u8] {
        &self.bytes[self.text_start..self.text_end]
    }
    /// Where [`Reply::text`] lies in the input.
    pub fn text_range(&self) -> Range<usize> {
        self.text_start..self.text_end
    }
    /// The lines, each without its line end.
    pub fn lines(&self) -> Lines<'a> {
        Lines { rest: self.bytes }
    }
    /// Applies the verdict policy.
    #[inline(always)]
    pub fn classify(&self, ctx: &Context) -> Classification {
        crate::policy::classify(self, ctx)
    }
}

/// Shows the enhanced code decoded, not as the packed word it is kept in.
impl core::fmt::Debug for Reply<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reply")
            .field("bytes", &self.bytes)
            .field("code", &self.code)
            .field("enhanced", &self.enhanced())
            .field("flags", &self.flags)
            .field("lines", &self.lines)
            .field("negative_line", &self.negative_line)
            .field("text", &self.text_range())
            .finish()
    }
}

/// Iterator over the lines of a [`Reply`], without their line ends.
#[derive(Clone, Debug)]
pub struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let lf = memchr::memchr(b'\n', self.rest)?;
        let line = &self.rest[..lf];
        self.rest = &self.rest[lf + 1..];
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

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

/// One reply line as the grammar reads it: code, whether it is the last line, enhanced code,
/// where the text lies in the line, and how the line ends.
#[derive(Clone, Copy)]
struct Line {
    code: u16,
    /// The code's first two digits.
    digits: [u8; 2],
    last: bool,
    /// An [`EnhancedCode`]'s word, 0 for none.
    enhanced: u32,
    text_start: usize,
    /// Where the line end starts.
    text_end: usize,
    /// The line ended in LF without CR.
    bare_lf: bool,
}

/// nom's result with no error detail: a line that does not parse is malformed, whatever the
/// reason, so the error carries nothing (and costs nothing to build).
type PResult<'a, T> = nom::IResult<&'a [u8], T, ()>;

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The grammar's terminal: one byte for which `pred` holds (nom's `satisfy` for bytes,
/// without the detour through `char`).
#[inline(always)]
fn byte(pred: impl Fn(u8) -> bool) -> impl Fn(&[u8]) -> PResult<'_, u8> {
    move |i| match i {
        [b, rest @ ..] if pred(*b) => Ok((rest, *b)),
        _ => Err(nom::Err::Error(())),
    }
}

/// One ASCII digit, as its value.
#[inline(always)]
fn digit(i: &[u8]) -> PResult<'_, u8> {
    map(byte(|b| b.is_ascii_digit()), |b| b - b'0').parse(i)
}

/// `class = "2" / "4" / "5"`, as its value.
#[inline(always)]
fn class(i: &[u8]) -> PResult<'_, u8> {
    map(byte(|b| matches!(b, b'2' | b'4' | b'5')), |b| b - b'0').parse(i)
}

/// `*(SP / HTAB)`.
#[inline(always)]
fn blanks(i: &[u8]) -> PResult<'_, &[u8]> {
    take_while(is_blank).parse(i)
}

/// SP or HTAB.
#[inline(always)]
fn blank(i: &[u8]) -> PResult<'_, u8> {
    byte(is_blank)(i)
}

/// `line-end = CRLF / LF`; true for a bare LF (accepted and flagged, POLICY.md 2).
#[inline(always)]
fn line_end(i: &[u8]) -> PResult<'_, bool> {
    alt((
        value(false, (byte(|b| b == b'\r'), byte(|b| b == b'\n'))),
        value(true, byte(|b| b == b'\n')),
    ))
    .parse(i)
}

/// `code = 3DIGIT`, with its first two digits.
#[inline(always)]
fn reply_code(i: &[u8]) -> PResult<'_, (u16, [u8; 2])> {
    map((digit, digit, digit), |(a, b, c)| {
        let code = u16::from(a) * 100 + u16::from(b) * 10 + u16::from(c);
        (code, [a, b])
    })
    .parse(i)
}

/// `separator = "-" / SP / line-end`: false for `-` (more lines follow). A code alone on the
/// last line is accepted (RFC 5321 4.2 asks clients to); the line end is not taken.
#[inline(always)]
fn separator(i: &[u8]) -> PResult<'_, bool> {
    alt((
        value(false, byte(|b| b == b'-')),
        value(true, byte(|b| b == b' ')),
        value(true, peek(line_end)),
    ))
    .parse(i)
}

/// `1*3DIGIT`: a subject or a detail.
#[inline(always)]
fn part(i: &[u8]) -> PResult<'_, u16> {
    map((digit, opt(digit), opt(digit)), |digits| match digits {
        (a, None, _) => u16::from(a),
        (a, Some(b), None) => u16::from(a) * 10 + u16::from(b),
        (a, Some(b), Some(c)) => u16::from(a) * 100 + u16::from(b) * 10 + u16::from(c),
    })
    .parse(i)
}

/// `enhanced-code = *SP class "." subject "." detail`, followed by SP, HTAB or the line end
/// (RFC 3463: class 2, 4 or 5, subject and detail of one to three digits); the code as an
/// [`EnhancedCode`]'s word.
#[inline(always)]
fn enhanced_code(i: &[u8]) -> PResult<'_, u32> {
    map(
        terminated(
            preceded(
                take_while(|b| b == b' '),
                (
                    class,
                    preceded(byte(|b| b == b'.'), part),
                    preceded(byte(|b| b == b'.'), part),
                ),
            ),
            peek(alt((value((), blank), value((), line_end)))),
        ),
        |(class, subject, detail)| {
            pack_enhanced(u32::from(class), u32::from(subject), u32::from(detail))
        },
    )
    .parse(i)
}

/// The text: everything up to the line end that closes the line (the input of [`reply_line`]
/// ends at its first LF, so the line end is its last one or two bytes).
#[inline(always)]
fn text(i: &[u8]) -> PResult<'_, &[u8]> {
    let len = match i {
        [.., b'\r', b'\n'] => i.len() - 2,
        [.., b'\n'] => i.len() - 1,
        _ => return Err(nom::Err::Error(())),
    };
    let (text, end) = i.split_at(len);
    Ok((end, text))
}

/// `reply-line = code separator [enhanced-code *(SP / HTAB)] text line-end` (RFC 5321 4.2,
/// RFC 3463), read from `line`, which ends at its first LF. `None`: not a reply line.
#[inline(always)]
fn reply_line(line: &[u8]) -> Option<Line> {
    let Ok((i, ((code, digits), last))) = (reply_code, separator).parse(line) else {
        return None;
    };
    let Ok((i, enhanced)) = opt(enhanced_code).parse(i) else {
        return None;
    };
    // Blanks after an enhanced code are not text.
    let i = match enhanced {
        Some(_) => blanks(i).map_or(i, |(i, _)| i),
        None => i,
    };
    let Ok((end, text)) = text(i) else {
        return None;
    };
    let Ok((_, bare_lf)) = line_end(end) else {
        return None;
    };
    let text_end = line.len() - end.len();
    Some(Line {
        code,
        digits,
        last,
        enhanced: enhanced.unwrap_or(0),
        text_start: text_end - text.len(),
        text_end,
        bare_lf,
    })
}

fn is_standard_code(code: u16) -> bool {
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
fn read_lines(
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
fn later_lines(
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
fn parse_lines<'a>(
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
        let Some(lf) = find_lf(&input[search_from..window_end]) else {
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
        };
        let end = search_from + lf + 1;
        lines += 1;
        line_start = end as u32;
        scanned_to = end as u32;
        last_line_len = end - start;

        let malformed = Error::Malformed {
            consumed: end,
            lines,
        };
        let Some(head) = reply_line(&input[start..end]) else {
            return Err(malformed);
        };
        let code = u32::from(head.code);
        if head.bare_lf {
            flags |= Flags::BARE_LF.bits();
        }
        if end - start > RFC_LINE_LEN {
            flags |= Flags::LONG_LINE.bits();
        }
        if lines == 1 {
            first_code = code;
        } else if code != first_code {
            flags |= Flags::CODE_MISMATCH.bits();
        }
        let strict_faults = Flags::BARE_LF | Flags::CODE_MISMATCH | Flags::LONG_LINE;
        if strict && (flags & strict_faults.bits() != 0 || !is_standard_code(head.code)) {
            return Err(malformed);
        }
        negative_line |= u32::from((400..600).contains(&head.code));
        if head.enhanced != 0 {
            enhanced = head.enhanced;
        }
        if head.last {
            let mut flags = Flags::from_bits(flags).unwrap_or_default();
            if lines > 1 {
                flags.insert(Flags::MULTILINE);
            }
            return Ok(Reply {
                bytes: &input[..end],
                code: head.code,
                digits: head.digits,
                enhanced,
                flags,
                lines,
                negative_line: negative_line != 0,
                text_start: start + head.text_start,
                text_end: start + head.text_end,
            });
        }
    }
}

/// What reading a reply's first line found.
enum FirstLine<'a> {
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
fn first_line_end(input: &[u8]) -> u32 {
    input.len().min(MAX_LINE_LEN) as u32
}

/// A multiline reply's first line, as the scanner keeps it: the words a fresh [`Scanner`]
/// does not already hold. Five words rather than a whole scanner: the larger value made the
/// caller's loop spill registers (a fifth more instructions per short reply).
#[derive(Clone, Copy)]
struct AfterFirst {
    end: u32,
    code: u32,
    flags: u32,
    negative_line: u32,
    enhanced: u32,
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
fn first_line(input: &[u8], searched: usize, options: Options) -> FirstLine<'_> {
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

/// Longest plain continuation line that `skip_plain_continuations` skips (EHLO keywords are
/// shorter); a longer one is read the usual way, its search going on from where the skip
/// stopped.
const PLAIN_LINE_MAX: usize = 128;

/// Where [`skip_plain_continuations`] stopped.
struct Skipped {
    /// The first line not skipped.
    line_start: usize,
    /// That line holds no LF before this.
    searched_to: usize,
    /// Lines skipped.
    lines: u32,
}

/// Skips the lines from `start` on that only continue the reply: the first line's code, `-`,
/// no enhanced code, CRLF, shorter than [`PLAIN_LINE_MAX`]. They change nothing but the line
/// count, and most lines of a multiline reply (EHLO's keywords) are such lines, so they are
/// found eight bytes at a time across line boundaries instead of line by line. The first
/// line was checked in full, so comparing its code's bytes suffices. A line whose head is
/// not a plain line's is left at once, before its end is searched for; a line found too
/// long is left where the search stopped, which the caller's search goes on from.
#[inline(always)]
fn skip_plain_continuations(input: &[u8], start: usize) -> Skipped {
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
fn skip_plain_lines(input: &[u8], mut start: usize, head: [u8; 4]) -> Skipped {
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
fn plain_head(input: &[u8], start: usize, head: [u8; 4]) -> bool {
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
fn lfs_in_word(hay: &[u8], at: usize, limit: usize) -> Option<u64> {
    if at + 8 > limit {
        return None;
    }
    let word: [u8; 8] = hay.get(at..at + 8)?.try_into().ok()?;
    Some(lfs_in(u64::from_le_bytes(word)))
}

/// The high bit of each byte of `word` that is an LF, and no other bit.
#[inline(always)]
fn lfs_in(word: u64) -> u64 {
    const LF: u64 = u64::from_ne_bytes([b'\n'; 8]);
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    let x = word ^ LF;
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// [`Scanner::resume_words`] with a limit known to be at most [`MAX_REPLY_LEN`].
#[inline(always)]
fn resume_in_line(scanned_to: u32, line_limit: u32, input: &[u8]) -> Option<u32> {
    let (from, len) = (scanned_to as usize, input.len());
    (len < line_limit as usize && from <= len && few_without_lf(&input[from..]))
        .then_some(len as u32)
}

/// Where a line that starts at `start` reaches [`MAX_LINE_LEN`] or the reply
/// [`MAX_REPLY_LEN`].
#[inline(always)]
fn line_limit_at(start: usize) -> usize {
    (start + MAX_LINE_LEN).min(MAX_REPLY_LEN)
}

/// True if `new`, the bytes a resumed call brings, are a few and hold no LF. A few: a reply
/// arriving a byte at a time is the case the resume check is for; more bytes take the full
/// path, which searches them as fast, and no call out of the check keeps the C entry point
/// free of an unwinding path.
#[inline(always)]
fn few_without_lf(new: &[u8]) -> bool {
    match new {
        [only] => *only != b'\n',
        _ => new.len() < 8 && new.iter().all(|&b| b != b'\n'),
    }
}

/// The first LF in `hay`. Reply lines are short: one of fewer than 16 bytes is read as two
/// words; the first 128 bytes of a longer one go to memchr's SSE2 search (16-byte compares
/// and a bit scan, with no call through memchr's run-time dispatch: an enhanced reply 7-9%
/// faster than with our own 32-byte blocks found word by word), the rest to memchr itself.
#[inline]
fn find_lf(hay: &[u8]) -> Option<usize> {
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
    // SSE2 is part of every x86_64 target, so `new` never fails; if it did, memchr searches.
    #[cfg(target_arch = "x86_64")]
    let found = match memchr::arch::x86_64::sse2::memchr::One::new(b'\n') {
        Some(sse2) => sse2.find(near),
        None => memchr::memchr(b'\n', near),
    };
    #[cfg(not(target_arch = "x86_64"))]
    let found = memchr::memchr(b'\n', near);
    if found.is_some() {
        return found;
    }
    if len <= SHORT {
        return None;
    }
    memchr::memchr(b'\n', &hay[SHORT..]).map(|i| SHORT + i)
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

    #[test]
    fn reply_lines() {
        let line = reply_line(b"452 4.5.3 Error: too many recipients\r\n").unwrap();
        assert_eq!(
            (
                line.code,
                line.last,
                line.text_start,
                line.text_end,
                line.bare_lf
            ),
            (452, true, 10, 36, false)
        );
        assert_eq!(
            EnhancedCode::from_word(line.enhanced),
            EnhancedCode::new(4, 5, 3)
        );
        let line = reply_line(b"250-PIPELINING\n").unwrap();
        assert_eq!(
            (
                line.code,
                line.last,
                line.enhanced,
                line.text_start,
                line.bare_lf
            ),
            (250, false, 0, 4, true)
        );
        let line = reply_line(b"250\r\n").unwrap();
        assert_eq!(
            (line.code, line.last, line.text_start, line.text_end),
            (250, true, 3, 3)
        );
        for bad in [
            &b"\n"[..],
            b"25\r\n",
            b"2500 x\r\n",
            b"250x\r\n",
            b"25a ok\r\n",
            b" 250 ok\r\n",
            b"250\r\r\n",
            b"250 ok",
        ] {
            assert!(reply_line(bad).is_none(), "{bad:?}");
        }
        for not_enhanced in [
            &b"550 #4.5.3 x\r\n"[..],
            b"550 5.1.1234 x\r\n",
            b"550 5.1.1x\r\n",
            b"550 3.1.1 x\r\n",
            b"550 5..1 x\r\n",
            b"550 5.1.1\r\r\n",
        ] {
            assert_eq!(
                reply_line(not_enhanced).unwrap().enhanced,
                0,
                "{not_enhanced:?}"
            );
        }
        assert_ne!(reply_line(b"550 5.7.1\tx\r\n").unwrap().enhanced, 0);
        assert_ne!(reply_line(b"550   5.7.1\r\n").unwrap().enhanced, 0);
        assert_ne!(reply_line(b"550 5.7.1\n").unwrap().enhanced, 0);
        let line = reply_line(b"550 5.12.123 \t x\r\n").unwrap();
        assert_eq!(
            (EnhancedCode::from_word(line.enhanced), line.text_start),
            (EnhancedCode::new(5, 12, 123), 15)
        );
    }
}
