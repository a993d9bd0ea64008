//! The detail pages as data: each category module and the living
//! conditions become a list of [`Field`]s that any screen can draw, and an
//! edit of one field ([`FieldEdit`]) becomes a new value of the module.
//! Both read the page's field table (`record::fields`), which validation's
//! "missing" check reads too.
//!
//! Field keys are the record's own field names, so a [`crate::Problem`]
//! whose field is `categories[0].enlisted_on` lands next to the field keyed
//! `enlisted_on` on the page of the first category.
//!
//! Nothing is ever pre-selected: a field whose value is `None` shows no
//! choice, and "none" answers are explicit options.

use crate::partial_date::{DateInputError, PartialDate};
use crate::record::fields::{self, FieldSlot, Slot};
use crate::record::{CategoryDetails, LivingConditions};

/// One question on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The record's field name within the module, e.g. `enlisted_on`.
    pub key: &'static str,
    pub label_zh: &'static str,
    /// Must be answered before the record can be signed.
    pub required: bool,
    pub kind: FieldKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// Pick one; `selected` is `None` until the person picks.
    Choice {
        options: Vec<&'static str>,
        selected: Option<usize>,
    },
    /// Pick any; the last option is "none of these" and excludes the rest.
    /// `answered` is false until the person touched it.
    Multi {
        options: Vec<&'static str>,
        selected: Vec<bool>,
        answered: bool,
    },
    Text {
        value: String,
    },
    /// A whole number (yuan).
    Number {
        value: Option<u32>,
    },
    /// What is remembered: a year, a year and month, or a day.
    Date {
        value: Option<PartialDate>,
    },
}

/// What the person did to one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldEdit {
    Choose(usize),
    /// Toggle an option of a [`FieldKind::Multi`].
    Toggle(usize),
    Text(String),
    /// Digits as typed; anything that is not a whole number clears it.
    Number(String),
    /// Year, month and day as typed; an empty month (and day) keeps only
    /// the year, an empty day the year and month. Parts that are no date
    /// clear it (and [`edit_notice_zh`] says why).
    Date {
        year: String,
        month: String,
        day: String,
    },
}

/// Parse typed year, month, day into a date at the precision given.
pub fn parse_date_parts(year: &str, month: &str, day: &str) -> Option<PartialDate> {
    PartialDate::from_parts(year, month, day).ok()
}

/// What to tell the person about an edit that could not be kept, in plain
/// Chinese; `None` when it was kept or is still being typed (a year of
/// fewer than four digits, or nothing yet).
pub fn edit_notice_zh(edit: &FieldEdit) -> Option<&'static str> {
    let FieldEdit::Date { year, month, day } = edit else {
        return None;
    };
    match PartialDate::from_parts(year, month, day) {
        Ok(_) => None,
        Err(DateInputError::NoYear) if month.trim().is_empty() && day.trim().is_empty() => None,
        Err(DateInputError::BadYear) if year.trim().chars().count() < 4 => None,
        Err(error) => Some(error.message_zh()),
    }
}

impl Field {
    /// The answer as the person would read it back; `None` when unanswered.
    pub fn answer_zh(&self) -> Option<String> {
        match &self.kind {
            FieldKind::Choice { options, selected } => {
                selected.and_then(|i| options.get(i)).map(|o| o.to_string())
            }
            FieldKind::Multi {
                options,
                selected,
                answered,
            } => answered.then(|| {
                options
                    .iter()
                    .zip(selected)
                    .filter(|(_, on)| **on)
                    .map(|(o, _)| *o)
                    .collect::<Vec<_>>()
                    .join("、")
            }),
            FieldKind::Text { value } => Some(value.trim().to_string()).filter(|v| !v.is_empty()),
            FieldKind::Number { value } => value.map(|v| v.to_string()),
            FieldKind::Date { value } => value.map(PartialDate::to_zh),
        }
    }
}

fn parse_number(text: &str) -> Option<u32> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    digits.parse().ok()
}

