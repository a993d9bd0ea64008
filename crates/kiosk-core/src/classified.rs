//! Guard for free text against classified military unit designations.
//!
//! The plan (§五(二)) forbids collecting the designation of the unit someone
//! served in: "X师X团X连", cover designations such as "12345部队", anything
//! called a 番号. Every free-text field goes through [`check_text`] and is
//! refused while it reports problems.
//!
//! # Heuristic
//!
//! The text is read as a sequence of characters (full-width digits and
//! letters folded to ASCII, zero-width characters ignored; spans always
//! refer to the original bytes). Then:
//!
//! 1. **Numeral runs** are found: Arabic digits, Chinese numerals
//!    (〇○零一二三四五六七八九十百千两幺) or placeholder letters (X, ×, *).
//! 2. **Cover designations**: a run of 4–6 digits (Arabic or Chinese digits,
//!    or ≥3 placeholders) followed by 部队; five Arabic digits followed by 部
//!    ("61889部") or right after 部队/番号 ("部队：61889"); digits before
//!    (号)信箱; 代号 followed by a code or by 部队 in the same clause. Always
//!    flagged.
//! 3. **Unit mentions**: a numeral run followed by a unit word — 集团军 军团
//!    军 基地 师 旅 团 营 连 排 班 or 总队 支队 大队 中队 分队. A mention is
//!    dropped when the unit word continues into an ordinary word (团结, 营业,
//!    连续, 师范, 军人, 旅游 …, one block list per unit) or a place name
//!    (三营村, 五团乡: 村 镇 乡 街 路 县 …), and 连 is dropped in the "even"
//!    construction 连…都/也 ("工资800连房租都不够"). A military word right
//!    after the unit overrides both ("38军服役" is not 军服).
//! 4. Each mention is **strong** or **weak**. Strong: Arabic numerals (≤3
//!    digits, so years and phone numbers never count) or a multi-character
//!    Chinese numeral before 集团军/军团/军/基地/师/旅/团/营/连 ("38军",
//!    "三十八军", "一二七师"), and anything before 集团军. Weak: a single
//!    Chinese numeral ("三军", "一团", "一连"
//!    collide with idioms and measure words), placeholders, and 排/中队/大队
//!    (rows of seats, village production brigades). A weak mention becomes
//!    strong with 第 in front (not for 排/班/队 words: 第一排 is a row of
//!    seats, 第三大队 a village brigade), after a military word (某部, 部队,
//!    武警, 解放军, 炮兵, 警卫 …), or before one (战士, 服役, 连长 …). A weak
//!    mention followed by a numeral that does not continue a designation is
//!    dropped ("一连三天", "接二连三").
//! 5. **Chains**: mentions in strictly descending rank with only spaces or
//!    dashes between ("二团三营", "3连2排1班", "X师X团X连"), perhaps a
//!    branch word before a part ("三营机炮三连"), or a mention followed by a
//!    branch-typed unit ("三师炮兵团"), are one designation and
//!    flagged even when every part is weak. Equal ranks are not a chain
//!    ("一排一排的房子").
//! 6. The word **番号** is always flagged (not inside 轮番号召 and the like).
//!
//! A chain or a strong mention is flagged; overlapping or touching hits are
//! merged, so "38军113师337团" is one hit.
//!
//! # Known limits
//!
//! - A bare single-Chinese-numeral unit with no military word around it
//!   ("我在三连") is not flagged: alone it names no unit in particular, and
//!   flagging it would refuse "一连几天", "三军", "一团糟". Arabic numerals
//!   ("我在3连") are flagged.
//! - Designations written with 某 ("某师某团") carry no number and pass; that
//!   is the approved way to write them.
//! - No understanding of meaning: publicly known historical designations
//!   ("八路军一二九师") are flagged like any other, and so is "旅游团2团".
//! - Publicly named civilian bodies numbered like units are flagged too:
//!   the Xinjiang Production and Construction Corps' "第八师", "一团" farms.
//! - Not recognised: ship hull numbers ("525舰"), three-digit cover numbers
//!   ("731部队" is history, not a current cover designation), designations
//!   broken up by spaces inside a word ("61889 部 队") or across lines,
//!   homophones and other spellings ("三十八号军").

