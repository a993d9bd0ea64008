//! The records part's lines on the staff screen, and what "send now" did,
//! in plain words.

use chrono::{DateTime, Duration, Utc};

use crate::store::QueueStats;
use crate::sync::worker::SyncReport;
use kiosk_core::session::DeviceLine;

use super::lookup::Platform;

/// The county's rule: records go up at least weekly.
const UPLOAD_AT_LEAST_EVERY_DAYS: i64 = 7;

pub(super) fn waiting(stats: &QueueStats) -> u64 {
    stats.by_state.get("signed").copied().unwrap_or(0)
}

fn local_time(at: DateTime<Utc>) -> String {
    // China time, whatever time zone the machine is set to.
    kiosk_core::time::in_china(at)
        .format("%-m月%-d日 %H:%M")
        .to_string()
}

/// The outbox for the staff device screen.
pub(super) fn outbox_line(
    stats: Option<&QueueStats>,
    error_zh: Option<&str>,
    now: DateTime<Utc>,
) -> DeviceLine {
    let line = |ok: bool, status: String| DeviceLine {
        name_zh: "本机登记记录".into(),
        ok,
        status_zh: status,
    };
    if let Some(error) = error_zh {
        return line(false, format!("本机数据库出错：{error}"));
    }
    let Some(stats) = stats else {
        return line(true, "正在读取…".into());
    };
    let waiting = waiting(stats);
    let rejected = stats.by_state.get("rejected").copied().unwrap_or(0);
    let mut ok = true;
    let mut parts = Vec::new();
    match stats.oldest_unsent_signed_at {
        Some(oldest) if waiting > 0 => {
            let mut part = format!("{waiting} 条等待上传（最早的 {} 签字）", local_time(oldest));
            if now - oldest > Duration::days(UPLOAD_AT_LEAST_EVERY_DAYS) {
                ok = false;
                part.push_str("，已超过一周没有上传，请联系县里");
            }
            parts.push(part);
        }
        _ if stats.total == 0 => parts.push("还没有登记记录".to_string()),
        _ => parts.push("全部已上传".to_string()),
    }
    if rejected > 0 {
        ok = false;
        parts.push(format!("{rejected} 条被县里退回，需要修改"));
    }
    parts.push(format!("共 {} 条", stats.total));
    line(ok, parts.join("；"))
}

/// What one "send now" did, in plain words.
pub(super) fn sync_message(before: &SyncReport, after: &SyncReport, finished: bool) -> String {
    let sent = after.uploaded.saturating_sub(before.uploaded);
    let refused = after
        .rejected_on_upload
        .saturating_sub(before.rejected_on_upload);
    let mut parts = vec![if finished {
        format!("已上传 {sent} 条")
    } else {
        format!("正在上传，已上传 {sent} 条，稍后可在记录列表查看")
    }];
    if refused > 0 {
        parts.push(format!("县平台退回 {refused} 条"));
    }
    if after.pending > 0 {
        parts.push(format!("还有 {} 条等待上传", after.pending));
        if let Some(failure) = &after.last_failure {
            parts.push(format!("原因：{}", failure.message_zh()));
        }
    } else {
        parts.push("没有等待上传的记录".into());
    }
    if after.awaiting_review > 0 {
        parts.push(format!("{} 条等待县里审核", after.awaiting_review));
    }
    parts.join("；")
}

