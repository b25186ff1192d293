// The benchmark's corpus: every row of tests/vectors, shared by benches/parsers.rs and
// examples/instructions.rs (included with `include!`, as replies.rs is).

/// Every row of `tests/vectors/*.tsv`: its reply (escapes unfolded) and its context.
fn corpus_rows() -> Vec<(Vec<u8>, Context)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
        .collect();
    files.sort();
    let mut inputs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a vector file");
        let mut header: Option<Vec<&str>> = None;
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let Some(h) = &header else {
                header = Some(cols);
                continue;
            };
            let col = |name: &str| {
                h.iter()
                    .position(|c| *c == name)
                    .and_then(|i| cols.get(i).copied())
                    .unwrap_or("")
            };
            let command = Command::ALL
                .iter()
                .copied()
                .find(|c| command_name(*c) == col("command"))
                .unwrap_or(Command::Unknown);
            let mut options = Options::default();
            for o in col("options").split(',') {
                options = options
                    | match o {
                        "STRICT" => Options::STRICT,
                        "552_PERMANENT" => Options::PERMANENT_552,
                        "LMTP" => Options::LMTP,
                        _ => Options::default(),
                    };
            }
            let ctx = Context {
                command,
                accepted_recipients: col("accepted").parse().unwrap_or(0),
                limited_recipients: col("limited").parse().unwrap_or(0),
                options,
            };
            inputs.push((unescape(col("reply").as_bytes()), ctx));
        }
    }
    inputs
}

fn command_name(c: Command) -> &'static str {
    match c {
        Command::Unknown => "UNKNOWN",
        Command::Greeting => "GREETING",
        Command::Ehlo => "EHLO",
        Command::Helo => "HELO",
        Command::Lhlo => "LHLO",
        Command::StartTls => "STARTTLS",
        Command::Auth => "AUTH",
        Command::Mail => "MAIL",
        Command::Rcpt => "RCPT",
        Command::Data => "DATA",
        Command::DataEnd => "DATA_END",
        Command::Bdat => "BDAT",
        Command::BdatLast => "BDAT_LAST",
        Command::Rset => "RSET",
        Command::Vrfy => "VRFY",
        Command::Expn => "EXPN",
        Command::Help => "HELP",
        Command::Noop => "NOOP",
        Command::Quit => "QUIT",
        Command::Etrn => "ETRN",
        Command::Burl => "BURL",
        Command::BurlLast => "BURL_LAST",
    }
}

/// The `reply` column's escapes: `\r \n \t \\ \xHH` and `\{N:TEXT}` (TEXT repeated N times,
/// groups may nest).
fn unescape(s: &[u8]) -> Vec<u8> {
    unescape_until(s, &mut 0, false)
}

/// Reads from `*at` to the end, or past the `}` closing the current group.
fn unescape_until(s: &[u8], at: &mut usize, in_group: bool) -> Vec<u8> {
    let mut out = Vec::new();
    while *at < s.len() {
        let b = s[*at];
        *at += 1;
        if in_group && b == b'}' {
            break;
        }
        if b != b'\\' || *at == s.len() {
            out.push(b);
            continue;
        }
        let e = s[*at];
        *at += 1;
        match e {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'x' => {
                let hex = std::str::from_utf8(&s[*at..*at + 2]).expect("\\xHH");
                out.push(u8::from_str_radix(hex, 16).expect("\\xHH"));
                *at += 2;
            }
            b'{' => {
                let colon = *at + s[*at..].iter().position(|&b| b == b':').expect("\\{N:");
                let n: usize = std::str::from_utf8(&s[*at..colon])
                    .unwrap()
                    .parse()
                    .unwrap();
                *at = colon + 1;
                let text = unescape_until(s, at, true);
                for _ in 0..n {
                    out.extend_from_slice(&text);
                }
            }
            other => out.push(other),
        }
    }
    out
}
