//! The daytime protocol's line, as the tutorial's servers send it.

use iolib::prelude::*;

/// The daytime line, as `(get-decoded-time)` formats it: `M/D/YYYY H:M:S`.
pub fn daytime() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match isys::localtime(now) {
        Ok(t) => format!(
            "{}/{}/{} {}:{}:{}",
            t.month, t.day, t.year, t.hour, t.minute, t.second
        ),
        Err(_) => "1/1/1970 0:0:0".into(),
    }
}
