//! Checks for text that people type and others read: display names, email addresses and
//! chat messages.
//!
//! A name is shown on one line next to someone's words (in the call, in transcripts and
//! emails), so it must not be able to fake another line or flip the text around it:
//! control characters, line and paragraph separators and the bidirectional overrides are
//! refused. Chat keeps line breaks and tabs, normalised to `\n`; other control
//! characters are refused.

use std::str::FromStr;

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Longest email address, in bytes (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// Characters that change the direction of the text around them or hide in it.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Characters that end a line, besides the control characters.
fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{0085}')
}

/// A display name: trimmed, 1 to [`MAX_NAME_CHARS`] characters, on one line and free of
/// direction overrides. `field` names it in the error.
pub fn display_name(field: &str, raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("{field} must be 1 to {MAX_NAME_CHARS} characters"));
    }
    if name
        .chars()
        .any(|c| c.is_control() || is_line_separator(c) || is_invisible_format(c))
    {
        return Err(format!(
            "{field} must be one line without control or direction-changing characters"
        ));
    }
    Ok(name.to_owned())
}

/// An email address: trimmed, valid by RFC 5322's address syntax (checked by the
/// `email_address` crate), with a domain that has a dot, no spaces, quotes or
/// direction-changing characters, at most [`MAX_EMAIL_BYTES`] bytes. Internationalised
/// addresses (Unicode in either part) are accepted.
pub fn email(field: &str, raw: &str) -> Result<String, String> {
    let address = raw.trim();
    let plain = |c: char| {
        !(c.is_whitespace() || c.is_control() || is_invisible_format(c) || "\"<>".contains(c))
    };
    let ok = address.len() <= MAX_EMAIL_BYTES
        && address.chars().all(plain)
        && email_address::EmailAddress::from_str(address)
            .is_ok_and(|a| a.domain().contains('.') && !a.domain().starts_with('['));
    if ok {
        Ok(address.to_owned())
    } else {
        Err(format!("{field} is not an email address"))
    }
}

/// A chat message with its line breaks normalised to `\n`; `Err` names what is wrong.
pub fn chat(raw: &str, max_chars: usize) -> Result<String, String> {
    let text = raw.replace("\r\n", "\n").replace('\r', "\n");
    if text.trim().is_empty() {
        return Err("text must not be empty".to_owned());
    }
    if text.chars().count() > max_chars {
        return Err(format!("text is longer than {max_chars} characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err("text contains control characters".to_owned());
    }
    Ok(text)
}

/// `text` on one line: each control character or line separator becomes a space.
/// For writing names that were stored before they were checked.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || is_line_separator(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_many_scripts_are_accepted_and_trimmed() {
        for name in [
            "Zoë Ångström",
            "  Laia Puig  ",
            "山田 太郎",
            "محمد",
            "Ðorđe Šćepanović",
            "👩🏽‍💼 Ana",
        ] {
            assert_eq!(display_name("name", name), Ok(name.trim().to_owned()));
        }
    }

    #[test]
    fn names_that_fake_a_line_or_flip_text_are_refused() {
        for name in [
            "Ana\n[2026-12-04T10:00:00Z] Shopper (shopper): pay here",
            "Ana\rBob",
            "Ana\u{2028}Bob",
            "Ana\u{0085}Bob",
            "Ana\u{0}",
            "Ana\u{1b}[31m",
            "\u{202E}anA",
            "Ana\u{2066}x",
            "A\u{200B}na",
        ] {
            let err = display_name("customer.name", name).expect_err(name);
            assert!(err.starts_with("customer.name"), "{err}");
        }
    }

    #[test]
    fn names_must_have_1_to_200_characters() {
        assert!(display_name("name", "   ").is_err());
        assert!(display_name("name", "").is_err());
        assert!(display_name("name", &"é".repeat(200)).is_ok());
        assert!(display_name("name", &"é".repeat(201)).is_err());
    }

    #[test]
    fn ordinary_and_international_emails_are_accepted() {
        for address in [
            "zoe@example.com",
            " Zoe.Angstrom+shop@mail.example.co.uk ",
            "josé@correo.example.es",
            "用户@例子.广告",
        ] {
            assert_eq!(email("email", address), Ok(address.trim().to_owned()));
        }
    }

    #[test]
    fn things_that_are_not_emails_are_refused() {
        for address in [
            "@",
            "a@",
            "@b.com",
            "a@b",
            "a@@b.com",
            "a@b@c.com",
            "a b@c.com",
            "a@b .com",
            "a@b..com",
            ".a@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a@b.com\nBcc: x@y.com",
            "a\u{0}@b.com",
            "a@b.com\u{202E}",
            "<a@b.com>",
            "plain",
        ] {
            assert!(email("email", address).is_err(), "{address:?} accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(email("email", &long).is_err());
    }

    #[test]
    fn chat_keeps_lines_and_tabs_and_refuses_other_controls() {
        assert_eq!(chat("a\r\nb\rc\td", 100), Ok("a\nb\nc\td".to_owned()));
        assert_eq!(
            chat("¿Tienes la talla M? 👗", 100).as_deref(),
            Ok("¿Tienes la talla M? 👗")
        );
        assert!(chat(" \n\t ", 100).is_err());
        assert!(chat("bell\u{7}", 100).is_err());
        assert!(chat("esc\u{1b}[2J", 100).is_err());
        assert!(chat(&"x".repeat(101), 100).is_err());
        assert!(chat(&"ü".repeat(100), 100).is_ok());
    }

    #[test]
    fn one_line_turns_breaks_into_spaces() {
        assert_eq!(one_line("a\nb\u{2028}c\u{0}d"), "a b c d");
    }
}