use std::collections::HashMap;
use std::ops::Range;

use serde::Serialize;

use super::Problem;

/// What kind of classified text was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassifiedKind {
    /// The word 番号 itself.
    DesignationWord,
    /// A numbered unit or chain of units: "38军", "二团三营", "X师X团X连".
    UnitDesignation,
    /// A cover designation: "61889部队", "代号61889", "1001信箱".
    CoverDesignation,
}

impl ClassifiedKind {
    pub fn code(self) -> &'static str {
        match self {
            ClassifiedKind::DesignationWord => "designation_word",
            ClassifiedKind::UnitDesignation => "unit_designation",
            ClassifiedKind::CoverDesignation => "cover_designation",
        }
    }
}

/// One stretch of classified text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassifiedHit {
    /// Byte range in the scanned text.
    pub span: Range<usize>,
    /// The text in that range, as written.
    pub text: String,
    pub kind: ClassifiedKind,
    /// What to remove, in plain Chinese.
    pub message_zh: String,
}

/// The `Problem::code` of every hit.
pub const PROBLEM_CODE: &str = "classified_text";

/// Every stretch of `text` that names a military unit, in text order.
pub fn scan(text: &str) -> Vec<ClassifiedHit> {
    let folded = Folded::new(text);
    let mut raw: Vec<RawHit> = Vec::new();
    scan_numerals(&folded, &mut raw);
    scan_keywords(&folded, &mut raw);
    merge(text, &folded, raw)
}

/// [`scan`] as problems (code `classified_text`) on `field`.
pub fn check_text(field: &str, text: &str) -> Vec<Problem> {
    scan(text)
        .into_iter()
        .map(|hit| Problem::new(PROBLEM_CODE, hit.message_zh).at(field))
        .collect()
}

// ---------------------------------------------------------------- text

/// The significant characters of the input, folded, with their byte ranges.
struct Folded {
    chars: Vec<char>,
    starts: Vec<usize>,
    ends: Vec<usize>,
}

impl Folded {
    fn new(src: &str) -> Folded {
        let mut f = Folded {
            chars: Vec::new(),
            starts: Vec::new(),
            ends: Vec::new(),
        };
        for (b, c) in src.char_indices() {
            if is_invisible(c) {
                continue;
            }
            f.chars.push(fold(c));
            f.starts.push(b);
            f.ends.push(b + c.len_utf8());
        }
        f
    }

    fn len(&self) -> usize {
        self.chars.len()
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn word_at(&self, i: usize, word: &str) -> bool {
        word.chars()
            .enumerate()
            .all(|(k, w)| self.at(i + k) == Some(w))
    }

    fn word_before(&self, i: usize, word: &str) -> bool {
        let n = word.chars().count();
        i >= n && self.word_at(i - n, word)
    }

    /// Skips spaces and tabs forward.
    fn skip_gap(&self, mut i: usize) -> usize {
        while self.at(i).is_some_and(is_gap) {
            i += 1;
        }
        i
    }

    /// Skips spaces and tabs backward from `i` (exclusive).
    fn skip_gap_back(&self, mut i: usize) -> usize {
        while i > 0 && self.at(i - 1).is_some_and(is_gap) {
            i -= 1;
        }
        i
    }

    /// Skips what may stand between the parts of a chain.
    fn skip_separator(&self, mut i: usize) -> usize {
        while self
            .at(i)
            .is_some_and(|c| is_gap(c) || matches!(c, '-' | '—' | '–' | '/' | '·' | '・' | '.'))
        {
            i += 1;
        }
        i
    }

    /// Byte range of the characters `from..to` (to > from).
    fn bytes(&self, from: usize, to: usize) -> Option<Range<usize>> {
        let start = *self.starts.get(from)?;
        let end = *self.ends.get(to.checked_sub(1)?)?;
        (end > start).then_some(start..end)
    }
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Full-width ASCII to ASCII, the ideographic space to a space.
fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '—' => '-',
        other => other,
    }
}

