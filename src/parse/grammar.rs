//! The reply grammar, written with nom combinators: RFC 5321 4.2 reply lines and RFC 3463
//! enhanced codes. [`reply_line`] reads one complete line (the line-end search has found its
//! LF); the scanner joins lines into replies.

use nom::{
    Mode, OutputMode, Parser,
    branch::alt,
    combinator::{map, peek, value},
    sequence::{preceded, terminated},
};

use crate::pack_enhanced;

/// One reply line as the grammar reads it: code, whether it is the last line, enhanced code,
/// where the text lies in the line, and how the line ends.
#[derive(Clone, Copy)]
pub(super) struct Line {
    pub(super) code: u16,
    /// The code's first two digits.
    pub(super) digits: [u8; 2],
    pub(super) last: bool,
    /// An [`EnhancedCode`]'s word, 0 for none.
    pub(super) enhanced: u32,
    pub(super) text_start: usize,
    /// Where the line end starts.
    pub(super) text_end: usize,
    /// The line ended in LF without CR.
    pub(super) bare_lf: bool,
}

/// nom's result with no error detail: a line that does not parse is malformed, whatever the
/// reason, so the error carries nothing (and costs nothing to build).
pub(super) type PResult<'a, T> = nom::IResult<&'a [u8], T, ()>;

pub(super) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The grammar's terminal: one byte for which the predicate holds (nom's `satisfy` for bytes,
/// without the detour through `char`). A parser of its own, not a closure: nom's `Parser` for
/// closures is not `#[inline]`, and in the C entry point the terminal stayed a call.
#[derive(Clone, Copy)]
pub(super) struct Byte<P>(P);

impl<'a, P: Fn(u8) -> bool> Parser<&'a [u8]> for Byte<P> {
    type Output = u8;
    type Error = ();
    #[inline(always)]
    fn process<OM: OutputMode>(&mut self, i: &'a [u8]) -> nom::PResult<OM, &'a [u8], u8, ()> {
        match i {
            [b, rest @ ..] if (self.0)(*b) => Ok((rest, OM::Output::bind(|| *b))),
            _ => Err(nom::Err::Error(OM::Error::bind(|| ()))),
        }
    }
}

/// One byte for which `pred` holds.
#[inline(always)]
pub(super) fn byte<P: Fn(u8) -> bool>(pred: P) -> Byte<P> {
    Byte(pred)
}

/// The grammar's other terminal: the bytes, none or more, for which the predicate holds
/// (nom's `take_while` for bytes, whose slicing, `Input::take_from`, nom leaves out of line).
#[derive(Clone, Copy)]
pub(super) struct While<P>(P);

impl<'a, P: Fn(u8) -> bool> Parser<&'a [u8]> for While<P> {
    type Output = &'a [u8];
    type Error = ();
    #[inline(always)]
    fn process<OM: OutputMode>(&mut self, i: &'a [u8]) -> nom::PResult<OM, &'a [u8], &'a [u8], ()> {
        // Most runs are empty (the text after an enhanced code starts at once): that case
        // is told by its first byte, without entering the loop.
        let n = match i {
            [b, ..] if (self.0)(*b) => i.iter().position(|&b| !(self.0)(b)).unwrap_or(i.len()),
            _ => 0,
        };
        let (taken, rest) = i.split_at(n);
        Ok((rest, OM::Output::bind(|| taken)))
    }
}

/// Bytes for which `pred` holds, none or more.
#[inline(always)]
pub(super) fn take_while<P: Fn(u8) -> bool>(pred: P) -> While<P> {
    While(pred)
}

/// A rule of the grammar as a parser for use inside other rules: nom's `Parser` for functions
/// is not `#[inline]`, and in the C entry point the rules used inside others stayed calls.
macro_rules! rule {
    ($parser:ident, $rule:ident, $output:ty) => {
        #[derive(Clone, Copy)]
        pub(super) struct $parser;

        impl<'a> Parser<&'a [u8]> for $parser {
            type Output = $output;
            type Error = ();
            #[inline(always)]
            fn process<OM: OutputMode>(
                &mut self,
                i: &'a [u8],
            ) -> nom::PResult<OM, &'a [u8], $output, ()> {
                match $rule(i) {
                    Ok((rest, o)) => Ok((rest, OM::Output::bind(|| o))),
                    Err(_) => Err(nom::Err::Error(OM::Error::bind(|| ()))),
                }
            }
        }
    };
}

