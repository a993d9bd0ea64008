use std::fmt::Write as _;

use expect_test::{expect, Expect};

use super::*;

// ------------------------------------------------------------ identities

#[test]
fn codes_slugs_and_names_round_trip() {
    for (i, c) in Category::ALL.into_iter().enumerate() {
        assert_eq!(usize::from(c.code()), i + 1);
        assert_eq!(Category::from_code(c.code()), Some(c));
        assert_eq!(Category::from_slug(c.slug()), Some(c));
        assert_eq!(Category::parse(c.slug()), Ok(c));
        assert_eq!(Category::parse(&c.code().to_string()), Ok(c));
        assert_eq!(Category::parse(c.name_zh()), Ok(c));
        assert_eq!(Category::parse(c.full_name_zh()), Ok(c));
        let slug_ok = c
            .slug()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-');
        assert!(slug_ok, "{}", c.slug());
    }
    assert_eq!(Category::from_code(0), None);
    assert_eq!(Category::from_code(13), None);
    assert_eq!(Category::from_code(255), None);
}

#[test]
fn table_of_categories() {
    let mut out = String::new();
    for c in Category::ALL {
        writeln!(
            out,
            "{:>2} {:<27} 附件{:<2} {}",
            c.code(),
            c.slug(),
            c.annex_no(),
            c.full_name_zh()
        )
        .unwrap();
    }
    expect![[r#"
         1 transferred-officer         附件2  军队转业干部
         2 discharged-soldier          附件3  退役士兵
         3 retired-officer-nco         附件4  军队离退休干部和退休士官
         4 retired-non-enlisted-staff  附件5  军队无军籍离退休退职职工
         5 demobilised-serviceman      附件7  复员军人
         6 red-army-veteran            附件6  退伍红军老战士（含西路军红军老战士和红军失散人员）
         7 disabled-serviceman         附件8  残疾军人
         8 disabled-militia            附件9  伤残民兵民工
         9 martyr-family               附件10 烈士遗属
        10 killed-on-duty-family       附件11 因公牺牲军人遗属
        11 died-of-illness-family      附件12 病故军人遗属
        12 serving-member-family       附件13 现役军人家属
    "#]]
    .assert_eq(&out);
}

fn check_parse(input: &str, expect: Expect) {
    let actual = match Category::parse(input) {
        Ok(c) => format!("ok {c}"),
        Err(e) => format!("err {} | {} | {e}", e.code(), e.message_zh()),
    };
    expect.assert_eq(&actual);
}

#[test]
fn parse_single() {
    check_parse("2", expect!["ok 2 discharged-soldier"]);
    check_parse("  12 ", expect!["ok 12 serving-member-family"]);
    check_parse("１２", expect!["ok 12 serving-member-family"]);
    check_parse("012", expect!["ok 12 serving-member-family"]);
    check_parse("Red-Army-Veteran", expect!["ok 6 red-army-veteran"]);
    check_parse("DISABLED_MILITIA", expect!["ok 8 disabled-militia"]);
    check_parse("复员军人", expect!["ok 5 demobilised-serviceman"]);
    check_parse(
        "",
        expect!["err category_empty | 请填写人员类别 | no category given"],
    );
    check_parse(
        "   ",
        expect!["err category_empty | 请填写人员类别 | no category given"],
    );
    check_parse(
        "0",
        expect![[
            r#"err category_unknown | “0”不是有效的人员类别，请填写1至12的类别编号或类别名称 | unknown category "0" (expected a code 1-12 or a slug)"#
        ]],
    );
    check_parse(
        "13",
        expect![[
            r#"err category_unknown | “13”不是有效的人员类别，请填写1至12的类别编号或类别名称 | unknown category "13" (expected a code 1-12 or a slug)"#
        ]],
    );
    check_parse(
        "+2",
        expect![[
            r#"err category_unknown | “+2”不是有效的人员类别，请填写1至12的类别编号或类别名称 | unknown category "+2" (expected a code 1-12 or a slug)"#
        ]],
    );
    check_parse(
        "99999999999999999999",
        expect![[
            r#"err category_unknown | “99999999999999999999”不是有效的人员类别，请填写1至12的类别编号或类别名称 | unknown category "99999999999999999999" (expected a code 1-12 or a slug)"#
        ]],
    );
    check_parse(
        "discharged soldier",
        expect![[
            r#"err category_unknown | “discharged soldier”不是有效的人员类别，请填写1至12的类别编号或类别名称 | unknown category "discharged soldier" (expected a code 1-12 or a slug)"#
        ]],
    );
    check_parse(
        "这是一段很长很长很长很长很长很长很长很长的文字",
        expect![[
            r#"err category_unknown | “这是一段很长很长很长很长很长很长很长很长…”不是有效的人员类别，请填写1至12的类别编号或类别名称 | unknown category "这是一段很长很长很长很长很长很长很长很长的文字" (expected a code 1-12 or a slug)"#
        ]],
    );
}

fn check_list(input: &str, expect: Expect) {
    let actual = match parse_list(input) {
        Ok(cs) => {
            let codes: Vec<String> = cs.iter().map(|c| c.code().to_string()).collect();
            format!("ok [{}]", codes.join(","))
        }
        Err(e) => format!("err {} | {}", e.code(), e.message_zh()),
    };
    expect.assert_eq(&actual);
}

#[test]
fn parse_lists() {
    check_list("", expect!["ok []"]);
    check_list(" ， ,", expect!["ok []"]);
    check_list("2,7", expect!["ok [2,7]"]);
    check_list("7, 2", expect!["ok [7,2]"]);
    check_list("2，7、9；12", expect!["ok [2,7,9,12]"]);
    check_list("2 7\t9", expect!["ok [2,7,9]"]);
    check_list("2,,7,", expect!["ok [2,7]"]);
    check_list(
        "discharged-soldier, 残疾军人 ,martyr-family",
        expect!["ok [2,7,9]"],
    );
    check_list(
        "2,2",
        expect!["err category_duplicate | “退役士兵”填写了不止一次，请只填写一次"],
    );
    check_list(
        "2,discharged-soldier",
        expect!["err category_duplicate | “退役士兵”填写了不止一次，请只填写一次"],
    );
    check_list(
        "2,x,7",
        expect!["err category_unknown | “x”不是有效的人员类别，请填写1至12的类别编号或类别名称"],
    );
    check_list(
        "2;13",
        expect!["err category_unknown | “13”不是有效的人员类别，请填写1至12的类别编号或类别名称"],
    );
}

#[test]
fn serde_writes_code_reads_code_or_slug() {
    let json = serde_json::to_string(&vec![DischargedSoldier, DisabledServiceman]).unwrap();
    assert_eq!(json, "[2,7]");
    let back: Vec<Category> =
        serde_json::from_str(r#"[2, "7", "martyr-family", "现役军人家属"]"#).unwrap();
    assert_eq!(
        back,
        vec![
            DischargedSoldier,
            DisabledServiceman,
            MartyrFamily,
            ServingMemberFamily
        ]
    );
    for bad in ["0", "13", "-1", "300", "\"x\"", "2.0", "null", "[]"] {
        assert!(
            serde_json::from_str::<Category>(bad).is_err(),
            "{bad} should not deserialize"
        );
    }
    for c in Category::ALL {
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Category>(&s).unwrap(), c);
    }
}

// ------------------------------------------------------------ documents

fn render_docs(selection: &[Category]) -> String {
    documents_for(selection)
        .iter()
        .map(|r| r.name_zh())
        .collect::<Vec<_>>()
        .join(" / ")
}

#[test]
fn documents_per_category() {
    let mut out = String::new();
    for c in Category::ALL {
        let own: Vec<String> = c.required_documents().iter().map(|r| r.name_zh()).collect();
        writeln!(out, "{:>2} {}", c.code(), own.join(" / ")).unwrap();
    }
    expect![[r#"
         1 转业证或入伍档案材料（如退伍军人登记表复印件）
         2 退伍证或入伍档案材料（如退伍军人登记表复印件）
         3 离退休证或入伍档案材料（如退伍军人登记表复印件）
         4 离退休证或入伍档案材料（如退伍军人登记表复印件）
         5 复员证或入伍档案材料（如退伍军人登记表复印件）
         6 红军老战士身份证明或入伍档案材料（如退伍军人登记表复印件）
         7 残疾军人证
         8 伤残民兵民工证或因战因公伤残人员证
         9 烈士证明书
        10 因公牺牲军人证明书
        11 病故军人证明书
        12 
    "#]]
    .assert_eq(&out);
    expect!["身份证 / 户口本"].assert_eq(&render_docs(&[]));
    expect!["身份证 / 户口本 / 退伍证或入伍档案材料（如退伍军人登记表复印件） / 残疾军人证 / 烈士证明书"]
        .assert_eq(&render_docs(&[MartyrFamily, DisabledServiceman, DischargedSoldier]));
    // 3 and 4 share a requirement: listed once.
    expect!["身份证 / 户口本 / 离退休证或入伍档案材料（如退伍军人登记表复印件）"]
        .assert_eq(&render_docs(&[RetiredOfficerNco, RetiredNonEnlistedStaff]));
    assert!(!OPTIONAL_DOCUMENTS.is_empty());
    for c in Category::ALL {
        for r in c.required_documents() {
            assert!(!r.any_of.is_empty());
            for k in r.any_of {
                assert!(
                    !OPTIONAL_DOCUMENTS.contains(k),
                    "{k:?} both optional and required"
                );
            }
        }
    }
}

#[test]
fn missing_documents_honours_one_of() {
    use DocumentKind as D;
    let sel = [DisabledMilitia, MartyrFamily];
    let names = |shown: &[D]| -> Vec<String> {
        missing_documents(&sel, shown)
            .iter()
            .map(|r| r.name_zh())
            .collect()
    };
    assert_eq!(
        names(&[
            D::IdCard,
            D::HouseholdRegister,
            D::WarOrDutyDisabilityCertificate
        ]),
        vec!["烈士证明书"]
    );
    assert_eq!(
        names(&[
            D::IdCard,
            D::HouseholdRegister,
            D::DisabledMilitiaCertificate,
            D::MartyrCertificate
        ]),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&[D::AwardCertificate]),
        vec![
            "身份证",
            "户口本",
            "伤残民兵民工证或因战因公伤残人员证",
            "烈士证明书"
        ]
    );
}

#[test]
fn document_kinds_serialize_as_kebab_case() {
    let json = serde_json::to_string(&DocumentKind::WarOrDutyDisabilityCertificate).unwrap();
    assert_eq!(json, "\"war-or-duty-disability-certificate\"");
    for k in DocumentKind::ALL {
        let s = serde_json::to_string(&k).unwrap();
        assert_eq!(serde_json::from_str::<DocumentKind>(&s).unwrap(), k);
        assert!(!k.name_zh().is_empty());
    }
}

// ------------------------------------------------------------ rules: model

/// The rules of §二(二)1 written out independently over a bit mask
/// (bit n-1 = category n), for the exhaustive comparison.
struct Model {
    mask: u16,
}

impl Model {
    fn has(&self, n: u8) -> bool {
        self.mask & (1 << (n - 1)) != 0
    }
    fn service(&self) -> Vec<u8> {
        (1..=6).filter(|&n| self.has(n)).collect()
    }
    /// rule id -> categories involved
    fn violations(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut v = Vec::new();
        let service = self.service();
        if self.mask == 0 {
            v.push(("at_least_one", vec![]));
        }
        if service.len() >= 2 {
            v.push(("one_of_1_to_6", service.clone()));
        }
        if self.has(7) && self.has(8) {
            v.push(("not_7_and_8", vec![7, 8]));
        }
        if self.has(7) && service.is_empty() {
            v.push(("7_needs_1_to_6", vec![7]));
        }
        if self.has(8) && !service.is_empty() {
            let mut inv = service.clone();
            inv.push(8);
            v.push(("8_not_with_1_to_6", inv));
        }
        v
    }
    fn valid(&self) -> bool {
        let s = self.service().len();
        self.mask != 0
            && s <= 1
            && !(self.has(7) && self.has(8))
            && (!self.has(7) || s == 1)
            && (!self.has(8) || s == 0)
    }
    fn exclusivity_violations(&self) -> Vec<(&'static str, Vec<u8>)> {
        self.violations()
            .into_iter()
            .filter(|(id, _)| matches!(*id, "one_of_1_to_6" | "not_7_and_8" | "8_not_with_1_to_6"))
            .collect()
    }
}

fn categories_of(mask: u16) -> Vec<Category> {
    (1..=12u8)
        .filter(|n| mask & (1 << (n - 1)) != 0)
        .map(|n| Category::from_code(n).unwrap())
        .collect()
}

fn codes(cs: &[Category]) -> Vec<u8> {
    cs.iter().map(|c| c.code()).collect()
}

#[test]
fn all_4096_selections_match_the_model() {
    let mut valid_count = 0;
    for mask in 0u16..4096 {
        let model = Model { mask };
        let selection = categories_of(mask);
        // Order and duplicates must not matter.
        let mut shuffled: Vec<Category> = selection.iter().rev().copied().collect();
        shuffled.extend(selection.iter().copied());
        let got = check_selection(&selection);
        assert_eq!(got, check_selection(&shuffled), "mask {mask:#b}");

        let got_pairs: Vec<(&str, Vec<u8>)> = got
            .iter()
            .map(|v| (v.rule.id(), codes(&v.categories)))
            .collect();
        assert_eq!(
            got_pairs,
            model.violations(),
            "selection {:?}",
            codes(&selection)
        );
        assert_eq!(
            got.is_empty(),
            model.valid(),
            "selection {:?}",
            codes(&selection)
        );
        valid_count += usize::from(model.valid());
        for v in &got {
            assert!(!v.message_zh.is_empty());
            let p = v.to_problem();
            assert_eq!(p.field.as_deref(), Some("categories"));
            assert_eq!(p.code, v.rule.problem_code());
        }

        let states = option_states(&selection);
        assert_eq!(states.len(), 12);
        for (state, c) in states.iter().zip(Category::ALL) {
            assert_eq!(state.category, c);
            assert_eq!(state.selected, selection.contains(&c));
            assert_eq!(state.enabled, state.reason_zh.is_none());
            let with_c = Model {
                mask: mask | (1 << (c.code() - 1)),
            };
            let introduces = with_c
                .exclusivity_violations()
                .iter()
                .any(|(_, inv)| inv.contains(&c.code()));
            let expected_enabled = state.selected || !introduces;
            assert_eq!(
                state.enabled,
                expected_enabled,
                "option {} with {:?}: {:?}",
                c.code(),
                codes(&selection),
                state.reason_zh
            );
            // From a selection that breaks no exclusivity rule (every state a
            // person can click into), enabled means "stays clean".
            if model.exclusivity_violations().is_empty() && !state.selected {
                assert_eq!(state.enabled, with_c.exclusivity_violations().is_empty());
            }
        }

        let pending = pending_requirements(&selection);
        let expected_pending = model
            .violations()
            .iter()
            .filter(|(id, _)| matches!(*id, "at_least_one" | "7_needs_1_to_6"))
            .count();
        assert_eq!(pending.len(), expected_pending);
    }
    // 1–6 pick at most one (7 ways incl. none), 7/8 (none, 7 with a
    // service status, 8 without), 9–12 free (16 ways), minus empty:
    // none+none: 1, service(6)+none: 6, service+7: 6, none+8: 1 => 14 * 16 - 1.
    assert_eq!(valid_count, 14 * 16 - 1);
}

#[test]
fn every_valid_selection_is_reachable_by_clicking_enabled_options() {
    for mask in 1u16..4096 {
        if !(Model { mask }).valid() {
            continue;
        }
        let mut so_far: Vec<Category> = Vec::new();
        for c in categories_of(mask) {
            let state = &option_states(&so_far)[usize::from(c.code() - 1)];
            assert!(state.enabled, "{c} disabled after {:?}", codes(&so_far));
            so_far.push(c);
        }
        assert!(check_selection(&so_far).is_empty());
    }
}

// ------------------------------------------------------------ rules: wording

#[test]
fn rule_explanations() {
    let mut out = String::new();
    for r in RuleId::ALL {
        writeln!(
            out,
            "{} [{}] exclusivity={}\n  {}",
            r.id(),
            r.problem_code(),
            r.is_exclusivity(),
            r.explanation_zh()
        )
        .unwrap();
    }
    expect![[r#"
        at_least_one [category_at_least_one] exclusivity=false
          至少要选择一项人员类别。
        one_of_1_to_6 [category_one_of_1_to_6] exclusivity=true
          第1至6类（军队转业干部、退役士兵、军队离退休干部和退休士官、军队无军籍离退休退职职工、复员军人、退伍红军老战士）只能选择其中一项。
        not_7_and_8 [category_not_7_and_8] exclusivity=true
          “残疾军人”和“伤残民兵民工”只能选择其中一项，不能同时选择。
        7_needs_1_to_6 [category_7_needs_1_to_6] exclusivity=false
          “残疾军人”不能单独选择，选择“残疾军人”的，还要在第1至6类中选择一项。
        8_not_with_1_to_6 [category_8_not_with_1_to_6] exclusivity=true
          “伤残民兵民工”不能与第1至6类中的任何一项同时选择。
    "#]]
    .assert_eq(&out);
}

fn check_violations(selection: &[u8], expect: Expect) {
    let cs: Vec<Category> = selection
        .iter()
        .map(|&n| Category::from_code(n).unwrap())
        .collect();
    let mut out = String::new();
    for v in check_selection(&cs) {
        writeln!(
            out,
            "{} {:?}: {}",
            v.rule,
            codes(&v.categories),
            v.message_zh
        )
        .unwrap();
    }
    expect.assert_eq(&out);
}

#[test]
fn violation_messages() {
    check_violations(
        &[],
        expect![[r#"
        at_least_one []: 请至少选择一项人员类别
    "#]],
    );
    check_violations(&[2, 7, 9], expect![""]);
    check_violations(&[8, 9, 10, 11, 12], expect![""]);
    check_violations(
        &[7],
        expect![[r#"
        7_needs_1_to_6 [7]: 选择“残疾军人”还需选择第1至6类中的一项
    "#]],
    );
    check_violations(
        &[2, 5],
        expect![[r#"
        one_of_1_to_6 [2, 5]: “退役士兵”和“复员军人”不能同时选择，第1至6类只能选一项
    "#]],
    );
    check_violations(
        &[1, 3, 6],
        expect![[r#"
        one_of_1_to_6 [1, 3, 6]: “军队转业干部”、“军队离退休干部和退休士官”和“退伍红军老战士”不能同时选择，第1至6类只能选一项
    "#]],
    );
    check_violations(
        &[7, 8],
        expect![[r#"
        not_7_and_8 [7, 8]: “残疾军人”和“伤残民兵民工”不能同时选择，请只保留其中一项
        7_needs_1_to_6 [7]: 选择“残疾军人”还需选择第1至6类中的一项
    "#]],
    );
    check_violations(
        &[2, 3, 7, 8],
        expect![[r#"
        one_of_1_to_6 [2, 3]: “退役士兵”和“军队离退休干部和退休士官”不能同时选择，第1至6类只能选一项
        not_7_and_8 [7, 8]: “残疾军人”和“伤残民兵民工”不能同时选择，请只保留其中一项
        8_not_with_1_to_6 [2, 3, 8]: “伤残民兵民工”不能与“退役士兵”和“军队离退休干部和退休士官”同时选择（第1至6类不能与“伤残民兵民工”同时选择）
    "#]],
    );
}

fn check_options(selection: &[u8], expect: Expect) {
    let cs: Vec<Category> = selection
        .iter()
        .map(|&n| Category::from_code(n).unwrap())
        .collect();
    let mut out = String::new();
    for s in option_states(&cs) {
        let mark = match (s.selected, s.enabled) {
            (true, _) => "[x]",
            (false, true) => "[ ]",
            (false, false) => "[-]",
        };
        write!(
            out,
            "{mark} {:>2} {}",
            s.category.code(),
            s.category.name_zh()
        )
        .unwrap();
        if let Some(r) = &s.reason_zh {
            write!(out, " — {r}").unwrap();
        }
        out.push('\n');
    }
    for hint in pending_requirements(&cs) {
        writeln!(out, "hint: {hint}").unwrap();
    }
    expect.assert_eq(&out);
}

#[test]
fn option_states_for_partial_selections() {
    check_options(
        &[],
        expect![[r#"
        [ ]  1 军队转业干部
        [ ]  2 退役士兵
        [ ]  3 军队离退休干部和退休士官
        [ ]  4 军队无军籍离退休退职职工
        [ ]  5 复员军人
        [ ]  6 退伍红军老战士
        [ ]  7 残疾军人
        [ ]  8 伤残民兵民工
        [ ]  9 烈士遗属
        [ ] 10 因公牺牲军人遗属
        [ ] 11 病故军人遗属
        [ ] 12 现役军人家属
        hint: 请至少选择一项人员类别
    "#]],
    );
    check_options(
        &[7],
        expect![[r#"
        [ ]  1 军队转业干部
        [ ]  2 退役士兵
        [ ]  3 军队离退休干部和退休士官
        [ ]  4 军队无军籍离退休退职职工
        [ ]  5 复员军人
        [ ]  6 退伍红军老战士
        [x]  7 残疾军人
        [-]  8 伤残民兵民工 — 已选择“残疾军人”，“残疾军人”和“伤残民兵民工”只能选一项
        [ ]  9 烈士遗属
        [ ] 10 因公牺牲军人遗属
        [ ] 11 病故军人遗属
        [ ] 12 现役军人家属
        hint: 选择“残疾军人”还需选择第1至6类中的一项
    "#]],
    );
    check_options(
        &[2, 7],
        expect![[r#"
        [-]  1 军队转业干部 — 已选择“退役士兵”，第1至6类只能选一项
        [x]  2 退役士兵
        [-]  3 军队离退休干部和退休士官 — 已选择“退役士兵”，第1至6类只能选一项
        [-]  4 军队无军籍离退休退职职工 — 已选择“退役士兵”，第1至6类只能选一项
        [-]  5 复员军人 — 已选择“退役士兵”，第1至6类只能选一项
        [-]  6 退伍红军老战士 — 已选择“退役士兵”，第1至6类只能选一项
        [x]  7 残疾军人
        [-]  8 伤残民兵民工 — 已选择“残疾军人”，“残疾军人”和“伤残民兵民工”只能选一项；已选择“退役士兵”，“伤残民兵民工”不能与第1至6类同时选择
        [ ]  9 烈士遗属
        [ ] 10 因公牺牲军人遗属
        [ ] 11 病故军人遗属
        [ ] 12 现役军人家属
    "#]],
    );
    check_options(
        &[8, 12],
        expect![[r#"
        [-]  1 军队转业干部 — 已选择“伤残民兵民工”，不能再选择第1至6类
        [-]  2 退役士兵 — 已选择“伤残民兵民工”，不能再选择第1至6类
        [-]  3 军队离退休干部和退休士官 — 已选择“伤残民兵民工”，不能再选择第1至6类
        [-]  4 军队无军籍离退休退职职工 — 已选择“伤残民兵民工”，不能再选择第1至6类
        [-]  5 复员军人 — 已选择“伤残民兵民工”，不能再选择第1至6类
        [-]  6 退伍红军老战士 — 已选择“伤残民兵民工”，不能再选择第1至6类
        [-]  7 残疾军人 — 已选择“伤残民兵民工”，“残疾军人”和“伤残民兵民工”只能选一项
        [x]  8 伤残民兵民工
        [ ]  9 烈士遗属
        [ ] 10 因公牺牲军人遗属
        [ ] 11 病故军人遗属
        [x] 12 现役军人家属
    "#]],
    );
    // A selection loaded from an old record that already breaks a rule.
    check_options(
        &[2, 3],
        expect![[r#"
        [-]  1 军队转业干部 — 已选择“退役士兵”和“军队离退休干部和退休士官”，第1至6类只能选一项
        [x]  2 退役士兵
        [x]  3 军队离退休干部和退休士官
        [-]  4 军队无军籍离退休退职职工 — 已选择“退役士兵”和“军队离退休干部和退休士官”，第1至6类只能选一项
        [-]  5 复员军人 — 已选择“退役士兵”和“军队离退休干部和退休士官”，第1至6类只能选一项
        [-]  6 退伍红军老战士 — 已选择“退役士兵”和“军队离退休干部和退休士官”，第1至6类只能选一项
        [ ]  7 残疾军人
        [-]  8 伤残民兵民工 — 已选择“退役士兵”和“军队离退休干部和退休士官”，“伤残民兵民工”不能与第1至6类同时选择
        [ ]  9 烈士遗属
        [ ] 10 因公牺牲军人遗属
        [ ] 11 病故军人遗属
        [ ] 12 现役军人家属
    "#]],
    );
}