fn is_gap(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\u{A0}'
}

fn is_chinese_digit(c: char) -> bool {
    matches!(
        c,
        '〇' | '○'
            | '零'
            | '一'
            | '二'
            | '三'
            | '四'
            | '五'
            | '六'
            | '七'
            | '八'
            | '九'
            | '幺'
            | '两'
    )
}

fn is_chinese_numeral(c: char) -> bool {
    is_chinese_digit(c) || matches!(c, '十' | '百' | '千')
}

fn is_placeholder(c: char) -> bool {
    matches!(c, 'X' | 'x' | '×' | '*')
}

fn is_numeral(c: char) -> bool {
    c.is_ascii_digit() || is_chinese_numeral(c) || is_placeholder(c)
}

// ---------------------------------------------------------------- numerals

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumeralKind {
    Arabic,
    Chinese,
    Placeholder,
}

#[derive(Debug, Clone, Copy)]
struct Numeral {
    start: usize,
    end: usize,
    kind: NumeralKind,
}

impl Numeral {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

fn numerals(f: &Folded) -> Vec<Numeral> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < f.len() {
        let Some(c) = f.at(i) else { break };
        let kind = if c.is_ascii_digit() {
            NumeralKind::Arabic
        } else if is_chinese_numeral(c) {
            NumeralKind::Chinese
        } else if is_placeholder(c) {
            NumeralKind::Placeholder
        } else {
            i += 1;
            continue;
        };
        let same = |c: char| match kind {
            NumeralKind::Arabic => c.is_ascii_digit(),
            NumeralKind::Chinese => is_chinese_numeral(c),
            NumeralKind::Placeholder => is_placeholder(c),
        };
        let mut end = i + 1;
        while f.at(end).is_some_and(same) {
            end += 1;
        }
        // An X inside a Latin word ("MAX", "Xi") is a letter, not a number.
        let in_word = kind == NumeralKind::Placeholder
            && (i > 0 && f.at(i - 1).is_some_and(|c| c.is_ascii_alphabetic())
                || f.at(end).is_some_and(|c| c.is_ascii_alphabetic()));
        if !in_word {
            out.push(Numeral {
                start: i,
                end,
                kind,
            });
        }
        i = end;
    }
    out
}

/// How a Chinese numeral run reads.
struct ChineseReading {
    multi: bool,
    /// Starts with 两 or a zero: a count ("两团"), not a designation.
    count_like: bool,
}

fn read_chinese(chars: &[char]) -> Option<ChineseReading> {
    let first = *chars.first()?;
    let is_multiplier = |c: char| matches!(c, '十' | '百' | '千');
    if matches!(first, '百' | '千') {
        return None; // 百团大战, 千军万马
    }
    if chars.iter().any(|&c| is_multiplier(c)) {
        if chars
            .windows(2)
            .any(|w| is_multiplier(w[0]) && is_multiplier(w[1]))
        {
            return None;
        }
    } else if chars.len() > 1 && chars.contains(&'两') {
        return None; // 三三两两
    }
    Some(ChineseReading {
        multi: chars.len() > 1,
        count_like: matches!(first, '两' | '零' | '〇' | '○'),
    })
}

// ---------------------------------------------------------------- units

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitClass {
    /// 集团军 军团 军 师 旅 团 营 连
    Core,
    /// 排: also a row of seats or houses.
    Row,
    /// 班: also a school class; only ever part of a chain.
    Squad,
    /// 总队 支队 大队 中队: also police, fire and village brigades.
    Team,
}

struct Unit {
    word: &'static str,
    rank: u8,
    class: UnitClass,
    /// Characters after the unit word that make an ordinary word of it.
    blocked_by: &'static str,
}