/// `class = "2" / "4" / "5"`, as its value.
#[inline(always)]
pub(super) fn class(i: &[u8]) -> PResult<'_, u8> {
    map(byte(|b| matches!(b, b'2' | b'4' | b'5')), |b| b - b'0').parse(i)
}

/// `*(SP / HTAB)`.
#[inline(always)]
pub(super) fn blanks(i: &[u8]) -> PResult<'_, &[u8]> {
    take_while(is_blank).parse(i)
}

/// SP or HTAB.
#[inline(always)]
pub(super) fn blank(i: &[u8]) -> PResult<'_, u8> {
    byte(is_blank).parse(i)
}

/// `line-end = CRLF / LF`; true for a bare LF (accepted and flagged, POLICY.md 2).
#[inline(always)]
pub(super) fn line_end(i: &[u8]) -> PResult<'_, bool> {
    alt((
        value(false, (byte(|b| b == b'\r'), byte(|b| b == b'\n'))),
        value(true, byte(|b| b == b'\n')),
    ))
    .parse(i)
}

/// `code = 3DIGIT`, with its first two digits. A terminal of its own, as [`Part`] is (nom's
/// `take_while_m_n(3, 3, ..)` for digits, the value read from the digits taken).
#[derive(Clone, Copy)]
pub(super) struct ReplyCode;

impl<'a> Parser<&'a [u8]> for ReplyCode {
    type Output = (u16, [u8; 2]);
    type Error = ();
    #[inline(always)]
    fn process<OM: OutputMode>(
        &mut self,
        i: &'a [u8],
    ) -> nom::PResult<OM, &'a [u8], (u16, [u8; 2]), ()> {
        match i {
            [a, b, c, rest @ ..] => {
                // All three digits in one test: each byte less '0' is 0 to 9 or has a high bit
                // set, itself or plus 0x76. A borrow or carry between bytes starts at a byte
                // that fails already (the test below tries every three bytes).
                let d = u32::from_le_bytes([*a, *b, *c, b'0']).wrapping_sub(0x3030_3030);
                if (d | d.wrapping_add(0x7676_7676)) & 0x8080_8080 != 0 {
                    return Err(nom::Err::Error(OM::Error::bind(|| ())));
                }
                let [a, b, c, _] = d.to_le_bytes();
                let code = u16::from(a) * 100 + u16::from(b) * 10 + u16::from(c);
                Ok((rest, OM::Output::bind(|| (code, [a, b]))))
            }
            _ => Err(nom::Err::Error(OM::Error::bind(|| ()))),
        }
    }
}

/// `separator = "-" / SP / line-end`: false for `-` (more lines follow). A code alone on the
/// last line is accepted (RFC 5321 4.2 asks clients to); the line end is not taken.
#[inline(always)]
pub(super) fn separator(i: &[u8]) -> PResult<'_, bool> {
    alt((
        value(false, byte(|b| b == b'-')),
        value(true, byte(|b| b == b' ')),
        value(true, peek(line_end)),
    ))
    .parse(i)
}

/// `1*3DIGIT`: a subject or a detail, as its value. A terminal of its own (nom's
/// `take_while_m_n(1, 3, ..)` for digits, the value read from the digits it takes): as a digit
/// and two optional ones, the rule matched on their `Option`s.
#[derive(Clone, Copy)]
pub(super) struct Part;

