//! Errors of the photo pipeline that are not findings about a photo (those
//! are [`super::Issue`]s): a missing model, an unreadable file, an encoder
//! failure.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum PhotoError {
    #[error("face model not found at {path}; run scripts/fetch-models.sh or pass --model / VETERAN_KIOSK_MODEL")]
    ModelMissing { path: String },
    #[error("face model cannot be used: {0}")]
    ModelInvalid(String),
    #[error("face detection failed: {0}")]
    Inference(String),
    #[error("image cannot be read: {0}")]
    Unreadable(String),
    #[error("JPEG encoding failed: {0}")]
    Encode(String),
    #[error("cannot fit under {cap} bytes: smallest encoding is {smallest} bytes")]
    CannotFit { cap: usize, smallest: usize },
}

impl PhotoError {
    pub fn code(&self) -> &'static str {
        match self {
            PhotoError::ModelMissing { .. } => "model_missing",
            PhotoError::ModelInvalid(_) => "model_invalid",
            PhotoError::Inference(_) => "inference_failed",
            PhotoError::Unreadable(_) => "unreadable_image",
            PhotoError::Encode(_) => "encode_failed",
            PhotoError::CannotFit { .. } => "too_large_file",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            PhotoError::ModelMissing { .. }
            | PhotoError::ModelInvalid(_)
            | PhotoError::Inference(_) => "人脸识别组件没有准备好，请联系工作人员。",
            PhotoError::Unreadable(_) => "照片文件打不开，请重新拍摄。",
            PhotoError::Encode(_) => "照片保存失败，请重新拍摄。",
            PhotoError::CannotFit { .. } => "照片文件太大，无法压缩到规定大小，请重新拍摄。",
        }
    }
}
