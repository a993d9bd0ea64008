//! Everything that can be wrong with a portrait, each with a stable code,
//! a message for a report and a short instruction for the live coach.

use serde::Serialize;

use kiosk_core::Problem;

/// Which way the person should move, from their own point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Left,
    Right,
    Up,
    Down,
}

/// One finding about a photo or camera frame. Declared in the order the
/// coach deals with them: the first one present is the one it asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Issue {
    NotJpeg,
    WrongSize,
    TooLargeFile,
    Greyscale,
    TooDark,
    TooBright,
    NoFace,
    MultipleFaces,
    /// A finished portrait whose head is under 2/3 of the height.
    FaceTooSmall,
    /// Too far away: the head has too few pixels for the standard crop
    /// without enlarging it.
    TooFewPixels,
    /// Too close: the head (or the standard crop around it) overflows.
    FaceTooLarge,
    /// Not horizontally centred; the person should move this way.
    OffCentreMove(Direction),
    /// The head is too high or low in the frame for the standard crop.
    BadHeightMove(Direction),
    Tilted,
    Blurred,
}

impl Issue {
    pub fn code(&self) -> &'static str {
        match self {
            Issue::NotJpeg => "not_jpeg",
            Issue::WrongSize => "wrong_size",
            Issue::TooLargeFile => "too_large_file",
            Issue::Greyscale => "greyscale",
            Issue::TooDark => "too_dark",
            Issue::TooBright => "too_bright",
            Issue::NoFace => "no_face",
            Issue::MultipleFaces => "multiple_faces",
            Issue::FaceTooSmall | Issue::TooFewPixels => "face_too_small",
            Issue::FaceTooLarge => "face_too_large",
            Issue::OffCentreMove(_) => "off_centre",
            Issue::BadHeightMove(_) => "off_centre_vertically",
            Issue::Tilted => "tilted",
            Issue::Blurred => "blurred",
        }
    }

    /// A sentence for a report on a photo (what is wrong with it).
    pub fn message_zh(&self) -> &'static str {
        match self {
            Issue::NotJpeg => "照片必须是JPG格式。",
            Issue::WrongSize => "照片尺寸必须是358×441像素。",
            Issue::TooLargeFile => "照片文件超过了规定大小。",
            Issue::Greyscale => "照片必须是彩色的。",
            Issue::TooDark => "照片太暗，看不清脸。",
            Issue::TooBright => "照片太亮，脸部发白。",
            Issue::NoFace => "照片里没有找到人脸。",
            Issue::MultipleFaces => "照片里只能有一个人。",
            Issue::FaceTooSmall => "头部太小：头部要占照片高度的三分之二以上。",
            Issue::TooFewPixels => "人离镜头太远，头部不够清晰，放大会模糊。请靠近一点重新拍摄。",
            Issue::FaceTooLarge => "头部太大或离镜头太近，头顶或下巴超出了照片。",
            Issue::OffCentreMove(_) => "人像没有左右居中。",
            Issue::BadHeightMove(_) => "人像在照片里的位置太高或太低。",
            Issue::Tilted => "头部歪了，请摆正。",
            Issue::Blurred => "照片不清晰。",
        }
    }

    /// What the coach says to the person in front of the camera.
    pub fn instruction_zh(&self) -> &'static str {
        match self {
            Issue::NotJpeg | Issue::WrongSize | Issue::TooLargeFile | Issue::Greyscale => {
                "摄像头有问题，请找工作人员"
            }
            Issue::TooDark => "光线太暗",
            Issue::TooBright => "光线太亮",
            Issue::NoFace => "请正对摄像头",
            Issue::MultipleFaces => "镜头前只能有一个人",
            Issue::FaceTooSmall | Issue::TooFewPixels => "靠近一点",
            Issue::FaceTooLarge => "往后一点",
            Issue::OffCentreMove(Direction::Left) | Issue::BadHeightMove(Direction::Left) => {
                "往左一点"
            }
            Issue::OffCentreMove(Direction::Right) | Issue::BadHeightMove(Direction::Right) => {
                "往右一点"
            }
            Issue::OffCentreMove(Direction::Up) | Issue::BadHeightMove(Direction::Up) => {
                "请坐直，往上一点"
            }
            Issue::OffCentreMove(Direction::Down) | Issue::BadHeightMove(Direction::Down) => {
                "往下一点"
            }
            Issue::Tilted => "请把头摆正",
            Issue::Blurred => "请保持不动",
        }
    }

    pub fn to_problem(&self) -> Problem {
        Problem::new(self.code(), self.message_zh())
    }
}

/// What the coach says while every check passes and it waits to shoot.
pub const HOLD_STILL_ZH: &str = "请保持不动";