/// Longest words first, so 集团军 wins over 军 and 军团 over 军.
const UNITS: &[Unit] = &[
    Unit {
        word: "集团军",
        rank: 8,
        class: UnitClass::Core,
        blocked_by: "",
    },
    Unit {
        word: "军团",
        rank: 8,
        class: UnitClass::Core,
        blocked_by: "长",
    },
    Unit {
        word: "基地",
        rank: 7,
        class: UnitClass::Core,
        blocked_by: "",
    },
    Unit {
        word: "总队",
        rank: 6,
        class: UnitClass::Team,
        blocked_by: "",
    },
    Unit {
        word: "支队",
        rank: 4,
        class: UnitClass::Team,
        blocked_by: "",
    },
    Unit {
        word: "大队",
        rank: 3,
        class: UnitClass::Team,
        blocked_by: "",
    },
    Unit {
        word: "中队",
        rank: 2,
        class: UnitClass::Team,
        blocked_by: "",
    },
    Unit {
        word: "分队",
        rank: 1,
        class: UnitClass::Team,
        blocked_by: "",
    },
    Unit {
        word: "军",
        rank: 8,
        class: UnitClass::Core,
        blocked_by: "人属医校区事官装龄衔训功旗歌嫂营民用费转籍种工港机舰车万马衣帽被鞋服史\
                     纪令情心威容礼乐委体械备火需援政法阀犬粮饷票邮报刊舞演旅垦务分师队运\
                     绿魂规风地警企休烈列品迷爱残娃改徽号",
    },
    Unit {
        word: "师",
        rank: 7,
        class: UnitClass::Core,
        blocked_by: "范傅兄姐弟妹父母爷奶叔伯公太生资徒友大专附德表尊承门从出祖级姑娘哥院训道",
    },
    Unit {
        word: "旅",
        rank: 6,
        class: UnitClass::Core,
        blocked_by: "游馆行客店社途程居费伴舍顺美日欧法英加澳人拍",
    },
    Unit {
        word: "团",
        rank: 5,
        class: UnitClass::Core,
        blocked_by: "结圆体队员委购聚伙拜年建支费子粉扇练组干糟乱和火麻漆雾气糊面肉状花锦簇\
                     团日课旗徽章歌校务餐游籍龄训风乐鱼粒",
    },
    Unit {
        word: "营",
        rank: 4,
        class: UnitClass::Core,
        blocked_by: "业养销造救运收生利商地口盘私建林火帐寨队",
    },
    Unit {
        word: "连",
        rank: 3,
        class: UnitClass::Core,
        blocked_by: "续串忙冠胜败任载锁同接衣云城江环线号着夜日年片带襟心体通连击跳平坐拍发\
                     杀读音词字输赢中涨跌贯结累绵篇翻拨番合挂根理升降跑映播休上下几数好珠动\
                     用周星月天次场轴杆廊帽缀夺克获遭创破斩过闯得捷浩假射唱演州南平山翘枷钱排",
    },
    Unit {
        word: "排",
        rank: 2,
        class: UnitClass::Row,
        blocked_by: "房树座队名行列球骨练演查除放水污泄序版场挡气忧斥外头山倒排子字号位椅\
                     桌车屋楼坐站灯",
    },
    Unit {
        word: "班",
        rank: 1,
        class: UnitClass::Squad,
        blocked_by: "车机次级主会",
    },
];

/// A unit word right after the numeral ends in place-name words: 三营村,
/// 五团乡, 二连浩特 is handled by 连's block list.
const PLACE_SUFFIXES: &[&str] = &[
    "村", "镇", "乡", "街", "路", "县", "市", "巷", "庄", "屯", "寨", "坊", "弄", "组", "号", "楼",
    "栋", "幢", "室", "山", "湖", "河", "桥", "坡", "岭", "沟", "湾", "坝", "塘", "洲", "岛",
    "社区", "小区", "大道", "公路", "胡同",
];