impl<'a> Parser<&'a [u8]> for Part {
    type Output = u16;
    type Error = ();
    #[inline(always)]
    fn process<OM: OutputMode>(&mut self, i: &'a [u8]) -> nom::PResult<OM, &'a [u8], u16, ()> {
        let v = |d: u8| u16::from(d - b'0');
        let (rest, value) = match i {
            [a @ b'0'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', rest @ ..] => {
                (rest, v(*a) * 100 + v(*b) * 10 + v(*c))
            }
            [a @ b'0'..=b'9', b @ b'0'..=b'9', rest @ ..] => (rest, v(*a) * 10 + v(*b)),
            [a @ b'0'..=b'9', rest @ ..] => (rest, v(*a)),
            _ => return Err(nom::Err::Error(OM::Error::bind(|| ()))),
        };
        Ok((rest, OM::Output::bind(|| value)))
    }
}

/// `class "." DIGIT "." DIGIT` followed by SP: the shape of most enhanced codes (224 of the
/// 231 lines with one in the vectors), as a word. A terminal of its own, as [`ReplyCode`] is:
/// a few tests at fixed offsets, where the general rule, [`any_enhanced_code`], takes a
/// terminal per byte and a digit count per part. It accepts nothing that rule does not, with
/// the same value (a test tries every short input over the bytes that matter).
#[derive(Clone, Copy)]
pub(super) struct OneDigitParts;

impl<'a> Parser<&'a [u8]> for OneDigitParts {
    type Output = u32;
    type Error = ();
    #[inline(always)]
    fn process<OM: OutputMode>(&mut self, i: &'a [u8]) -> nom::PResult<OM, &'a [u8], u32, ()> {
        let Some(head) = i.first_chunk::<6>() else {
            return Err(nom::Err::Error(OM::Error::bind(|| ())));
        };
        // `&`, not `&&`: a branch per test cost more than the tests.
        if !((head[1] == b'.') & (head[3] == b'.') & (head[5] == b' ')) {
            return Err(nom::Err::Error(OM::Error::bind(|| ())));
        }
        let [class, subject, detail] = [head[0], head[2], head[4]].map(|b| b.wrapping_sub(b'0'));
        if !(matches!(class, 2 | 4 | 5) & (subject < 10) & (detail < 10)) {
            return Err(nom::Err::Error(OM::Error::bind(|| ())));
        }
        let word = pack_enhanced(u32::from(class), u32::from(subject), u32::from(detail));
        // Past the SP it tested: the blanks after the code are skipped next, one byte fewer.
        Ok((&i[6..], OM::Output::bind(|| word)))
    }
}

/// `enhanced-code = *SP class "." subject "." detail`, followed by SP, HTAB or the line end
/// (RFC 3463: class 2, 4 or 5, subject and detail of one to three digits); the code as an
/// [`EnhancedCode`]'s word. Its most common shape first, in one test.
#[inline(always)]
pub(super) fn enhanced_code(i: &[u8]) -> PResult<'_, u32> {
    alt((OneDigitParts, AnyEnhancedCode)).parse(i)
}

rule!(AnyEnhancedCode, any_enhanced_code, u32);

/// [`enhanced_code`] in full, a terminal per byte.
#[inline(always)]
pub(super) fn any_enhanced_code(i: &[u8]) -> PResult<'_, u32> {
    map(
        terminated(
            preceded(
                take_while(|b| b == b' '),
                (
                    class,
                    preceded(byte(|b| b == b'.'), Part),
                    preceded(byte(|b| b == b'.'), Part),
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
pub(super) fn text(i: &[u8]) -> PResult<'_, &[u8]> {
    // The line end's length from the patterns, not `split_at` after them: its bounds check
    // stayed, a compare and branch per line.
    match i {
        [text @ .., b'\r', b'\n'] => Ok((&i[text.len()..], text)),
        [text @ .., b'\n'] => Ok((&i[text.len()..], text)),
        _ => Err(nom::Err::Error(())),
    }
}

/// `reply-line = code separator [enhanced-code *(SP / HTAB)] text line-end` (RFC 5321 4.2,
/// RFC 3463), read from `line`, which ends at its first LF. `None`: not a reply line.
#[inline(always)]
pub(super) fn reply_line(line: &[u8]) -> Option<Line> {
    // `(code, separator)` as two steps, not nom's pair: through the pair's joined result the
    // separator's answer was tested again once known (22 of 293 instructions per reply).
    let Ok((i, (code, digits))) = ReplyCode.parse(line) else {
        return None;
    };
    let Ok((i, last)) = separator(i) else {
        return None;
    };
    // `opt(enhanced_code)`, with the rule called directly: through nom's `Parser` for
    // functions, which is not `#[inline]`, it stayed a call in the C entry point.
    // Most texts start with neither a blank nor a class digit: the one-byte check spares
    // those lines the enhanced-code rule.
    let may_be_enhanced = peek(byte(|b| matches!(b, b' ' | b'2' | b'4' | b'5')))
        .parse(i)
        .is_ok();
    // No closure around the rule (`then(|| ..)`): the C entry point kept that closure a call.
    let (i, enhanced) = match may_be_enhanced {
        true => match enhanced_code(i) {
            Ok((rest, word)) => (rest, Some(word)),
            Err(_) => (i, None),
        },
        false => (i, None),
    };
    // Blanks after an enhanced code are not text.
    let i = match enhanced {
        Some(_) => blanks(i).map_or(i, |(i, _)| i),
        None => i,
    };
    let Ok((end, text)) = text(i) else {
        return None;
    };
    // `text` took all but the line end, CRLF or a bare LF: no need to read it again.
    let bare_lf = end.len() == 1;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EnhancedCode;

    #[test]
    fn reply_code_is_three_digits_for_every_three_bytes() {
        for n in 0..1u32 << 24 {
            let [a, b, c, _] = n.to_le_bytes();
            let digits = [a, b, c].iter().all(u8::is_ascii_digit);
            let line = [a, b, c, b' '];
            match ReplyCode.parse(&line[..]) {
                Ok((rest, (code, [d0, d1]))) => {
                    assert!(digits, "{a:#x} {b:#x} {c:#x}");
                    let want = [a, b, c].map(|d| u16::from(d - b'0'));
                    assert_eq!(code, want[0] * 100 + want[1] * 10 + want[2]);
                    assert_eq!(
                        (u16::from(d0), u16::from(d1), rest),
                        (want[0], want[1], &b" "[..])
                    );
                }
                Err(_) => assert!(!digits, "{a:#x} {b:#x} {c:#x}"),
            }
        }
    }

    /// A rule's result with the blanks that follow skipped, as `reply_line` does.
    fn past_blanks(r: PResult<'_, u32>) -> PResult<'_, u32> {
        r.map(|(rest, word)| (blanks(rest).map_or(rest, |(rest, _)| rest), word))
    }

    #[test]
    fn the_common_shape_agrees_with_the_whole_rule() {
        // Every input of up to 7 bytes over the bytes the rules tell apart: a class digit,
        // digits that are no class, the byte after '9', the separators and the line ends.
        const BYTES: &[u8] = b"209:. \t\r\n";
        let mut input = Vec::new();
        let mut shortcuts = 0;
        for len in 0..=7u32 {
            for mut n in 0..(BYTES.len() as u32).pow(len) {
                input.clear();
                for _ in 0..len {
                    input.push(BYTES[(n % BYTES.len() as u32) as usize]);
                    n /= BYTES.len() as u32;
                }
                let whole = past_blanks(any_enhanced_code(&input));
                if let Ok(short) = OneDigitParts.parse(&input[..]) {
                    assert_eq!(past_blanks(Ok(short)), whole, "{input:?}");
                    shortcuts += 1;
                }
                assert_eq!(past_blanks(enhanced_code(&input)), whole, "{input:?}");
            }
        }
        // "2.d.d " with d one of the three digits, alone or followed by any byte.
        assert_eq!(shortcuts, 3 * 3 * (1 + BYTES.len()));
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
