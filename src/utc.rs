//! A Unix time written as UTC text: the Settings tab's and the prompts' times, backup
//! names, task timestamps.

/// `2026-11-21 11:29:41 UTC` from Unix milliseconds.
pub fn format_time(ms: u64) -> String {
    Utc::at(ms).written("-", " ", ":") + " UTC"
}

/// A Unix time in ms as UTC calendar fields, computed by chrono and written by
/// [`Utc::written`]. chrono's `format(pattern)` interprets a strftime pattern at run time,
/// and that engine (every specifier, its parser, RFC 2822 names) was about 38 KB of the wasm
/// for three fixed patterns (issue 12). Host tests pin each caller's text to chrono's strftime.
pub struct Utc {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    pub milli: u32,
}

impl Utc {
    /// Times chrono cannot represent read as the Unix epoch (as `unwrap_or_default` did).
    pub fn at(ms: u64) -> Utc {
        use chrono::{Datelike, Timelike};
        let t = chrono::DateTime::from_timestamp_millis(ms.min(i64::MAX as u64) as i64)
            .unwrap_or_default();
        Utc {
            year: t.year(),
            month: t.month(),
            day: t.day(),
            hour: t.hour(),
            minute: t.minute(),
            second: t.second(),
            milli: t.timestamp_subsec_millis(),
        }
    }

    /// Date and time to the second, two digits a field and the year as strftime's `%Y`
    /// writes it (four digits at least, `+` before a fifth): `2026-11-21 11:29:41` is
    /// `written("-", " ", ":")`.
    pub fn written(&self, date: &str, between: &str, time: &str) -> String {
        let sign = if self.year > 9999 { "+" } else { "" };
        format!(
            "{sign}{:04}{date}{:02}{date}{:02}{between}{:02}{time}{:02}{time}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}