/// Words naming a branch or kind of unit: "炮兵团", "警卫连". Before a
/// weak mention they make it military ("炮兵三连"); after a mention they
/// continue a chain ("三师炮兵团").
const BRANCHES: &[&str] = &[
    "炮兵",
    "步兵",
    "工兵",
    "骑兵",
    "通信",
    "通讯",
    "警卫",
    "侦察",
    "装甲",
    "坦克",
    "高炮",
    "防化",
    "守备",
    "独立",
    "特务",
    "教导",
    "舟桥",
    "运输",
    "机枪",
    "迫击炮",
    "火箭炮",
    "导弹",
    "雷达",
    "修理",
    "卫生",
    "后勤",
    "直属",
    "勤务",
    "航空兵",
    "空降兵",
    "特战",
    "特种",
    "汽车",
    "野战",
    "高射炮",
    "探照灯",
    "防空",
    "海防",
    "边防",
    "机炮",
    "榴炮",
    "加农炮",
    "榴弹炮",
    "无后座力炮",
    "反坦克",
    "喷火",
    "防化兵",
    "通信兵",
    "工程兵",
    "铁道兵",
    "装甲兵",
];

/// Words that, right before a mention, make it military.
const MILITARY_PREFIXES: &[&str] = &[
    "某部",
    "部队",
    "解放军",
    "武警",
    "陆军",
    "海军",
    "空军",
    "火箭军",
    "志愿军",
    "八路军",
    "新四军",
    "野战军",
    "红军",
    "军区",
    "军分区",
    "警备区",
    "守备区",
    "舰队",
    "总队",
    "服役于",
    "服役在",
    "入伍到",
    "分配到",
    "分配在",
    "调到",
    "调入",
    "调往",
    "编入",
    "隶属",
];

/// Words that, right after a mention, make it military.
const MILITARY_SUFFIXES: &[&str] = &[
    "战士",
    "服役",
    "当兵",
    "入伍",
    "退伍",
    "复员",
    "转业",
    "参军",
    "参战",
    "任职",
    "战友",
    "新兵",
    "老兵",
    "军长",
    "师长",
    "旅长",
    "团长",
    "营长",
    "连长",
    "排长",
    "班长",
    "政委",
    "指导员",
    "教导员",
    "参谋",
    "干事",
    "文书",
    "卫生员",
    "炊事",
    "通信员",
    "司令部",
    "政治部",
    "后勤部",
    "师部",
    "旅部",
    "团部",
    "营部",
    "连部",
];

/// Historical names with a number in them that are no designation: the
/// part before the numeral and the whole name.
const NAMED_FORCES: &[(&str, &str)] = &[("新", "新四军")];

