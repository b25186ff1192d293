//! The reply parser: RFC 5321 4.2 reply lines, RFC 3463 enhanced codes, pipelined streams.
//!
//! Line ends are found a word at a time (memchr for long lines); each complete line is read by
//! the grammar, `reply_line`, written with nom combinators. Only complete lines are judged, so
//! a reply cut anywhere is `Incomplete`, never a wrong answer.
//! The [`Scanner`] keeps what earlier calls learned, so a caller whose buffer grows a byte at a
//! time pays for each byte once, not once per call.

mod grammar;
mod line;
mod reply;
mod scanner;
mod search;

pub(crate) use line::line_at;
pub use line::{ReplyLine, ReplyLines};
pub use reply::{Lines, Reply};
pub use scanner::Scanner;
