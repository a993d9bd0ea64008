//! Editing the field being typed into, by what the field is for.
//!
//! The on-screen keyboard always edits at the end of the field: elderly
//! people at a kiosk do not place a cursor, they type and delete. Each
//! [`Purpose`] says which characters the field takes and how many, so an ID
//! number cannot get a letter in the middle and an amount cannot get two
//! decimal points; a refused key is explained, not silently dropped.

/// What a field holds; decides the characters it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    /// Free text (names, addresses, descriptions): any printable character.
    #[default]
    Text,
    /// A resident ID number: 17 digits, then a digit or X.
    IdNumber,
    /// A telephone number: digits, with `-` between groups (0595-1234567).
    Phone,
    /// An amount of money in yuan: digits and at most one decimal point with
    /// up to two decimals.
    Amount,
    /// A plain number (years, counts, postcodes).
    Digits,
}

/// Why a key did not go into the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The field is full.
    Full { max_chars: usize },
    /// The character does not belong in this kind of field.
    NotAllowed,
    /// X is only the last of the 18 characters of an ID number.
    XOnlyLast,
    /// An amount takes one decimal point and two decimals.
    Decimals,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Full { .. } => "field_full",
            Refusal::NotAllowed => "char_not_allowed",
            Refusal::XOnlyLast => "id_x_only_last",
            Refusal::Decimals => "amount_decimals",
        }
    }

    /// Plain Chinese, shown above the keyboard.
    pub fn message_zh(self, purpose: Purpose) -> String {
        match (self, purpose) {
            (Refusal::Full { max_chars }, _) => format!("最多只能输入{max_chars}个字"),
            (Refusal::XOnlyLast, _) => "字母X只能是身份证号码的最后一位".to_string(),
            (Refusal::Decimals, _) => "金额最多保留两位小数".to_string(),
            (Refusal::NotAllowed, Purpose::IdNumber) => "身份证号码只能输入数字和字母X".to_string(),
            (Refusal::NotAllowed, Purpose::Phone) => "电话号码只能输入数字和短横线".to_string(),
            (Refusal::NotAllowed, Purpose::Amount) => "金额只能输入数字和小数点".to_string(),
            (Refusal::NotAllowed, Purpose::Digits) => "这里只能输入数字".to_string(),
            (Refusal::NotAllowed, Purpose::Text) => "这个字符不能输入".to_string(),
        }
    }
}

impl Purpose {
    /// Parses the names the keyboard widget uses (`text`, `id-number`,
    /// `phone`, `amount`, `digits`).
    pub fn parse(name: &str) -> Option<Purpose> {
        match name {
            "text" => Some(Purpose::Text),
            "id-number" => Some(Purpose::IdNumber),
            "phone" => Some(Purpose::Phone),
            "amount" => Some(Purpose::Amount),
            "digits" => Some(Purpose::Digits),
            _ => None,
        }
    }

    pub fn max_chars(self) -> usize {
        match self {
            Purpose::Text => 500,
            Purpose::IdNumber => 18,
            Purpose::Phone => 20,
            Purpose::Amount => 12,
            Purpose::Digits => 32,
        }
    }

    /// Whether the field takes Chinese (pinyin and handwriting are offered)
    /// or only the digit pad.
    pub fn takes_chinese(self) -> bool {
        self == Purpose::Text
    }

    /// The character `c` as it goes after `text`, or why it cannot.
    /// Lower-case x in an ID number becomes X.
    pub fn accept(self, text: &str, c: char) -> Result<char, Refusal> {
        if c.is_control() {
            return Err(Refusal::NotAllowed);
        }
        let len = text.chars().count();
        if len >= self.max_chars() {
            return Err(Refusal::Full {
                max_chars: self.max_chars(),
            });
        }
        match self {
            Purpose::Text => Ok(c),
            Purpose::Digits => digit(c),
            Purpose::IdNumber => match c {
                'x' | 'X' if len == 17 => Ok('X'),
                'x' | 'X' => Err(Refusal::XOnlyLast),
                _ => digit(c),
            },
            Purpose::Phone => match c {
                '-' if text.is_empty() || text.ends_with('-') => Err(Refusal::NotAllowed),
                '-' => Ok('-'),
                _ => digit(c),
            },
            Purpose::Amount => match (c, text.split_once('.')) {
                ('.', Some(_)) => Err(Refusal::Decimals),
                ('.', None) => Ok('.'),
                (_, Some((_, decimals))) if decimals.chars().count() >= 2 => {
                    digit(c).and(Err(Refusal::Decimals))
                }
                _ => digit(c),
            },
        }
    }

