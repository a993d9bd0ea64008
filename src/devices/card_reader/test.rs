//! The in-memory test reader: answers polls from a script, then "no card".

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::NaiveDate;

use super::{CardEvent, CardReader, ReaderError, ReaderStatus, SamInfo};

#[derive(Debug)]
pub struct TestReaderState {
    pub script: VecDeque<Result<CardEvent, ReaderError>>,
    pub status: ReaderStatus,
    pub sam: Result<SamInfo, ReaderError>,
    pub polls: usize,
    /// The `today` of every poll.
    pub poll_dates: Vec<NaiveDate>,
}

/// Cloneable: keep one clone in the test, box the other as the device.
#[derive(Debug, Clone)]
pub struct TestReader {
    state: Arc<Mutex<TestReaderState>>,
}

impl Default for TestReader {
    fn default() -> Self {
        TestReader::new()
    }
}

impl TestReader {
    pub fn new() -> TestReader {
        TestReader {
            state: Arc::new(Mutex::new(TestReaderState {
                script: VecDeque::new(),
                status: ReaderStatus::Ready,
                sam: Ok(SamInfo {
                    sam_id: "TEST".into(),
                    status: "操作成功".into(),
                    healthy: true,
                }),
                polls: 0,
                poll_dates: Vec::new(),
            })),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, TestReaderState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queue what the next poll answers.
    pub fn push(&self, next: Result<CardEvent, ReaderError>) {
        self.state().script.push_back(next);
    }
}

impl CardReader for TestReader {
    fn poll(&mut self, today: NaiveDate) -> Result<CardEvent, ReaderError> {
        let mut state = self.state();
        state.polls += 1;
        state.poll_dates.push(today);
        state.script.pop_front().unwrap_or(Ok(CardEvent::NoCard))
    }

    fn status(&mut self) -> ReaderStatus {
        self.state().status
    }

    fn sam_info(&mut self) -> Result<SamInfo, ReaderError> {
        self.state().sam.clone()
    }

    fn describe(&self) -> String {
        "test reader".into()
    }

    fn describe_zh(&self) -> String {
        "测试读卡器".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_answers_then_no_card() {
        let reader = TestReader::new();
        reader.push(Err(ReaderError::CardPulled));
        reader.push(Ok(CardEvent::StillPresent));
        let mut device: Box<dyn CardReader> = Box::new(reader.clone());
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(device.poll(today), Err(ReaderError::CardPulled));
        assert_eq!(device.poll(today), Ok(CardEvent::StillPresent));
        assert_eq!(device.poll(today), Ok(CardEvent::NoCard));
        assert_eq!(reader.state().polls, 3);
    }
}
