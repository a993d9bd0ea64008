use expect_test::{expect, Expect};
use proptest::prelude::*;

use super::*;

fn texts(input: &str) -> Vec<String> {
    scan(input).into_iter().map(|h| h.text).collect()
}

/// (input, the hits expected in it)
const POSITIVES: &[(&str, &[&str])] = &[
    // numbered units, Arabic numerals
    ("38军", &["38军"]),
    ("我在38军服役", &["38军"]),
    ("３８军", &["３８军"]),
    ("38 军", &["38 军"]),
    ("127师", &["127师"]),
    ("１２７师", &["１２７师"]),
    ("105旅", &["105旅"]),
    ("3团", &["3团"]),
    ("7连", &["7连"]),
    ("２营", &["２营"]),
    ("团长在3团", &["3团"]),
    ("某部3连", &["3连"]),
    ("原第38集团军某部", &["第38集团军"]),
    ("1979年入伍38军1983年退伍", &["38军"]),
    ("1979年3月入伍，在某部3连服役", &["3连"]),
    // Chinese numerals
    ("第三十八集团军", &["第三十八集团军"]),
    ("三十八军", &["三十八军"]),
    ("二十七军军长", &["二十七军"]),
    ("志愿军二十七军", &["二十七军"]),
    ("一二七师", &["一二七师"]),
    ("八路军一二九师", &["一二九师"]),
    ("一〇一团", &["一〇一团"]),
    ("第十三师", &["第十三师"]),
    ("第一旅", &["第一旅"]),
    ("第三连", &["第三连"]),
    ("第二营", &["第二营"]),
    ("第 3 连", &["第 3 连"]),
    // weak mentions made military by their neighbours
    ("某部三连", &["三连"]),
    ("炮兵三连", &["三连"]),
    ("独立一团", &["一团"]),
    ("新四军三师", &["三师"]),
    ("驻地某部队三营", &["三营"]),
    ("在三营服役", &["三营"]),
    ("三连连长", &["三连"]),
    ("二营营长", &["二营"]),
    ("分配到二连当文书", &["二连"]),
    ("武警福建总队二支队", &["二支队"]),
    ("炮兵一排", &["一排"]),
    // chains
    ("二团三营", &["二团三营"]),
    ("3营2连", &["3营2连"]),
    ("一营三连", &["一营三连"]),
    ("一连二排", &["一连二排"]),
    ("3连2排1班", &["3连2排1班"]),
    ("一连一排一班", &["一连一排一班"]),
    ("X师X团X连", &["X师X团X连"]),
    ("x师x团x连", &["x师x团x连"]),
    ("Ｘ师Ｘ团Ｘ连", &["Ｘ师Ｘ团Ｘ连"]),
    ("×师×团", &["×师×团"]),
    ("X团X营", &["X团X营"]),
    ("38军113师337团", &["38军113师337团"]),
    ("在38军113师337团3营7连服役", &["38军113师337团3营7连"]),
    ("第38军第113师", &["第38军第113师"]),
    ("3 营 2 连", &["3 营 2 连"]),
    ("3师-5团-2连", &["3师-5团-2连"]),
    ("3师／5团", &["3师／5团"]),
    ("三师炮兵团", &["三师炮兵团"]),
    ("一团警卫连", &["一团警卫连"]),
    ("三师炮兵团二营", &["三师炮兵团二营"]),
    ("3大队2中队", &["3大队2中队"]),
    // cover designations
    ("12345部队", &["12345部队"]),
    ("６１２３４部队", &["６１２３４部队"]),
    ("61889 部队", &["61889 部队"]),
    ("武警8710部队", &["武警8710部队"]),
    ("解放军61889部队", &["解放军61889部队"]),
    ("中国人民解放军61889部队", &["中国人民解放军61889部队"]),
    ("六一八八九部队", &["六一八八九部队"]),
    ("七一〇三部队", &["七一〇三部队"]),
    ("原61889部战士", &["61889部"]),
    ("武警8710部队3中队", &["武警8710部队3中队"]),
    ("XXXXX部队", &["XXXXX部队"]),
    ("1001信箱", &["1001信箱"]),
    ("成都27号信箱", &["27号信箱"]),
    ("代号61889", &["代号61889"]),
    ("代号：A1234", &["代号：A1234"]),
    ("部队代号为61889部队", &["代号为61889部队"]),
    ("代号为“雄鹰”部队", &["代号为“雄鹰”部队"]),
    ("部队：61889", &["61889"]),
    ("番号：61889", &["番号", "61889"]),
    // from veterans' memoirs
    ("陆军第四十军军部警卫连", &["第四十军"]),
    (
        "锦州市八一零五四部队五十六分队",
        &["八一零五四部队五十六分队"],
    ),
    ("连门口挂着榴炮一连的牌匾", &["一连"]),
    ("64军属寒区服装", &["64军"]),
    ("我分到了三营机炮三连2排5班", &["三营机炮三连2排5班"]),
    ("到了云南昆明（二十四基地）", &["二十四基地"]),
    ("下到老连队——229团1营2连", &["229团1营2连"]),
    // the word itself
    ("番号不记得了", &["番号"]),
    ("部队番号：38军", &["番号", "38军"]),
    ("番号38军", &["番号38军"]),
    // invisible characters do not hide anything
    ("38\u{200b}军", &["38\u{200b}军"]),
    ("61\u{feff}889部队", &["61\u{feff}889部队"]),
    // several in one text
    (
        "1978年入伍，在38军服役，后调到61889部队，1985年复员。",
        &["38军", "61889部队"],
    ),
];