    /// Appends `piece` to `text`, character by character, as far as the
    /// field takes it. Returns the new text and the first refusal, if any.
    /// A leading decimal point of an amount becomes `0.`.
    pub fn insert(self, text: &str, piece: &str) -> (String, Option<Refusal>) {
        let mut out = text.to_string();
        for c in piece.chars() {
            match self.accept(&out, c) {
                Ok('.') if self == Purpose::Amount && out.is_empty() => out.push_str("0."),
                Ok(c) => out.push(c),
                Err(refusal) => return (out, Some(refusal)),
            }
        }
        (out, None)
    }
}

fn digit(c: char) -> Result<char, Refusal> {
    if c.is_ascii_digit() {
        Ok(c)
    } else {
        Err(Refusal::NotAllowed)
    }
}

/// `text` without its last character.
pub fn backspace(text: &str) -> String {
    let mut out = text.to_string();
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};
    use proptest::prelude::*;

    fn check(purpose: Purpose, typed: &str, expect: Expect) {
        let mut text = String::new();
        let mut log = Vec::new();
        for c in typed.chars() {
            let (next, refusal) = purpose.insert(&text, &c.to_string());
            text = next;
            if let Some(refusal) = refusal {
                log.push(format!("{c}:{}", refusal.code()));
            }
        }
        expect.assert_eq(&format!("{text} | refused {}", log.join(" ")));
    }

    #[test]
    fn field_rules_by_purpose() {
        check(
            Purpose::Text,
            "退役 军人-1",
            expect!["退役 军人-1 | refused "],
        );
        check(
            Purpose::IdNumber,
            "35052419x5003x12345x",
            expect!["35052419500312345X | refused x:id_x_only_last x:id_x_only_last"],
        );
        check(
            Purpose::IdNumber,
            "3505241950031234567",
            expect!["350524195003123456 | refused 7:field_full"],
        );
        check(
            Purpose::IdNumber,
            "1a2 3",
            expect!["123 | refused a:char_not_allowed  :char_not_allowed"],
        );
        check(
            Purpose::Phone,
            "-0595--2345-67",
            expect!["0595-2345-67 | refused -:char_not_allowed -:char_not_allowed"],
        );
        check(
            Purpose::Amount,
            "1200.505.",
            expect!["1200.50 | refused 5:amount_decimals .:amount_decimals"],
        );
        check(
            Purpose::Amount,
            ".5a",
            expect!["0.5 | refused a:char_not_allowed"],
        );
        check(
            Purpose::Digits,
            "2018年",
            expect!["2018 | refused 年:char_not_allowed"],
        );
    }

    #[test]
    fn insert_stops_at_the_first_refusal() {
        assert_eq!(
            Purpose::Digits.insert("1", "23x45"),
            ("123".to_string(), Some(Refusal::NotAllowed))
        );
        assert_eq!(
            Purpose::Text.insert("退", "役军人"),
            ("退役军人".to_string(), None)
        );
    }

    #[test]
    fn backspace_removes_one_whole_character() {
        for (text, expected) in [("退役", "退"), ("a", ""), ("", ""), ("12X", "12")] {
            assert_eq!(backspace(text), expected);
        }
    }

    #[test]
    fn purpose_names_round_trip() {
        for (name, purpose) in [
            ("text", Purpose::Text),
            ("id-number", Purpose::IdNumber),
            ("phone", Purpose::Phone),
            ("amount", Purpose::Amount),
            ("digits", Purpose::Digits),
        ] {
            assert_eq!(Purpose::parse(name), Some(purpose));
        }
        assert_eq!(Purpose::parse("ID"), None);
    }

    proptest! {
        #[test]
        fn fields_never_exceed_their_limits(
            purpose in prop::sample::select(vec![
                Purpose::Text, Purpose::IdNumber, Purpose::Phone, Purpose::Amount, Purpose::Digits,
            ]),
            typed in "[0-9xX.\\-a退 ]{0,60}",
        ) {
            let mut text = String::new();
            for c in typed.chars() {
                text = purpose.insert(&text, &c.to_string()).0;
            }
            prop_assert!(text.chars().count() <= purpose.max_chars());
            match purpose {
                Purpose::IdNumber => {
                    prop_assert!(text.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || (c == 'X' && i == 17)));
                }
                Purpose::Amount => {
                    prop_assert!(text.matches('.').count() <= 1);
                    if let Some((_, decimals)) = text.split_once('.') {
                        prop_assert!(decimals.len() <= 2);
                    }
                }
                Purpose::Digits => prop_assert!(text.chars().all(|c| c.is_ascii_digit())),
                Purpose::Phone => prop_assert!(!text.starts_with('-') && !text.contains("--")),
                Purpose::Text => {}
            }
        }
    }
}
