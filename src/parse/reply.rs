//! The parsed reply: [`Reply`], borrowing its input, and the [`Lines`] of it.

use core::ops::Range;

use crate::{Classification, Context, EnhancedCode, Flags};

/// A parsed reply, borrowing the input it was read from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Reply<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) code: u16,
    /// The code's first two digits, as the parser read them: the policy's first questions,
    /// answered without dividing the code.
    pub(super) digits: [u8; 2],
    /// An [`EnhancedCode`]'s word, 0 for none (the scanner keeps it so too).
    pub(super) enhanced: u32,
    pub(super) flags: Flags,
    pub(super) lines: u32,
    pub(super) negative_line: bool,
    pub(super) text_start: usize,
    pub(super) text_end: usize,
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
    /// The lines as the grammar read them: code, enhanced code, text and where each lies.
    pub fn parsed_lines(&self) -> super::ReplyLines<'a> {
        super::ReplyLines {
            input: self.bytes,
            at: 0,
        }
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
    pub(super) rest: &'a [u8],
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
