//! Province-level administrative division codes (GB/T 2260).
//!
//! Only the first two digits of a resident ID number are checked against
//! this table. Prefecture and county codes (digits 3–6) change every year
//! and a person keeps the number they were given, so a retired county code
//! is still a valid ID number; we deliberately do not carry that table.
//!
//! Which codes an ID number may start with:
//! - the 31 mainland provinces, autonomous regions and municipalities
//!   (11 北京 … 65 新疆): resident ID cards (居民身份证) are issued there;
//! - 71 台湾, 81 香港, 82 澳门 are in GB/T 2260, but no resident ID card
//!   carries them. 81 and 82 begin the numbers on 港澳居民居住证, and 83
//!   (not a GB/T 2260 code at all) begins the numbers on 台湾居民居住证.
//!   Holders of these permits have no mainland household register (户口),
//!   which every registration needs, so the kiosk does not accept them:
//!   see [`is_resident_id_province`] and [`is_residence_permit_prefix`].

/// A province-level division: two-digit code and its full GB/T 2260 name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Province {
    pub code: &'static str,
    pub name: &'static str,
}

/// Every province-level division in GB/T 2260, in code order.
pub const PROVINCES: &[Province] = &[
    Province {
        code: "11",
        name: "北京市",
    },
    Province {
        code: "12",
        name: "天津市",
    },
    Province {
        code: "13",
        name: "河北省",
    },
    Province {
        code: "14",
        name: "山西省",
    },
    Province {
        code: "15",
        name: "内蒙古自治区",
    },
    Province {
        code: "21",
        name: "辽宁省",
    },
    Province {
        code: "22",
        name: "吉林省",
    },
    Province {
        code: "23",
        name: "黑龙江省",
    },
    Province {
        code: "31",
        name: "上海市",
    },
    Province {
        code: "32",
        name: "江苏省",
    },
    Province {
        code: "33",
        name: "浙江省",
    },
    Province {
        code: "34",
        name: "安徽省",
    },
    Province {
        code: "35",
        name: "福建省",
    },
    Province {
        code: "36",
        name: "江西省",
    },
    Province {
        code: "37",
        name: "山东省",
    },
    Province {
        code: "41",
        name: "河南省",
    },
    Province {
        code: "42",
        name: "湖北省",
    },
    Province {
        code: "43",
        name: "湖南省",
    },
    Province {
        code: "44",
        name: "广东省",
    },
    Province {
        code: "45",
        name: "广西壮族自治区",
    },
    Province {
        code: "46",
        name: "海南省",
    },
    Province {
        code: "50",
        name: "重庆市",
    },
    Province {
        code: "51",
        name: "四川省",
    },
    Province {
        code: "52",
        name: "贵州省",
    },
    Province {
        code: "53",
        name: "云南省",
    },
    Province {
        code: "54",
        name: "西藏自治区",
    },
    Province {
        code: "61",
        name: "陕西省",
    },
    Province {
        code: "62",
        name: "甘肃省",
    },
    Province {
        code: "63",
        name: "青海省",
    },
    Province {
        code: "64",
        name: "宁夏回族自治区",
    },
    Province {
        code: "65",
        name: "新疆维吾尔自治区",
    },
    Province {
        code: "71",
        name: "台湾省",
    },
    Province {
        code: "81",
        name: "香港特别行政区",
    },
    Province {
        code: "82",
        name: "澳门特别行政区",
    },
];

/// The two-digit province prefix of `code`, if `code` is 2 or 6 ASCII
/// digits (a province code or a full GB/T 2260 code).
fn province_prefix(code: &str) -> Option<&str> {
    let well_formed = matches!(code.len(), 2 | 6) && code.bytes().all(|byte| byte.is_ascii_digit());
    if well_formed {
        code.get(..2)
    } else {
        None
    }
}

/// Full name of the province-level division for a two-digit province code
/// ("11") or a six-digit GB/T 2260 code ("110101"; only its first two digits
/// are looked at). `None` for anything else, including 83.
pub fn province_name(code: &str) -> Option<&'static str> {
    let prefix = province_prefix(code)?;
    PROVINCES
        .iter()
        .find(|province| province.code == prefix)
        .map(|province| province.name)
}

/// Whether resident ID cards are issued with this province prefix: true for
/// the 31 mainland divisions, false for 71/81/82 and everything else.
pub fn is_resident_id_province(code: &str) -> bool {
    province_name(code).is_some() && !matches!(province_prefix(code), Some("71" | "81" | "82"))
}

/// Whether this prefix begins the numbers on a residence permit for
/// Hong Kong, Macao (81, 82) or Taiwan (83) residents.
pub fn is_residence_permit_prefix(code: &str) -> bool {
    matches!(province_prefix(code), Some("81" | "82" | "83"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn check(inputs: &[&str], expect: Expect) {
        let table: String = inputs
            .iter()
            .map(|code| {
                format!(
                    "{code:?} name={:?} resident_id={} permit={}\n",
                    province_name(code),
                    is_resident_id_province(code),
                    is_residence_permit_prefix(code),
                )
            })
            .collect();
        expect.assert_eq(&table);
    }

    #[test]
    fn lookups() {
        check(
            &[
                "11", "110101", "15", "46", "50", "65", "71", "81", "82", "83", "00", "10", "16",
                "99", "1", "111", "1101", "1101011", "", "1a", "１１", "11010X",
            ],
            expect![[r#"
                "11" name=Some("北京市") resident_id=true permit=false
                "110101" name=Some("北京市") resident_id=true permit=false
                "15" name=Some("内蒙古自治区") resident_id=true permit=false
                "46" name=Some("海南省") resident_id=true permit=false
                "50" name=Some("重庆市") resident_id=true permit=false
                "65" name=Some("新疆维吾尔自治区") resident_id=true permit=false
                "71" name=Some("台湾省") resident_id=false permit=false
                "81" name=Some("香港特别行政区") resident_id=false permit=true
                "82" name=Some("澳门特别行政区") resident_id=false permit=true
                "83" name=None resident_id=false permit=true
                "00" name=None resident_id=false permit=false
                "10" name=None resident_id=false permit=false
                "16" name=None resident_id=false permit=false
                "99" name=None resident_id=false permit=false
                "1" name=None resident_id=false permit=false
                "111" name=None resident_id=false permit=false
                "1101" name=None resident_id=false permit=false
                "1101011" name=None resident_id=false permit=false
                "" name=None resident_id=false permit=false
                "1a" name=None resident_id=false permit=false
                "１１" name=None resident_id=false permit=false
                "11010X" name=None resident_id=false permit=false
            "#]],
        );
    }

    #[test]
    fn table_is_sorted_unique_and_has_31_mainland_divisions() {
        let codes: Vec<&str> = PROVINCES.iter().map(|p| p.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        let mainland = codes
            .iter()
            .filter(|code| is_resident_id_province(code))
            .count();
        assert_eq!(mainland, 31);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(code in "\\PC{0,8}") {
            let _ = province_name(&code);
            let _ = is_resident_id_province(&code);
            let _ = is_residence_permit_prefix(&code);
        }
    }
}
