//! The review: everything entered, and every problem as a button that
//! jumps to its page.

use kiosk_core::forms::{self, Field};
use kiosk_core::record::Record;
use kiosk_core::session::{Event, Step, View};

use super::needs_adapter::area_name;
use super::{AppWindow, Dispatch, ProblemRow, ReviewLine, ReviewView};
use slint::{ComponentHandle, ModelRc, VecModel};

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let d = dispatch.clone();
    ui.global::<ReviewView>()
        .on_jump(move |field| d.send(Event::JumpToField(field.to_string())));
}

/// The page where a problem is fixed, in the person's words; `None`: only
/// staff can fix it.
fn page_name(step: Option<Step>) -> &'static str {
    match step {
        Some(Step::Identity) => "核对身份",
        Some(Step::Portrait) => "拍照",
        Some(Step::CategoryDetails(_)) => "类别详情",
        Some(Step::Categories) => "人员类别",
        Some(Step::Documents) => "证件拍照",
        Some(Step::Living) => "生活情况",
        Some(Step::Needs) => "困难诉求",
        _ => "工作人员处理",
    }
}

/// A field's answer as the review shows it: the same words the receipt
/// prints, or "（未填）".
fn answer(field: &Field) -> String {
    field.answer_zh().unwrap_or_else(|| "（未填）".into())
}

fn line(label: impl Into<String>, value: impl Into<String>) -> ReviewLine {
    ReviewLine {
        label: label.into().into(),
        value: value.into().into(),
    }
}

fn summary(record: &Record) -> Vec<ReviewLine> {
    let id = &record.identity;
    let mut lines = vec![
        line("姓名", id.name.as_str()),
        line(
            "联系电话",
            if id.phone.is_empty() {
                "（未填）"
            } else {
                id.phone.as_str()
            },
        ),
        line(
            "现住址",
            if id.current_address.is_empty() {
                "同身份证住址"
            } else {
                id.current_address.as_str()
            },
        ),
        line(
            "免冠照片",
            if record.photos.portrait.is_some() {
                "已拍摄"
            } else {
                "未拍摄"
            },
        ),
    ];
    let categories: Vec<&str> = record
        .categories
        .iter()
        .map(|c| c.category().name_zh())
        .collect();
    lines.push(line("人员类别", categories.join("、")));
    for details in &record.categories {
        for field in forms::details_fields(details) {
            // Optional questions left empty are not worth a line.
            if !field.required && answer(&field) == "（未填）" {
                continue;
            }
            lines.push(line(
                format!(
                    "　{}",
                    field.label_zh.split('（').next().unwrap_or(field.label_zh)
                ),
                answer(&field),
            ));
        }
    }
    // Each certificate once, with its pages when there are several.
    let documents: Vec<String> = record
        .documents
        .iter()
        .filter(|d| d.page == 1)
        .map(|d| {
            let pages = record.documents.iter().filter(|o| o.kind == d.kind).count();
            match pages {
                1 => d.kind.name_zh().to_string(),
                n => format!("{}（{n}页）", d.kind.name_zh()),
            }
        })
        .chain(
            record
                .missing_documents
                .iter()
                .map(|m| format!("{}：{}", m.kind.name_zh(), m.reason.name_zh())),
        )
        .collect();
    lines.push(line(
        "证件照片",
        if documents.is_empty() {
            "（未拍摄）".to_string()
        } else {
            documents.join("、")
        },
    ));
    for field in forms::living_fields(&record.living) {
        if field.key == "remarks" && record.living.remarks.is_empty() {
            continue;
        }
        let mut value = answer(&field);
        if field.key == "monthly_income_yuan" && value != "（未填）" {
            value.push_str(" 元");
        }
        lines.push(line(
            field.label_zh.split('（').next().unwrap_or(field.label_zh),
            value,
        ));
    }
    if record.needs.is_empty() {
        lines.push(line("困难诉求", "无"));
    }
    for need in &record.needs {
        lines.push(line(
            format!("困难诉求：{}", area_name(need.area)),
            need.text.as_str(),
        ));
    }
    lines
}

pub fn show(ui: &AppWindow, view: &View) {
    if view.step != Step::Review {
        return;
    }
    let Some(record) = view.record else { return };
    let g = ui.global::<ReviewView>();
    g.set_lines(ModelRc::new(VecModel::from(summary(record))));
    g.set_returned(
        view.returned
            .map(|r| r.notice_zh())
            .unwrap_or_default()
            .into(),
    );
    let problems: Vec<ProblemRow> = view
        .problems
        .iter()
        .map(|p| ProblemRow {
            page: page_name(p.step).into(),
            field: p.problem.field.as_deref().unwrap_or_default().into(),
            message: p.problem.message.as_str().into(),
        })
        .collect();
    g.set_problems(ModelRc::new(VecModel::from(problems)));
    let checks: Vec<ProblemRow> = view
        .checks
        .iter()
        .map(|p| ProblemRow {
            page: page_name(p.step).into(),
            field: p.problem.field.as_deref().unwrap_or_default().into(),
            message: format!("【{}】{}", p.problem.severity.as_zh(), p.problem.message).into(),
        })
        .collect();
    g.set_checks(ModelRc::new(VecModel::from(checks)));
}