impl Field {
    fn of(slot: &FieldSlot<'_>) -> Field {
        let kind = match &slot.value {
            Slot::Choice(choice) => FieldKind::Choice {
                options: choice.options(),
                selected: choice.selected(),
            },
            Slot::Multi(multi) => FieldKind::Multi {
                options: multi.options(),
                selected: multi.selected(),
                answered: multi.is_answered(),
            },
            Slot::Text(value) => FieldKind::Text {
                value: value.to_string(),
            },
            Slot::Number(value) => FieldKind::Number { value: **value },
            Slot::Date(value) => FieldKind::Date { value: **value },
        };
        Field {
            key: slot.key,
            label_zh: slot.label_zh,
            required: slot.missing_zh.is_some(),
            kind,
        }
    }
}

/// Apply `edit` to the field keyed `key` of `table`; an unknown key or an
/// edit of the wrong kind changes nothing.
fn apply(table: Vec<FieldSlot<'_>>, key: &str, edit: &FieldEdit) {
    let Some(field) = table.into_iter().find(|f| f.key == key) else {
        return;
    };
    match (field.value, edit) {
        (Slot::Choice(mut choice), FieldEdit::Choose(i)) => choice.choose(*i),
        (Slot::Multi(mut multi), FieldEdit::Toggle(i)) => multi.toggle(*i),
        (Slot::Text(slot), FieldEdit::Text(value)) => *slot = value.clone(),
        // A text box gives text; either way it must be a whole number.
        (Slot::Number(slot), FieldEdit::Number(typed) | FieldEdit::Text(typed)) => {
            *slot = parse_number(typed)
        }
        (Slot::Date(slot), FieldEdit::Date { year, month, day }) => {
            *slot = parse_date_parts(year, month, day)
        }
        _ => {}
    }
}

/// The fields of one category's details page.
pub fn details_fields(details: &CategoryDetails) -> Vec<Field> {
    let mut details = details.clone();
    let table = fields::details_table(&mut details);
    table.iter().map(Field::of).collect()
}

/// `details` with one field changed; unknown keys and mismatched edits
/// leave it as it was.
pub fn edit_details(details: &CategoryDetails, key: &str, edit: &FieldEdit) -> CategoryDetails {
    let mut out = details.clone();
    apply(fields::details_table(&mut out), key, edit);
    out
}

/// The fields of the living-conditions page.
pub fn living_fields(living: &LivingConditions) -> Vec<Field> {
    let mut living = living.clone();
    let table = fields::living_table(&mut living);
    table.iter().map(Field::of).collect()
}

