//! When to re-create a failed subflow: backoff by the socket error and by
//! the MP_TCPRST reason the peer gave (RFC 8684 §3.6).

use super::config::Policy;
use super::types::ResetReason;
use std::time::Duration;

pub const ECONNRESET: u8 = 104;
pub const ETIMEDOUT: u8 = 110;
pub const ECONNREFUSED: u8 = 111;

/// The verdict on a failed subflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Try again after this delay.
    After(Duration, String),
    /// Do not try again.
    GiveUp(String),
}

/// Decides the retry of a subflow that failed for the `failures`-th time
/// (1 for the first failure) with socket error `error` and reset `reset`.
pub fn retry(policy: &Policy, failures: u32, error: Option<u8>, reset: Option<ResetReason>) -> Retry {
    if !policy.recreate {
        return Retry::GiveUp("policy does not re-create subflows".into());
    }
    if failures > policy.max_retries {
        return Retry::GiveUp(format!("failed {failures} times"));
    }
    let mut mult = 1u64;
    let mut why = match error {
        Some(ECONNREFUSED) => "connection refused".to_owned(),
        Some(ETIMEDOUT) => "timed out".to_owned(),
        Some(ECONNRESET) => "reset".to_owned(),
        Some(e) => format!("error {e}"),
        None => "closed".to_owned(),
    };
    if let Some(r) = reset {
        why = format!("{why}, MP_TCPRST {}{}", reason_name(r.code), if r.transient { " (transient)" } else { "" });
        match r.code {
            3 if !r.transient => return Retry::GiveUp(format!("{why}: the peer prohibits this subflow")),
            6 => return Retry::GiveUp(format!("{why}: a middlebox interferes with MPTCP on this path")),
            1 if failures >= 2 => return Retry::GiveUp(format!("{why}: the peer keeps refusing it")),
            2 | 4 => mult = 5,
            5 => mult = 10,
            _ => {}
        }
        if r.transient {
            mult = 1;
        }
    } else if error == Some(ECONNREFUSED) && failures >= 2 {
        return Retry::GiveUp(format!("{why}: nothing accepts joins there"));
    }
    let shift = (failures.saturating_sub(1)).min(16);
    let ms = policy.retry_base_ms.saturating_mul(mult).saturating_mul(1 << shift).min(policy.retry_max_ms);
    Retry::After(Duration::from_millis(ms), why)
}

/// The MP_TCPRST reason's name (RFC 8684 §3.6).
pub fn reason_name(code: u32) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "MPTCP-specific error",
        2 => "lack of resources",
        3 => "administratively prohibited",
        4 => "too much outstanding data",
        5 => "unacceptable performance",
        6 => "middlebox interference",
        _ => "unknown reason",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Policy {
        Policy::default()
    }

    #[test]
    fn timeouts_back_off_exponentially_up_to_the_cap() {
        let d: Vec<_> = (1..=8)
            .map(|n| match retry(&p(), n, Some(ETIMEDOUT), None) {
                Retry::After(d, _) => d.as_millis(),
                Retry::GiveUp(w) => panic!("gave up: {w}"),
            })
            .collect();
        assert_eq!(d, vec![1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
        assert!(matches!(retry(&p(), 9, Some(ETIMEDOUT), None), Retry::GiveUp(_)));
    }

    #[test]
    fn prohibited_and_middlebox_resets_are_not_retried() {
        let prohibit = ResetReason { code: 3, transient: false };
        assert!(matches!(retry(&p(), 1, Some(ECONNRESET), Some(prohibit)), Retry::GiveUp(_)));
        let mbox = ResetReason { code: 6, transient: false };
        assert!(matches!(retry(&p(), 1, Some(ECONNRESET), Some(mbox)), Retry::GiveUp(_)));
        // Transient prohibition: retried, at the base delay.
        let t = ResetReason { code: 3, transient: true };
        assert_eq!(retry(&p(), 1, None, Some(t)), Retry::After(Duration::from_secs(1), retry_why(t)));
    }

    fn retry_why(r: ResetReason) -> String {
        match retry(&p(), 1, None, Some(r)) {
            Retry::After(_, w) | Retry::GiveUp(w) => w,
        }
    }

    #[test]
    fn resource_and_performance_resets_wait_longer() {
        let res = ResetReason { code: 2, transient: false };
        assert!(matches!(retry(&p(), 1, None, Some(res)), Retry::After(d, _) if d == Duration::from_secs(5)));
        let perf = ResetReason { code: 5, transient: false };
        assert!(matches!(retry(&p(), 1, None, Some(perf)), Retry::After(d, _) if d == Duration::from_secs(10)));
    }

    #[test]
    fn refused_twice_is_given_up_and_recreate_off_never_retries() {
        assert!(matches!(retry(&p(), 1, Some(ECONNREFUSED), None), Retry::After(..)));
        assert!(matches!(retry(&p(), 2, Some(ECONNREFUSED), None), Retry::GiveUp(_)));
        let off = Policy { recreate: false, ..p() };
        assert!(matches!(retry(&off, 1, Some(ETIMEDOUT), None), Retry::GiveUp(_)));
    }
}
