//! Built-in readings of subsidy types and case statuses.
//!
//! A source's `values` mapping is the first authority; these readings catch
//! the common spellings a mapping forgot, so `城市低保` is `dibao` and `停保`
//! is `stopped` even without one. The canonical codes read as themselves.

/// The canonical subsidy type a text names: `dibao` (minimum living
/// subsidy), `tekun` (extreme-poverty support) or `linshi` (temporary relief).
pub fn read_subsidy_type(text: &str) -> Option<&'static str> {
    let t = text.trim();
    match t {
        "dibao" | "低保" | "城市低保" | "农村低保" | "城乡低保" | "最低生活保障" | "低保户" => {
            Some("dibao")
        }
        "tekun" | "特困" | "特困供养" | "特困人员" | "特困人员供养" | "五保" | "五保户" => {
            Some("tekun")
        }
        "linshi" | "临时救助" | "临时" | "临救" => Some("linshi"),
        _ => None,
    }
}

/// The canonical case status a text names: `active` or `stopped`.
pub fn read_subsidy_status(text: &str) -> Option<&'static str> {
    match text.trim() {
        "active" | "在保" | "正常" | "在册" | "保障中" | "享受中" => Some("active"),
        "stopped" | "停保" | "退保" | "终止" | "已停保" | "已退出" | "退出" | "注销" => {
            Some("stopped")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_common_spellings() {
        assert_eq!(read_subsidy_type("城市低保"), Some("dibao"));
        assert_eq!(read_subsidy_type(" 特困供养 "), Some("tekun"));
        assert_eq!(read_subsidy_type("linshi"), Some("linshi"));
        assert_eq!(read_subsidy_type("助学金"), None);
        assert_eq!(read_subsidy_status("在保"), Some("active"));
        assert_eq!(read_subsidy_status("停保"), Some("stopped"));
        assert_eq!(read_subsidy_status("暂停"), None);
    }
}
