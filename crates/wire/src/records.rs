//! Records: upload (`PUT /v1/records/{id}`), review (`POST /v1/reviews`)
//! and look-up (`POST /v1/people/lookup`).

use kiosk_core::record::Record;
use kiosk_core::Problem;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The answer to an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum UploadAnswer {
    /// 201: stored for review.
    Stored { record_id: Uuid },
    /// 200: an earlier upload of the same bytes got through.
    AlreadyStored { record_id: Uuid },
    /// 422: refused, with reasons; sending it again will not help.
    Rejected {
        record_id: Uuid,
        reasons: Vec<Problem>,
    },
}

/// The review outcome of one sent record, as the platform reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ReviewState {
    /// Received, not reviewed yet.
    Received,
    Accepted,
    Rejected {
        reasons: Vec<Problem>,
    },
    /// A later correction replaced it.
    Superseded,
    /// The platform does not know it (should not happen once sent).
    Unknown,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ReviewQuery {
    pub record_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub record_id: Uuid,
    #[serde(flatten)]
    pub review: ReviewState,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ReviewAnswer {
    pub reviews: Vec<ReviewItem>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LookUpQuery {
    pub id_number: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LookUpAnswer {
    pub found: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Record>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_carries_problems_in_the_reason_shape() {
        let answer = UploadAnswer::Rejected {
            record_id: Uuid::nil(),
            reasons: vec![
                Problem::new("missing", "请填写姓名").at("identity.name"),
                Problem::new("photo_unclear", "照片不清晰"),
            ],
        };
        let json = serde_json::to_string(&answer).unwrap();
        expect_test::expect![[r#"{"status":"rejected","record_id":"00000000-0000-0000-0000-000000000000","reasons":[{"code":"missing","field":"identity.name","message":"请填写姓名"},{"code":"photo_unclear","message":"照片不清晰"}]}"#]]
        .assert_eq(&json);
        assert_eq!(serde_json::from_str::<UploadAnswer>(&json).unwrap(), answer);
    }

    #[test]
    fn a_review_item_is_flat() {
        let item = ReviewItem {
            record_id: Uuid::nil(),
            review: ReviewState::Accepted,
        };
        let json = serde_json::to_string(&item).unwrap();
        expect_test::expect![[
            r#"{"record_id":"00000000-0000-0000-0000-000000000000","state":"accepted"}"#
        ]]
        .assert_eq(&json);
    }
}