/// Ordinary words, place names, idioms, numbers: none may be flagged.
const NEGATIVES: &[&str] = &[
    // unit characters in everyday words
    "连江县",
    "连城县",
    "教师",
    "共青团",
    "共青团员",
    "团委",
    "团结村",
    "师范",
    "第一师范学院",
    "华东师范大学",
    "连续三天",
    "连续两年",
    "一连串",
    "团圆",
    "年年团圆",
    "团年饭",
    "营业",
    "经营",
    "营养",
    "夏令营",
    "军人",
    "军属",
    "退伍军人",
    "军残",
    "旅游",
    "旅馆",
    "旅游团",
    "合唱团",
    "师傅",
    "三师傅",
    "二师兄",
    "2位教师",
    "一营业员",
    "二团员",
    "第一团支部",
    "三营地",
    "第二旅行社",
    "5营业厅",
    "第1营销中心",
    "第四军医大学",
    "第三军医大学",
    "番茄炒蛋",
    // measure words, adverbs, idioms
    "三连冠",
    "3连胜",
    "五连胜",
    "两连胜",
    "三连败",
    "一排房子",
    "两排树",
    "一排排",
    "一排一排的房子",
    "坐在第一排",
    "第3排第5座",
    "一团糟",
    "乱成一团",
    "家里一团乱",
    "一团和气",
    "一团毛线",
    "二团毛线",
    "零团费",
    "零排放",
    "接二连三",
    "一连几天",
    "一连好几天",
    "一连三天没吃饭",
    "十一连休",
    "三军仪仗队",
    "陆海空三军",
    "千军万马",
    "百团大战",
    "百万雄师",
    "三三两两",
    "乱七八糟",
    "一五一十",
    "一师一优课",
    "3个团",
    "一个营",
    "两个连",
    // bare single-numeral units: deliberately not flagged
    "二营长",
    "二连长",
    // places
    "三营村",
    "五团乡",
    "我家住在三营镇",
    "五营乡政府",
    "一营村三组",
    "三营街道",
    "二连浩特",
    "营口市",
    // dates, numbers, documents
    "三十年",
    "2000年",
    "1998年入伍",
    "2018年10月10日",
    "2018年部队转业",
    "1998年在部队当兵",
    "在部队当了3年兵",
    "电话号码13812345678",
    "电话0595-12345678",
    "门牌12号",
    "6号楼3单元",
    "邮编362400",
    "身份证号350524199001011234",
    "残疾军人证编号：闽军残字第012345号",
    "户口本第3页",
    "低保每月300元",
    "住房面积60平方米",
    "18岁",
    "100元",
    "三年级",
    "高一三班",
    "三年级二班",
    "第一人民医院",
    "第三大队",
    "第二生产队",
    // military words without designations
    "八一建军节",
    "八一军旗",
    "庆八一军民联欢",
    "2015军改",
    "2019军运会",
    "红一方面军",
    "红四方面军",
    "西路军",
    "新四军",
    "八路军",
    "一等功",
    "三等功一次",
    "一级军士长",
    "一级伤残",
    "残疾等级4级",
    "抗美援朝",
    "民兵连",
    "连长说",
    "某师某团",
    "行动代号不清楚",
    "X光检查",
    "MAX",
    "旅美华侨",
    "十一连假",
    "五一连休",
    "工资800连房租都不够",
    "每月300连药费也不够",
    "轮番号召",
    "新时代号召部队官兵",
    "现代号称",
    "731部队",
    "卖出10000部手机",
    "拍了12345部电影",
    "团风县",
    "旅顺口",
    "我们六团公社的十个新兵",
    "我被分到新兵一班",
    "出操时一个连一个连带着跑",
    "连队有三个排十二个班",
    "部队是个团级单位，几个营级单位",
    "代号诡刺 收藏 1 197",
    "在昆明二十四中上高中",
    "1排“85迫击炮”三个班",
    "两个男兵排的新兵连",
    // sentences as people write them at the kiosk
    "本人1976年3月入伍，1980年1月退伍回乡务农，现年六十八岁，患有高血压、糖尿病，每月药费约五百元。",
    "家中有三口人，老伴常年卧病在床，儿子在外打工。",
    "希望政府帮助解决住房问题，现住的房子是上世纪八十年代建的土坯房，一下雨就漏水。",
    "孙子今年上初三，学习成绩一连几次都是全班第一。",
    "每月领取定期抚恤金1200元，残疾等级七级。",
    "一九七九年二月参加对越自卫反击战，荣立三等功一次。",
    "在连队担任过班长，后来当了排长。",
    "退伍后在镇上的营业所工作了三十年",
    "女儿在县第二中学当教师",
    "老家在连江县东岱镇",
    "一家八口人挤在两间房里",
    "去县城要转两趟车，一趟车要一个多小时",
    "我们连当年有一百二十多人",
    "天上一团一团的乌云",
    "他是三中的老师",
    "五保户，低保户，一户一档",
    "在县第一医院住院三个月，花了三万多元",
    "二级甲等医院",
    "坐25路公交车到第8排3号座位",
    "儿子在第二师范附属小学读五年级",
    "三排二号",
    "参加过三次军事演习",
    "1985年转业到县粮食局",
    "希望解决子女就业问题，儿子今年二十五岁",
    "老伴2019年去世，现一人独居",
    "需要一辆轮椅，腿脚不便",
    "退伍军人优待证办理进度",
    "想参加退役军人技能培训，学一门手艺",
    "军烈属光荣牌",
    "八一慰问金500元",
    "村里组织了八一座谈会",
    "三十八年党龄",
    "十二生肖",
    "一二年级的孙女",
];

