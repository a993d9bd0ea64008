//! Ethnicity (民族) codes of GB 3304-1991, as stored on the ID card chip.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Codes 01–56 in GB 3304 order, then 97 and 98.
const NAMES: [(u8, &str); 58] = [
    (1, "汉"),
    (2, "蒙古"),
    (3, "回"),
    (4, "藏"),
    (5, "维吾尔"),
    (6, "苗"),
    (7, "彝"),
    (8, "壮"),
    (9, "布依"),
    (10, "朝鲜"),
    (11, "满"),
    (12, "侗"),
    (13, "瑶"),
    (14, "白"),
    (15, "土家"),
    (16, "哈尼"),
    (17, "哈萨克"),
    (18, "傣"),
    (19, "黎"),
    (20, "傈僳"),
    (21, "佤"),
    (22, "畲"),
    (23, "高山"),
    (24, "拉祜"),
    (25, "水"),
    (26, "东乡"),
    (27, "纳西"),
    (28, "景颇"),
    (29, "柯尔克孜"),
    (30, "土"),
    (31, "达斡尔"),
    (32, "仫佬"),
    (33, "羌"),
    (34, "布朗"),
    (35, "撒拉"),
    (36, "毛南"),
    (37, "仡佬"),
    (38, "锡伯"),
    (39, "阿昌"),
    (40, "普米"),
    (41, "塔吉克"),
    (42, "怒"),
    (43, "乌孜别克"),
    (44, "俄罗斯"),
    (45, "鄂温克"),
    (46, "德昂"),
    (47, "保安"),
    (48, "裕固"),
    (49, "京"),
    (50, "塔塔尔"),
    (51, "独龙"),
    (52, "鄂伦春"),
    (53, "赫哲"),
    (54, "门巴"),
    (55, "珞巴"),
    (56, "基诺"),
    (97, "其他"),
    (98, "外国血统中国籍人士"),
];

/// A GB 3304 ethnicity. Only the codes in the standard can be built.
///
/// Serialised as its two-digit code (`"01"`), the form the card and the
/// county platform use; the Chinese name is for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nation(u8);

impl Nation {
    /// 汉.
    pub const HAN: Nation = Nation(1);

    /// The nation with this numeric code, if GB 3304 has it.
    pub fn from_code(code: u8) -> Option<Nation> {
        NAMES
            .iter()
            .any(|&(known, _)| known == code)
            .then_some(Nation(code))
    }

    /// Parse the two-digit code as written on the chip ("01", "56", "97").
    pub fn parse_code(text: &str) -> Option<Nation> {
        if text.len() != 2 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        Nation::from_code(text.parse().ok()?)
    }

    /// Look up by Chinese name, with or without the trailing 族
    /// ("汉" and "汉族" both give 01). 其他 and 外国血统中国籍人士 have no 族.
    pub fn from_name_zh(name: &str) -> Option<Nation> {
        let name = name.trim();
        let bare = name.strip_suffix('族').unwrap_or(name);
        NAMES
            .iter()
            .find(|&&(_, known)| known == bare || known == name)
            .map(|&(code, _)| Nation(code))
    }

    pub fn code(self) -> u8 {
        self.0
    }

    /// Two-digit code, zero-padded: "01".
    pub fn code_str(self) -> String {
        format!("{:02}", self.0)
    }

    /// Name as printed on the card (no 族 suffix): 汉, 蒙古, 其他 …
    pub fn name_zh(self) -> &'static str {
        NAMES
            .iter()
            .find(|&&(code, _)| code == self.0)
            .map(|&(_, name)| name)
            .unwrap_or("其他")
    }

    /// Every nation in code order.
    pub fn all() -> impl Iterator<Item = Nation> {
        NAMES.iter().map(|&(code, _)| Nation(code))
    }
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_zh())
    }
}

impl Serialize for Nation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.code_str())
    }
}

impl<'de> Deserialize<'de> for Nation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Nation::parse_code(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown GB 3304 code {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn lookups() {
        let inputs = [
            "01", "02", "46", "56", "57", "96", "97", "98", "99", "00", "1", "001", "0a", "１２",
        ];
        let table: String = inputs
            .iter()
            .map(|input| {
                format!(
                    "{input:?} -> {:?}\n",
                    Nation::parse_code(input).map(|n| (n.code_str(), n.name_zh()))
                )
            })
            .collect();
        expect![[r#"
            "01" -> Some(("01", "汉"))
            "02" -> Some(("02", "蒙古"))
            "46" -> Some(("46", "德昂"))
            "56" -> Some(("56", "基诺"))
            "57" -> None
            "96" -> None
            "97" -> Some(("97", "其他"))
            "98" -> Some(("98", "外国血统中国籍人士"))
            "99" -> None
            "00" -> None
            "1" -> None
            "001" -> None
            "0a" -> None
            "１２" -> None
        "#]]
        .assert_eq(&table);
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(Nation::all().count(), 58);
        for nation in Nation::all() {
            assert_eq!(Nation::from_name_zh(nation.name_zh()), Some(nation));
            assert_eq!(Nation::parse_code(&nation.code_str()), Some(nation));
            let json = serde_json::to_string(&nation).unwrap();
            assert_eq!(serde_json::from_str::<Nation>(&json).unwrap(), nation);
        }
        assert_eq!(Nation::from_name_zh("汉族"), Some(Nation::HAN));
        assert_eq!(Nation::from_name_zh("维吾尔族").map(Nation::code), Some(5));
        assert_eq!(Nation::from_name_zh("火星"), None);
        assert_eq!(Nation::from_name_zh("族"), None);
        assert_eq!(serde_json::to_string(&Nation::HAN).unwrap(), "\"01\"");
        assert!(serde_json::from_str::<Nation>("\"60\"").is_err());
    }
}
