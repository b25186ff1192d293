//! A reply's lines one at a time, read by the reply's own grammar: for callers that show or read
//! the lines (EHLO keywords, AUTH challenges, error texts) without splitting the reply again.

use super::grammar::reply_line;
use crate::{EnhancedCode, Error, MAX_LINE_LEN};

/// One line of a reply: its code, enhanced code and text, and where it lies in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyLine<'a> {
    input: &'a [u8],
    start: usize,
    /// Where the line end starts.
    end: usize,
    next: usize,
    code: u16,
    enhanced: Option<EnhancedCode>,
    last: bool,
    text_start: usize,
    text_end: usize,
}

impl<'a> ReplyLine<'a> {
    /// The line's reply code.
    pub fn code(&self) -> u16 {
        self.code
    }
    /// The line's enhanced code as sent (`None` on 3xx lines, where RFC 2034 ignores it).
    pub fn enhanced(&self) -> Option<EnhancedCode> {
        self.enhanced
    }
    /// True for the final line (a space after the code), false for `250-` lines.
    pub fn is_last(&self) -> bool {
        self.last
    }
    /// The line without its line end.
    pub fn as_bytes(&self) -> &'a [u8] {
        &self.input[self.start..self.end]
    }
    /// The text after the code and enhanced code (empty for a code-only line such as `250`).
    pub fn text(&self) -> &'a [u8] {
        &self.input[self.text_start..self.text_end]
    }
    /// Where the line (without its line end) lies in the input the reply was read from.
    pub fn range(&self) -> core::ops::Range<usize> {
        self.start..self.end
    }
    /// Where [`ReplyLine::text`] lies in that input.
    pub fn text_range(&self) -> core::ops::Range<usize> {
        self.text_start..self.text_end
    }
    /// Where the next line starts: just past this line's end.
    pub fn next_start(&self) -> usize {
        self.next
    }
}

/// Reads the line that starts at `start` in `input`. `Incomplete` when no line end follows,
/// `TooLong` past [`MAX_LINE_LEN`], `Malformed` (with `consumed` reaching the line's end,
/// counted from `start`) when it is not a reply line.
pub(crate) fn line_at(input: &[u8], start: usize) -> Result<ReplyLine<'_>, Error> {
    let rest = input.get(start..).ok_or(Error::Incomplete)?;
    let window = &rest[..rest.len().min(MAX_LINE_LEN)];
    let Some(lf) = super::search::find_lf(window) else {
        return Err(if rest.len() >= MAX_LINE_LEN {
            Error::TooLong {
                consumed: 0,
                lines: 0,
            }
        } else {
            Error::Incomplete
        });
    };
    let line = &rest[..=lf];
    let Some(parsed) = reply_line(line) else {
        return Err(Error::Malformed {
            consumed: lf + 1,
            lines: 1,
        });
    };
    Ok(ReplyLine {
        input,
        start,
        end: start + parsed.text_end,
        next: start + lf + 1,
        code: parsed.code,
        enhanced: EnhancedCode::from_word(parsed.enhanced).filter(|_| parsed.digits[0] != 3),
        last: parsed.last,
        text_start: start + parsed.text_start,
        text_end: start + parsed.text_end,
    })
}

/// Iterator over a parsed [`Reply`](crate::Reply)'s lines, read by the grammar.
#[derive(Clone, Debug)]
pub struct ReplyLines<'a> {
    pub(super) input: &'a [u8],
    pub(super) at: usize,
}

impl<'a> Iterator for ReplyLines<'a> {
    type Item = ReplyLine<'a>;
    fn next(&mut self) -> Option<ReplyLine<'a>> {
        // A parsed reply's lines all parse; an error can only mean the end.
        let line = line_at(self.input, self.at).ok()?;
        self.at = line.next;
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_where_they_lie() {
        let input = b"250-mx.example.com\r\n250-SIZE 1000\n250 2.0.0\r\n";
        let first = line_at(input, 0).unwrap();
        assert_eq!(
            (first.code(), first.is_last(), first.text(), first.range()),
            (250, false, &b"mx.example.com"[..], 0..18)
        );
        let second = line_at(input, first.next_start()).unwrap();
        assert_eq!(
            (second.text(), second.next_start()),
            (&b"SIZE 1000"[..], 34)
        );
        let third = line_at(input, second.next_start()).unwrap();
        assert_eq!(
            (third.is_last(), third.text(), third.enhanced()),
            (true, &b""[..], EnhancedCode::new(2, 0, 0))
        );
        assert_eq!(third.as_bytes(), b"250 2.0.0");
        assert_eq!(line_at(input, input.len()), Err(Error::Incomplete));
        assert_eq!(line_at(input, input.len() + 1), Err(Error::Incomplete));
        assert_eq!(line_at(b"250 ok", 0), Err(Error::Incomplete));
        assert_eq!(
            line_at(b"x\r\n250 ok\r\n", 0),
            Err(Error::Malformed {
                consumed: 3,
                lines: 1
            })
        );
        let long = [b'x'; MAX_LINE_LEN];
        assert!(matches!(line_at(&long, 0), Err(Error::TooLong { .. })));
        // RFC 2034: 3xx lines carry no enhanced code; the text is what follows it all the same.
        let challenge = line_at(b"354 2.0.0 go ahead\r\n", 0).unwrap();
        assert_eq!(
            (challenge.enhanced(), challenge.text()),
            (None, &b"go ahead"[..])
        );
    }
}