#[test]
fn positives_are_flagged() {
    let mut failures = Vec::new();
    for (input, expected) in POSITIVES {
        let got = texts(input);
        if got != *expected {
            failures.push(format!("{input:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn negatives_are_not_flagged() {
    let mut failures = Vec::new();
    for input in NEGATIVES {
        let got = texts(input);
        if !got.is_empty() {
            failures.push(format!("{input:?}: got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn check(input: &str, expect: Expect) {
    let mut out = String::new();
    for h in scan(input) {
        out.push_str(&format!(
            "{} {:?} {}..{}\n  {}\n",
            h.kind.code(),
            h.text,
            h.span.start,
            h.span.end,
            h.message_zh
        ));
    }
    expect.assert_eq(&out);
}

#[test]
fn messages() {
    check(
        "X师X团X连",
        expect![[r#"
            unit_designation "X师X团X连" 0..12
              “X师X团X连”是部队番号，属于涉密信息，请删除后再继续
        "#]],
    );
    check(
        "我原来在3师5团2连当兵，部队番号是12345部队",
        expect![[r#"
            unit_designation "3师5团2连" 12..24
              “3师5团2连”是部队番号，属于涉密信息，请删除后再继续
            designation_word "番号" 39..45
              部队番号属于涉密信息，不能填写，请删除“番号”及相关内容后再继续
            cover_designation "12345部队" 48..59
              “12345部队”是部队代号，属于涉密信息，请删除后再继续
        "#]],
    );
    check("生活困难，希望解决住房问题", expect![""]);
}

#[test]
fn check_text_reports_problems_on_the_field() {
    let problems = check_text("needs.other", "我在38军服役");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].code, "classified_text");
    assert_eq!(problems[0].field.as_deref(), Some("needs.other"));
    expect!["“38军”是部队番号，属于涉密信息，请删除后再继续"].assert_eq(&problems[0].message);
    assert!(check_text("needs.other", "希望解决就业问题").is_empty());
}

#[test]
fn long_text_is_handled() {
    let unit = "3师5团2连，一连三天，12345部队。";
    let text = unit.repeat(2_000);
    let started = std::time::Instant::now();
    let hits = scan(&text);
    assert_eq!(hits.len(), 4_000);
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}

fn assert_well_formed(text: &str) {
    let hits = scan(text);
    let mut last_end = 0;
    for h in &hits {
        assert!(h.span.start >= last_end, "overlapping hits in {text:?}");
        assert!(h.span.start < h.span.end);
        assert_eq!(text.get(h.span.clone()), Some(h.text.as_str()));
        assert!(h.message_zh.contains(h.text.as_str()));
        last_end = h.span.end;
    }
}

proptest! {
    #[test]
    fn never_panics_and_spans_are_exact(text in "\\PC{0,60}") {
        assert_well_formed(&text);
    }

    #[test]
    fn never_panics_on_military_alphabet(
        text in "[0-9０-９一二三四五六七八九十百千〇零两幺X×第某部队军师旅团营连排班总支大中番代号信箱炮兵村长 \u{200b}-]{0,40}"
    ) {
        assert_well_formed(&text);
    }

    /// A cover designation is found whatever surrounds it.
    #[test]
    fn cover_designation_found_anywhere(before in "\\PC{0,20}", after in "\\PC{0,20}") {
        let text = format!("{before}，在61889部队服役。{after}");
        prop_assert!(scan(&text).iter().any(|h| h.text.contains("61889部队")));
    }

    /// Sentences made of ordinary text stay clean when strung together.
    #[test]
    fn negatives_joined_stay_clean(picks in proptest::collection::vec(0..NEGATIVES.len(), 1..6)) {
        let text: Vec<&str> = picks.iter().map(|&i| NEGATIVES[i]).collect();
        let text = text.join("。");
        prop_assert!(scan(&text).is_empty(), "{text:?}: {:?}", texts(&text));
    }
}