pub fn edit_living(living: &LivingConditions, key: &str, edit: &FieldEdit) -> LivingConditions {
    let mut out = living.clone();
    apply(fields::living_table(&mut out), key, edit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use expect_test::{expect, Expect};

    fn render(fields: &[Field]) -> String {
        let mut out = String::new();
        for f in fields {
            let shown = match &f.kind {
                FieldKind::Choice { options, selected } => format!(
                    "choice[{}] = {}",
                    options.len(),
                    selected
                        .and_then(|i| options.get(i).copied())
                        .unwrap_or("-")
                ),
                FieldKind::Multi {
                    options,
                    selected,
                    answered,
                } => {
                    let on: Vec<&str> = options
                        .iter()
                        .zip(selected)
                        .filter(|(_, s)| **s)
                        .map(|(o, _)| *o)
                        .collect();
                    format!("multi answered={answered} {on:?}")
                }
                FieldKind::Text { value } => format!("text {value:?}"),
                FieldKind::Number { value } => format!("number {value:?}"),
                FieldKind::Date { value } => format!("date {value:?}"),
            };
            out.push_str(&format!("{} ({}): {shown}\n", f.key, f.label_zh));
        }
        out
    }

    fn check_details(category: Category, edits: &[(&str, FieldEdit)], expect: Expect) {
        let mut details = CategoryDetails::empty(category);
        for (key, edit) in edits {
            details = edit_details(&details, key, edit);
        }
        expect.assert_eq(&render(&details_fields(&details)));
    }

    fn d(y: &str, m: &str, day: &str) -> FieldEdit {
        FieldEdit::Date {
            year: y.into(),
            month: m.into(),
            day: day.into(),
        }
    }

    #[test]
    fn nothing_is_preselected_on_any_page() {
        for category in Category::ALL {
            for field in details_fields(&CategoryDetails::empty(category)) {
                match field.kind {
                    FieldKind::Choice { selected, .. } => assert_eq!(selected, None),
                    FieldKind::Date { value } => assert_eq!(value, None),
                    FieldKind::Text { value } => assert_eq!(value, ""),
                    FieldKind::Number { value } => assert_eq!(value, None),
                    FieldKind::Multi { selected, .. } => assert!(!selected.contains(&true)),
                }
            }
        }
        for field in living_fields(&LivingConditions::default()) {
            if let FieldKind::Choice { selected, .. } = field.kind {
                assert_eq!(selected, None);
            }
        }
    }

    #[test]
    fn officer_details() {
        check_details(
            Category::TransferredOfficer,
            &[
                ("placement", FieldEdit::Choose(1)),
                ("enlisted_on", d("1980", "9", "1")),
                ("transferred_on", d("2002", "2", "30")),
                ("unknown", FieldEdit::Choose(0)),
                ("placement", FieldEdit::Choose(99)),
            ],
            expect![[r#"
                placement (安置方式): choice[5] = 自主择业
                enlisted_on (入伍时间): date Some(Day(1980-09-01))
                transferred_on (转业时间): date None
            "#]],
        );
    }

    #[test]
    fn bereaved_details() {
        check_details(
            Category::MartyrFamily,
            &[
                ("relation", FieldEdit::Choose(2)),
                ("deceased_name", FieldEdit::Text("李四".into())),
                ("receives_pension", FieldEdit::Choose(1)),
                ("deceased_on", d(" 1979 ", "02", "17")),
            ],
            expect![[r#"
                relation (您与逝者的关系): choice[6] = 配偶
                deceased_name (逝者姓名): text "李四"
                deceased_on (牺牲或病故时间（知道的话）): date Some(Day(1979-02-17))
                receives_pension (是否享受定期抚恤金): choice[2] = 否
            "#]],
        );
    }

    #[test]
    fn militia_offers_no_illness_cause() {
        check_details(
            Category::DisabledMilitia,
            &[
                ("cause", FieldEdit::Choose(2)),
                ("disability_grade", FieldEdit::Choose(5)),
            ],
            expect![[r#"
                person_kind (致残时的身份): choice[4] = -
                disability_grade (残疾等级): choice[10] = 六级
                cause (致残原因): choice[2] = -
                certificate_number (证件编号): text ""
            "#]],
        );
    }

    #[test]
    fn every_category_field_is_editable_by_its_key() {
        for category in Category::ALL {
            let empty = CategoryDetails::empty(category);
            for field in details_fields(&empty) {
                let edit = match field.kind {
                    FieldKind::Choice { .. } => FieldEdit::Choose(0),
                    FieldKind::Date { .. } => d("1990", "1", "1"),
                    FieldKind::Text { .. } => FieldEdit::Text("x".into()),
                    FieldKind::Number { .. } => FieldEdit::Number("1".into()),
                    FieldKind::Multi { .. } => FieldEdit::Toggle(0),
                };
                let edited = edit_details(&empty, field.key, &edit);
                assert_ne!(edited, empty, "{category:?}.{}", field.key);
            }
        }
    }

    fn check_living(edits: &[(&str, FieldEdit)], expect: Expect) {
        let mut living = LivingConditions::default();
        for (key, edit) in edits {
            living = edit_living(&living, key, edit);
        }
        expect.assert_eq(&render(&living_fields(&living)));
    }

    #[test]
    fn living_multi_choices_have_an_explicit_none() {
        check_living(
            &[
                ("work", FieldEdit::Choose(2)),
                ("monthly_income_yuan", FieldEdit::Number(" 1 500".into())),
                ("social_assistance", FieldEdit::Toggle(2)),
                ("social_assistance", FieldEdit::Toggle(0)),
                // "None of these" replaces what was chosen…
                ("state_benefits", FieldEdit::Toggle(1)),
                ("state_benefits", FieldEdit::Toggle(4)),
                // …and un-toggling the only choice leaves it unanswered.
                ("disability_subsidies", FieldEdit::Toggle(1)),
                ("disability_subsidies", FieldEdit::Toggle(1)),
            ],
            expect![[r#"
                work (工作情况): choice[7] = 务农
                monthly_income_yuan (本人月平均收入（元）): number Some(1500)
                pension_insurance (养老保险): choice[4] = -
                medical_insurance (医疗保险): choice[4] = -
                housing (住房情况): choice[6] = -
                social_assistance (享受的社会救助（可多选）): multi answered=true ["最低生活保障", "临时救助"]
                state_benefits (享受的国家抚恤补助（可多选）): multi answered=true ["都没有"]
                disability_subsidies (享受的残疾人两项补贴（可多选）): multi answered=false []
                remarks (其他想说明的情况（可不填）): text ""
            "#]],
        );
    }

    #[test]
    fn bad_numbers_and_dates_clear_the_field() {
        let living = edit_living(
            &LivingConditions::default(),
            "monthly_income_yuan",
            &FieldEdit::Number("12a".into()),
        );
        assert_eq!(living.monthly_income_yuan, None);
        for (y, m, day) in [
            ("", "1", "1"),
            ("1990", "13", "1"),
            ("-5", "1", "1"),
            ("1990", "2", "29"),
        ] {
            assert_eq!(parse_date_parts(y, m, day), None, "{y}-{m}-{day}");
        }
        assert!(parse_date_parts("2000", "2", "29").is_some());
    }

    #[test]
    fn a_date_keeps_what_is_remembered_and_says_why_not() {
        let keep = |y: &str, m: &str, day: &str| {
            let edited = edit_details(
                &CategoryDetails::empty(Category::DischargedSoldier),
                "enlisted_on",
                &d(y, m, day),
            );
            let field = details_fields(&edited).remove(1);
            (field.answer_zh(), edit_notice_zh(&d(y, m, day)))
        };
        // (typed parts, the answer kept, what the person is told)
        type Case<'a> = (
            (&'a str, &'a str, &'a str),
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: &[Case] = &[
            (("1968", "", ""), Some("1968年"), None),
            (("1968", "3", ""), Some("1968年3月"), None),
            (("1968", "3", "1"), Some("1968年3月1日"), None),
            // Still typing the year: nothing kept, nothing said.
            (("196", "", ""), None, None),
            (("", "", ""), None, None),
            (("1968", "13", ""), None, Some("月份应为 1 到 12")),
            (
                ("1968", "", "5"),
                None,
                Some("填写了日却没有填月份，请补上月份或把日空着"),
            ),
            (
                ("1968", "2", "30"),
                None,
                Some("这个月没有这一天，请核对；记不清日的可以空着"),
            ),
            (
                ("", "3", ""),
                None,
                Some("请先填写年份，记不清月、日的可以空着"),
            ),
        ];
        for ((y, m, day), answer, notice) in cases {
            let (got_answer, got_notice) = keep(y, m, day);
            assert_eq!(got_answer.as_deref(), *answer, "{y}/{m}/{day}");
            assert_eq!(got_notice, *notice, "{y}/{m}/{day}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_typed_date_parses_or_is_none(y in ".{0,8}", m in ".{0,4}", day in ".{0,4}") {
            let _ = parse_date_parts(&y, &m, &day);
        }
    }
}
