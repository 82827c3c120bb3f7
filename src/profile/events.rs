//! Nix's `--log-format internal-json` event stream, one line at a time.
//!
//! Every structured line is `@nix ` followed by one JSON object. Nix 2.8
//! writes no timestamps: the profiler stamps each line when it reads it.
//! Activity types (Nix's `ActivityType`): 100 copyPath, 101 fileTransfer,
//! 102 realise, 103 copyPaths, 104 builds, 105 build, 106 optimiseStore,
//! 107 verifyPaths, 108 substitute, 109 queryPathInfo, 110 postBuildHook,
//! 111 buildWaiting. Result type 101 is a build log line.

use serde_json::Value;

pub const ACT_REALISE: u64 = 102;
pub const ACT_BUILD: u64 = 105;
pub const ACT_SUBSTITUTE: u64 = 108;
pub const RES_BUILD_LOG_LINE: u64 = 101;

/// One line of Nix's stderr.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Start {
        id: u64,
        kind: u64,
        level: u64,
        text: String,
        /// `fields[0]` when it is a string (the `.drv` or store path).
        path: Option<String>,
    },
    Stop {
        id: u64,
    },
    Msg {
        level: u64,
        msg: String,
    },
    Result {
        id: u64,
        kind: u64,
        /// `fields[0]` when it is a string (a build log line).
        text: Option<String>,
    },
    /// A line without the `@nix ` prefix (Nix printed it directly).
    Plain(String),
    /// An `@nix ` line this parser does not understand.
    Unknown(String),
}

/// Parse one line (without its newline).
pub fn parse(line: &str) -> Event {
    let Some(json) = line.strip_prefix("@nix ") else {
        return Event::Plain(line.to_string());
    };
    let Ok(v) = serde_json::from_str::<Value>(json) else {
        return Event::Unknown(line.to_string());
    };
    let id = v.get("id").and_then(Value::as_u64);
    let kind = v.get("type").and_then(Value::as_u64);
    let first_field = || {
        v.get("fields")
            .and_then(|f| f.get(0))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match (v.get("action").and_then(Value::as_str), id, kind) {
        (Some("start"), Some(id), Some(kind)) => Event::Start {
            id,
            kind,
            level: v.get("level").and_then(Value::as_u64).unwrap_or(0),
            text: v
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            path: first_field(),
        },
        (Some("stop"), Some(id), _) => Event::Stop { id },
        (Some("result"), Some(id), Some(kind)) => Event::Result {
            id,
            kind,
            text: first_field(),
        },
        (Some("msg"), _, _) => match v.get("msg").and_then(Value::as_str) {
            Some(msg) => Event::Msg {
                level: v.get("level").and_then(Value::as_u64).unwrap_or(0),
                msg: msg.to_string(),
            },
            None => Event::Unknown(line.to_string()),
        },
        _ => Event::Unknown(line.to_string()),
    }
}

/// The derivation name of a store path: `/nix/store/<hash>-NAME.drv` → `NAME`.
pub fn drv_name(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    let base = base.strip_suffix(".drv").unwrap_or(base);
    match base.split_once('-') {
        Some((hash, rest)) if hash.len() == 32 => rest.to_string(),
        _ => base.to_string(),
    }
}

/// The derivation Nix refused to build because import-from-derivation is
/// disabled: `cannot build '/nix/store/….drv' during evaluation because the
/// option 'allow-import-from-derivation' is disabled`.
pub fn ifd_disabled(msg: &str) -> Option<String> {
    let msg = strip_ansi(msg);
    if !msg.contains("allow-import-from-derivation") {
        return None;
    }
    let rest = &msg[msg.find("cannot build '")? + "cannot build '".len()..];
    let end = rest.find('\'')?;
    // Nix >= 2.19 names the output too: '/nix/store/…-a.drv^out'.
    let path = &rest[..end];
    Some(
        path.split_once('^')
            .map_or(path, |(drv, _)| drv)
            .to_string(),
    )
}

/// `text` without ANSI escape sequences (Nix colours its messages).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// `nix (Nix) 2.8.0` → `(2, 8)`.
pub fn parse_version(text: &str) -> Option<(u32, u32, String)> {
    let word = text.split_whitespace().last()?;
    let mut parts = word.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    Some((major, minor, word.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_lines_nix_2_8_writes() {
        let start = r#"@nix {"action":"start","fields":["/nix/store/vijrlc08gdipww9vikib6dxgm6wkgry8-delay-a.drv","",1,1],"id":7,"level":3,"text":"building '/nix/store/vijrlc08gdipww9vikib6dxgm6wkgry8-delay-a.drv'","type":105}"#;
        match parse(start) {
            Event::Start { id, kind, path, .. } => {
                assert_eq!((id, kind), (7, ACT_BUILD));
                assert_eq!(drv_name(&path.unwrap_or_default()), "delay-a");
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(
            parse(r#"@nix {"action":"stop","id":7}"#),
            Event::Stop { id: 7 }
        );
        assert!(matches!(
            parse(r#"@nix {"action":"result","fields":[0,1,0,0],"id":3,"type":105}"#),
            Event::Result {
                id: 3,
                kind: 105,
                text: None
            }
        ));
        assert!(matches!(parse("@nix {oops"), Event::Unknown(_)));
        assert!(matches!(
            parse(r#"@nix {"action":"dance"}"#),
            Event::Unknown(_)
        ));
        assert_eq!(parse("hello"), Event::Plain("hello".into()));
    }

    #[test]
    fn ifd_disabled_message() {
        let m = "error: cannot build '/nix/store/k9s7ywyp6avar0samzxydpdlv3v54mxg-delay-a.drv' during evaluation because the option 'allow-import-from-derivation' is disabled";
        assert_eq!(
            ifd_disabled(m).map(|p| drv_name(&p)),
            Some("delay-a".to_string())
        );
        assert_eq!(ifd_disabled("error: something else"), None);
        let modern = "error: cannot build '/nix/store/k9s7ywyp6avar0samzxydpdlv3v54mxg-delay-a.drv^out' during evaluation because the option 'allow-import-from-derivation' is disabled";
        assert_eq!(
            ifd_disabled(modern),
            Some("/nix/store/k9s7ywyp6avar0samzxydpdlv3v54mxg-delay-a.drv".to_string())
        );
        let coloured = "\u{1b}[31;1merror:\u{1b}[0m cannot build '\u{1b}[35;1m/nix/store/bz5gklmlhgscwxq4iimnylj7mwg5nnk5-delay-a.drv\u{1b}[0m' during evaluation because the option 'allow-import-from-derivation' is disabled";
        assert_eq!(
            ifd_disabled(coloured).map(|p| drv_name(&p)),
            Some("delay-a".to_string())
        );
    }

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("nix (Nix) 2.8.0").map(|v| (v.0, v.1)),
            Some((2, 8))
        );
        assert_eq!(
            parse_version("nix-instantiate (Nix) 2.30pre2025").map(|v| (v.0, v.1)),
            Some((2, 30))
        );
        assert_eq!(parse_version("garbage"), None);
    }
}