/// Military words that may precede a cover designation; included in the hit
/// so the message quotes "武警8710部队" rather than "8710部队".
const COVER_PREFIXES: &[&str] = &[
    "中国人民解放军",
    "解放军",
    "武警",
    "陆军",
    "海军",
    "空军",
    "火箭军",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strength {
    Weak,
    Strong,
}

#[derive(Debug, Clone, Copy)]
struct Mention {
    /// Including a leading 第.
    start: usize,
    numeral_start: usize,
    end: usize,
    rank: u8,
    class: UnitClass,
    strength: Strength,
    /// Where a numeral follows (after spaces), if one does.
    numeral_after: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
struct RawHit {
    start: usize,
    end: usize,
    kind: ClassifiedKind,
}

fn scan_numerals(f: &Folded, hits: &mut Vec<RawHit>) {
    let mut mentions: Vec<Mention> = Vec::new();
    for n in numerals(f) {
        if let Some(hit) = cover_designation(f, n) {
            hits.push(hit);
        } else if let Some(m) = mention(f, n) {
            mentions.push(m);
        }
    }
    // A weak mention followed by a number must continue into a lower unit,
    // or it is an adverb or count: "一连三天", "接二连三".
    let rank_at_numeral: HashMap<usize, u8> =
        mentions.iter().map(|m| (m.numeral_start, m.rank)).collect();
    mentions.retain(|m| match (m.strength, m.numeral_after) {
        (Strength::Weak, Some(p)) => rank_at_numeral.get(&p).is_some_and(|&r| r < m.rank),
        _ => true,
    });
    chains(f, &mentions, hits);
}

fn cover_designation(f: &Folded, n: Numeral) -> Option<RawHit> {
    let digits: Vec<char> = f.chars.get(n.start..n.end)?.to_vec();
    let digit_like = match n.kind {
        NumeralKind::Arabic => true,
        NumeralKind::Chinese => digits.iter().all(|&c| is_chinese_digit(c) && c != '两'),
        NumeralKind::Placeholder => false,
    };
    let after = f.skip_gap(n.end);
    let end = if f.word_at(after, "部队")
        && ((digit_like && (4..=6).contains(&n.len()))
            || (n.kind == NumeralKind::Placeholder && n.len() >= 3))
    {
        after + 2
    } else if n.kind == NumeralKind::Arabic
        && n.len() == 5
        && f.word_at(after, "部")
        && cover_abbreviation_ends(f, after + 1)
    {
        after + 1
    } else if n.kind == NumeralKind::Arabic
        && n.len() == 5
        && ["部队", "番号"].iter().any(|w| {
            let mut b = n.start;
            while b > 0
                && f.at(b - 1)
                    .is_some_and(|c| is_gap(c) || c == ':' || c == '：')
            {
                b -= 1;
            }
            f.word_before(b, w)
        })
    {
        n.end
    } else if digit_like && n.len() >= 3 && f.word_at(after, "信箱") {
        after + 2
    } else if digit_like && n.len() >= 2 && f.word_at(after, "号信箱") {
        after + 3
    } else {
        return None;
    };
    let mut start = n.start;
    if n.kind == NumeralKind::Arabic {
        while start > 0 && f.at(start - 1).is_some_and(|c| c.is_ascii_alphabetic()) {
            start -= 1;
        }
    }
    let before = f.skip_gap_back(start);
    if let Some(p) = COVER_PREFIXES.iter().find(|p| f.word_before(before, p)) {
        start = before - p.chars().count();
    }
    Some(RawHit {
        start,
        end,
        kind: ClassifiedKind::CoverDesignation,
    })
}

/// After an Arabic number, 军 is far less often the start of a word: "64军属
/// 寒区" is the 64th army, while "八一军属" would be Army Day's families.
const ARMY_BLOCKED_AFTER_ARABIC: &str = "人医校区训运改民嫂港装衔龄功旗";

/// "61889部" is a cover designation when 部 ends the phrase or a military
/// word follows ("61889部战士"); "10000部手机" is a count of phones.
fn cover_abbreviation_ends(f: &Folded, i: usize) -> bool {
    match f.at(i) {
        None => true,
        Some(c) if !is_han(c) => true,
        Some(c) if "的任队".contains(c) => true,
        Some(_) => military_after(f, i),
    }
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// The unit word at `i` after a numeral of `kind` (`None` for a branch unit
/// such as 炮兵团), unless it runs on into an ordinary word or a place name.
fn unit_at(f: &Folded, i: usize, kind: Option<NumeralKind>) -> Option<&'static Unit> {
    let unit = UNITS.iter().find(|u| f.word_at(i, u.word))?;
    let after = i + unit.word.chars().count();
    let block_list = if unit.word == "军" && kind == Some(NumeralKind::Arabic) {
        ARMY_BLOCKED_AFTER_ARABIC
    } else {
        unit.blocked_by
    };
    // A military word wins over the block list: "38军服役" is not 军服,
    // "三连连长" not 连连.
    let blocked = !military_after(f, after)
        && (f.at(after).is_some_and(|c| block_list.contains(c))
            || PLACE_SUFFIXES.iter().any(|s| f.word_at(after, s))
            || (unit.word == "连" && even_construction(f, after)));
    (!blocked).then_some(unit)
}

/// "工资800连房租都不够": 连 … 都/也 is "even", not a company.
fn even_construction(f: &Folded, from: usize) -> bool {
    (from..from + 5)
        .map_while(|i| f.at(i).filter(|c| !CLAUSE_END.contains(*c)))
        .any(|c| c == '都' || c == '也')
}

fn military_after(f: &Folded, i: usize) -> bool {
    MILITARY_SUFFIXES.iter().any(|s| f.word_at(i, s))
}

fn mention(f: &Folded, n: Numeral) -> Option<Mention> {
    if NAMED_FORCES.iter().any(|(before, name)| {
        f.word_before(n.start, before) && f.word_at(n.start - before.chars().count(), name)
    }) {
        return None;
    }
    let unit_start = f.skip_gap(n.end);
    let unit = unit_at(f, unit_start, Some(n.kind))?;
    let end = unit_start + unit.word.chars().count();
    let numeral_strength = match n.kind {
        NumeralKind::Arabic if n.len() <= 3 => Strength::Strong,
        NumeralKind::Arabic => return None, // years, phone numbers
        NumeralKind::Placeholder if n.len() <= 3 => Strength::Weak,
        NumeralKind::Placeholder => return None,
        NumeralKind::Chinese => {
            let reading = read_chinese(f.chars.get(n.start..n.end)?)?;
            if reading.multi && !reading.count_like {
                Strength::Strong
            } else {
                Strength::Weak
            }
        }
    };
    let mut strength = match unit.class {
        UnitClass::Core if unit.word == "集团军" => Strength::Strong,
        UnitClass::Core => numeral_strength,
        UnitClass::Row | UnitClass::Squad | UnitClass::Team => Strength::Weak,
    };
    let mut start = n.start;
    let before_numeral = f.skip_gap_back(n.start);
    if before_numeral > 0 && f.at(before_numeral - 1) == Some('第') {
        start = before_numeral - 1;
        if unit.class == UnitClass::Core {
            strength = Strength::Strong;
        }
    }
    if unit.class != UnitClass::Squad {
        let before = f.skip_gap_back(start);
        let military_before = MILITARY_PREFIXES
            .iter()
            .chain(BRANCHES)
            .any(|p| f.word_before(before, p));
        if military_before || military_after(f, end) {
            strength = Strength::Strong;
        }
    }
    let next = f.skip_gap(end);
    Some(Mention {
        start,
        numeral_start: n.start,
        end,
        rank: unit.rank,
        class: unit.class,
        strength,
        numeral_after: f.at(next).filter(|&c| is_numeral(c)).map(|_| next),
    })
}

/// A branch-typed unit without a number ("炮兵团") at `i`: its end and rank.
fn branch_unit_at(f: &Folded, i: usize) -> Option<(usize, u8)> {
    let branch = BRANCHES.iter().find(|b| f.word_at(i, b))?;
    let unit_start = i + branch.chars().count();
    let unit = unit_at(f, unit_start, None)?;
    if unit.rank >= 8 {
        return None; // "炮兵军" is no unit
    }
    Some((unit_start + unit.word.chars().count(), unit.rank))
}

fn chains(f: &Folded, mentions: &[Mention], hits: &mut Vec<RawHit>) {
    let index_at: HashMap<usize, usize> = mentions
        .iter()
        .enumerate()
        .map(|(i, m)| (m.start, i))
        .collect();
    let mut used = vec![false; mentions.len()];
    for (i, first) in mentions.iter().enumerate() {
        if used.get(i).copied().unwrap_or(true) {
            continue;
        }
        let mut parts = 1;
        let mut end = first.end;
        let mut rank = first.rank;
        loop {
            let next = f.skip_separator(end);
            // "三营机炮三连": a branch word may stand before the next number.
            let after_branch = BRANCHES
                .iter()
                .find(|b| f.word_at(next, b))
                .map(|b| f.skip_gap(next + b.chars().count()));
            let following = [Some(next), after_branch]
                .into_iter()
                .flatten()
                .filter_map(|p| index_at.get(&p).copied())
                .find(|&j| mentions.get(j).is_some_and(|m| m.rank < rank));
            if let Some(m) = following.and_then(|j| {
                if let Some(u) = used.get_mut(j) {
                    *u = true;
                }
                mentions.get(j)
            }) {
                end = m.end;
                rank = m.rank;
            } else if let Some((branch_end, branch_rank)) =
                branch_unit_at(f, next).filter(|&(_, r)| r < rank)
            {
                end = branch_end;
                rank = branch_rank;
            } else {
                break;
            }
            parts += 1;
        }
        let alone_counts = first.strength == Strength::Strong && first.class != UnitClass::Squad;
        if parts >= 2 || alone_counts {
            hits.push(RawHit {
                start: first.start,
                end,
                kind: ClassifiedKind::UnitDesignation,
            });
        }
    }
}

// ---------------------------------------------------------------- keywords

const CLAUSE_END: &str = "。，,；;！!？?、\n\r";

/// After 番号 or 代号 these make another word: 轮番号召, 时代号召, 现代号称.
const NOT_KEYWORD_AFTER: &str = "召啕叫哭称";

fn scan_keywords(f: &Folded, hits: &mut Vec<RawHit>) {
    for i in 0..f.len() {
        if f.at(i + 2).is_some_and(|c| NOT_KEYWORD_AFTER.contains(c)) {
            continue;
        }
        if f.word_at(i, "番号") {
            hits.push(RawHit {
                start: i,
                end: i + 2,
                kind: ClassifiedKind::DesignationWord,
            });
        } else if f.word_at(i, "代号") {
            if let Some(end) = code_after(f, i + 2) {
                hits.push(RawHit {
                    start: i,
                    end,
                    kind: ClassifiedKind::CoverDesignation,
                });
            }
        }
    }
}

/// After 代号: a code of two or more letters or digits, or 部队 later in
/// the same clause. Returns the end of what to flag.
fn code_after(f: &Folded, from: usize) -> Option<usize> {
    let mut i = from;
    while f
        .at(i)
        .is_some_and(|c| is_gap(c) || "为是:：\"“”'‘’「」《》（(".contains(c))
    {
        i += 1;
    }
    let is_code_char = |c: char| c.is_ascii_alphanumeric() || is_chinese_digit(c);
    let mut end = i;
    while f.at(end).is_some_and(is_code_char) {
        end += 1;
    }
    if end - i >= 2 {
        let after = f.skip_gap(end);
        return Some(if f.word_at(after, "部队") {
            after + 2
        } else {
            end
        });
    }
    let mut j = from;
    while j < f.len() && j < from + 12 {
        if f.at(j).is_some_and(|c| CLAUSE_END.contains(c)) {
            return None;
        }
        if f.word_at(j, "部队") {
            return Some(j + 2);
        }
        j += 1;
    }
    None
}

// ---------------------------------------------------------------- results

fn merge(src: &str, f: &Folded, mut raw: Vec<RawHit>) -> Vec<ClassifiedHit> {
    raw.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
    let mut merged: Vec<RawHit> = Vec::new();
    for hit in raw {
        match merged.last_mut() {
            Some(last) if hit.start <= last.end => {
                last.end = last.end.max(hit.end);
                last.kind = last.kind.max(hit.kind);
            }
            _ => merged.push(hit),
        }
    }
    merged
        .into_iter()
        .filter_map(|h| {
            let span = f.bytes(h.start, h.end)?;
            let text = src.get(span.clone())?.to_string();
            let message_zh = message_zh(h.kind, &text);
            Some(ClassifiedHit {
                span,
                text,
                kind: h.kind,
                message_zh,
            })
        })
        .collect()
}

fn message_zh(kind: ClassifiedKind, text: &str) -> String {
    match kind {
        ClassifiedKind::UnitDesignation => {
            format!("“{text}”是部队番号，属于涉密信息，请删除后再继续")
        }
        ClassifiedKind::CoverDesignation => {
            format!("“{text}”是部队代号，属于涉密信息，请删除后再继续")
        }
        ClassifiedKind::DesignationWord => {
            format!("部队番号属于涉密信息，不能填写，请删除“{text}”及相关内容后再继续")
        }
    }
}

#[cfg(test)]
mod tests;
