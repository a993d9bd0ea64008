//! The console's forms: a urlencoded body decoded as axum's `Form` does,
//! then each form parser of the console that takes the pairs: the
//! configuration edit (and writing it into kiosk.toml), the list filter,
//! a reviewer's return reasons, user names and roles.

use county_platform::console::auth::{Role, Username};
use county_platform::console::config_push::{ConfigEdit, SCREENS, TIMEOUTS};
use county_platform::console::list::Filter;
use county_platform::console::reasons::ReturnReason;
use county_platform::console::record_page::{parse_return_reasons, RETURN_FIELDS};
use wire::config::NewestQuery;

use crate::mutate::{havoc, random_text, Rng};
use crate::Target;

const DEMO_KIOSK_TOML: &str = include_str!("../../../../kiosk-config/kiosk.toml");

pub struct ConsoleForms {
    seeds: Vec<Vec<u8>>,
    dict: Vec<Vec<u8>>,
    reasons: Vec<ReturnReason>,
}

fn encode(pairs: &[(String, String)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs)
        .unwrap_or_default()
        .into_bytes()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl ConsoleForms {
    pub(crate) fn new() -> ConsoleForms {
        let mut config_edit = pairs(&[
            ("csrf", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
            ("target", "all"),
            ("title", "退役军人和其他优抚对象信息采集"),
            ("notice", "请携带本人居民身份证、户口本和相关证件，按屏幕提示操作。\r\n有困难请找现场工作人员帮助。"),
        ]);
        for (screen, name) in SCREENS {
            config_edit.push((
                format!("help.{screen}"),
                format!("{name}：请按屏幕提示操作。"),
            ));
        }
        for (key, _, min, _) in TIMEOUTS {
            config_edit.push((key.to_string(), (min + 5).to_string()));
        }
        let filter = pairs(&[
            ("township", "350524100"),
            ("kiosk", "demo-kiosk-01"),
            ("state", "received"),
            ("from", "2026-01-01"),
            ("to", "2026-12-31"),
            ("problems", "1"),
            ("category", "disabled-serviceman"),
            ("missing", "1"),
            (
                "after",
                "2026-11-30T02:31:00Z|6f1c1c9e-6a4b-4c1e-9a55-2f0d2d6f4e11",
            ),
        ]);
        let reasons_form = pairs(&[
            ("field1", "identity.name"),
            ("text1", "姓名与户口本不一致"),
            ("field2", "photo_blurry"),
            ("text2", ""),
            ("field3", "other"),
            ("text3", "请补交残疾军人证"),
        ]);
        let users = pairs(&[
            ("username", "chen.lihua"),
            ("role", "reviewer"),
            ("password", "一二三四五六七八"),
        ]);
        let seeds = vec![
            encode(&config_edit),
            encode(&filter),
            encode(&reasons_form),
            encode(&users),
            b"kiosk_id=demo-kiosk-01&version=3".to_vec(),
        ];
        let mut reasons: Vec<ReturnReason> = RETURN_FIELDS
            .iter()
            .map(|(field, label)| ReturnReason {
                key: field.to_string(),
                field: field.to_string(),
                label: label.to_string(),
                retired: false,
            })
            .collect();
        reasons.push(ReturnReason {
            key: "photo_blurry".into(),
            field: "photos.portrait".into(),
            label: "照片不清楚".into(),
            retired: false,
        });
        let mut dict: Vec<Vec<u8>> = [
            "&", "=", "%", "%00", "%FF", "%E4%B8", "+", "%0D%0A", "%2B", "field", "text", "help.",
            "|",
        ]
        .iter()
        .map(|t| t.as_bytes().to_vec())
        .collect();
        for s in &seeds {
            for part in s.split(|b| *b == b'&' || *b == b'=') {
                dict.push(part.to_vec());
            }
        }
        ConsoleForms {
            seeds,
            dict,
            reasons,
        }
    }
}

impl Target for ConsoleForms {
    fn name(&self) -> &'static str {
        "console_forms"
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        let base = rng.pick(&self.seeds).cloned().unwrap_or_default();
        if rng.percent(50) {
            // Edit the decoded pairs, so values stay well-encoded and reach the checks.
            if let Ok(mut form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&base) {
                for _ in 0..1 + rng.below(4) {
                    let n = form.len();
                    match rng.below(4) {
                        0 if n > 0 => {
                            let i = rng.below(n);
                            form[i].1 = random_text(rng, &self.dict);
                        }
                        1 if n > 0 => {
                            let i = rng.below(n);
                            let value = std::mem::take(&mut form[i].1).into_bytes();
                            form[i].1 =
                                String::from_utf8_lossy(&havoc(rng, &value, &[], &self.dict, 8192))
                                    .into_owned();
                        }
                        2 if n > 0 => {
                            let i = rng.below(n);
                            form.push(form[i].clone());
                        }
                        _ => {
                            form.push((random_text(rng, &self.dict), random_text(rng, &self.dict)))
                        }
                    }
                }
                return encode(&form);
            }
        }
        havoc(rng, &base, &self.seeds, &self.dict, 64 * 1024)
    }

    fn run(&self, input: &[u8]) {
        let text = String::from_utf8_lossy(input);
        let _ = NewestQuery::parse(&text).map(|q| {
            assert_eq!(NewestQuery::parse(&q.to_query()).as_ref(), Some(&q));
        });
        let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(input) else {
            return;
        };
        if let Ok(edit) = ConfigEdit::parse(&form) {
            // What the console then does: write the edit into kiosk.toml.
            let mut doc: toml_edit::DocumentMut = DEMO_KIOSK_TOML.parse().unwrap_or_default();
            if edit.apply(&mut doc).is_ok() {
                let written = doc.to_string();
                let reread: toml_edit::DocumentMut = match written.parse() {
                    Ok(d) => d,
                    Err(err) => panic!("the console wrote a kiosk.toml it cannot read back: {err}"),
                };
                assert_eq!(ConfigEdit::from_toml(&reread), edit);
            }
        }
        let filter = Filter::parse(&form);
        let query: Vec<(String, String)> = filter
            .query_without_page()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        // The links the list writes (page position left out) keep the filter.
        assert_eq!(
            Filter::parse(&query),
            Filter {
                after: None,
                ..filter
            }
        );
        let _ = parse_return_reasons(&form, &self.reasons);
        for (_, value) in &form {
            let _ = (Username::parse(value), Role::parse(value));
        }
    }
}