/// The upload state for the staff device screen.
pub(super) fn platform_line(platform: &Platform) -> DeviceLine {
    let line = |ok: bool, status: String| DeviceLine {
        name_zh: "县平台上传".into(),
        ok,
        status_zh: status,
    };
    match platform {
        Platform::NotConfigured => line(false, "未配置县平台，记录只保存在本机".into()),
        Platform::Misconfigured { message_zh } => {
            line(false, format!("县平台连接配置有误：{message_zh}"))
        }
        Platform::Running { sync, .. } if !sync.is_running() => {
            line(false, "上传程序已停止，请重启设备".into())
        }
        Platform::Running { sync, .. } => {
            let report = sync.status();
            match (&report.last_failure, report.pending) {
                (Some(failure), pending) if pending > 0 => {
                    let next = report
                        .next_attempt
                        .map(|at| format!("，{} 再试", local_time(at)))
                        .unwrap_or_default();
                    line(
                        false,
                        format!("暂时无法上传：{}{next}", failure.message_zh()),
                    )
                }
                (_, 0) => line(true, "连接正常，没有等待上传的记录".into()),
                (_, pending) => line(true, format!("连接正常，正在上传 {pending} 条")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::worker::SyncFailure;
    use chrono::TimeZone;
    use expect_test::{expect, Expect};
    use std::collections::BTreeMap;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0).unwrap()
    }

    fn stats(states: &[(&str, u64)], oldest_days_ago: Option<i64>) -> QueueStats {
        let by_state: BTreeMap<String, u64> =
            states.iter().map(|(s, n)| (s.to_string(), *n)).collect();
        QueueStats {
            total: by_state.values().sum(),
            by_state,
            by_category: BTreeMap::new(),
            by_township: BTreeMap::new(),
            oldest_unsent_signed_at: oldest_days_ago.map(|d| t0() - Duration::days(d)),
            drafts: 0,
        }
    }

    fn check_outbox(stats: Option<QueueStats>, error: Option<&str>, expect: Expect) {
        let line = outbox_line(stats.as_ref(), error, t0());
        // The time of day depends on the machine's zone; the rest does not.
        let status: String = line
            .status_zh
            .split(' ')
            .map(|w| if w.contains(':') { "HH:MM" } else { w })
            .collect::<Vec<_>>()
            .join(" ");
        expect.assert_eq(&format!("{} {}: {status}", line.ok, line.name_zh));
    }

    #[test]
    fn the_outbox_line_counts_waiting_records_and_flags_the_weekly_rule() {
        check_outbox(None, None, expect!["true 本机登记记录: 正在读取…"]);
        check_outbox(
            Some(stats(&[], None)),
            None,
            expect!["true 本机登记记录: 还没有登记记录；共 0 条"],
        );
        check_outbox(
            Some(stats(&[("sent", 3), ("accepted", 2)], None)),
            None,
            expect!["true 本机登记记录: 全部已上传；共 5 条"],
        );
        check_outbox(
            Some(stats(&[("signed", 2), ("sent", 1)], Some(1))),
            None,
            expect!["true 本机登记记录: 2 条等待上传（最早的 3月9日 HH:MM 签字）；共 3 条"],
        );
        check_outbox(
            Some(stats(&[("signed", 1)], Some(8))),
            None,
            expect!["false 本机登记记录: 1 条等待上传（最早的 3月2日 HH:MM 签字），已超过一周没有上传，请联系县里；共 1 条"],
        );
        check_outbox(
            Some(stats(&[("accepted", 4), ("rejected", 1)], None)),
            None,
            expect!["false 本机登记记录: 全部已上传；1 条被县里退回，需要修改；共 5 条"],
        );
        check_outbox(
            Some(stats(&[("signed", 1)], Some(1))),
            Some("保存失败，请联系工作人员"),
            expect!["false 本机登记记录: 本机数据库出错：保存失败，请联系工作人员"],
        );
    }

    fn check_sync(before: SyncReport, after: SyncReport, finished: bool, expect: Expect) {
        expect.assert_eq(&sync_message(&before, &after, finished));
    }

    #[test]
    fn a_sync_report_reads_as_plain_words() {
        let report = |uploaded,
                      rejected_on_upload,
                      pending,
                      awaiting_review,
                      failure: Option<SyncFailure>| {
            SyncReport {
                uploaded,
                rejected_on_upload,
                pending,
                awaiting_review,
                last_failure: failure,
                ..SyncReport::default()
            }
        };
        check_sync(
            report(2, 0, 0, 0, None),
            report(5, 0, 0, 3, None),
            true,
            expect!["已上传 3 条；没有等待上传的记录；3 条等待县里审核"],
        );
        check_sync(
            report(0, 0, 2, 0, Some(SyncFailure::Timeout)),
            report(0, 0, 2, 0, Some(SyncFailure::ConnectionRefused)),
            true,
            expect!["已上传 0 条；还有 2 条等待上传；原因：连接不上县平台，请检查网络"],
        );
        check_sync(
            report(0, 0, 0, 0, None),
            report(1, 1, 0, 1, Some(SyncFailure::ServerError(503))),
            true,
            expect!["已上传 1 条；县平台退回 1 条；没有等待上传的记录；1 条等待县里审核"],
        );
        check_sync(
            report(0, 0, 3, 0, None),
            report(1, 0, 2, 1, Some(SyncFailure::Timeout)),
            false,
            expect!["正在上传，已上传 1 条，稍后可在记录列表查看；还有 2 条等待上传；原因：县平台没有及时应答；1 条等待县里审核"],
        );
    }
}
