//! Which configured target account serves an application: the entry whose account is the one the
//! application names, that account taken from the configuration or learned from the keys (STS
//! GetCallerIdentity, asked at most once per entry and region).

use crossfed_clock::Clock;
use thiserror::Error;

use super::model::TargetAccess;

/// No configured target account has keys for an application's account.
#[derive(Debug, Clone, Error)]
#[error("no configured target account reaches account {account_id}{}", said(.tried))]
pub struct NoTarget {
    /// The account the application names.
    pub account_id: String,
    /// Each configured entry, with the account its keys reach or why that is unknown.
    pub tried: Vec<String>,
}

fn said(entries: &[String]) -> String {
    if entries.is_empty() { " (none is configured)".to_string() } else { format!(" ({})", entries.join("; ")) }
}

/// The configured target accounts, each identified lazily: an entry's account is asked of STS
/// only when needed, once per region (STS calls are signed for the application's region).
#[derive(Debug)]
pub struct TargetAccounts<'a> {
    targets: &'a [TargetAccess],
    clock: Clock,
    /// (entry, region) → the account its keys belong to, or why STS did not say.
    learned: Vec<(usize, String, Result<String, String>)>,
}

impl<'a> TargetAccounts<'a> {
    /// `targets` as configured; STS calls are signed at `clock`'s time.
    pub fn new(targets: &'a [TargetAccess], clock: &Clock) -> Self {
        TargetAccounts { targets, clock: clock.clone(), learned: Vec::new() }
    }

    /// The configured entries.
    pub fn targets(&self) -> &'a [TargetAccess] {
        self.targets
    }

    /// The account the keys of entry `index` belong to, as STS GetCallerIdentity in `region`
    /// answers; the answer (or the error, said) is kept for later calls.
    pub async fn caller_account(&mut self, index: usize, region: &str) -> Result<String, String> {
        if let Some((_, _, known)) = self.learned.iter().find(|(i, r, _)| *i == index && r == region) {
            return known.clone();
        }
        let answer = match self.targets.get(index) {
            Some(access) => match access.sts(region, &self.clock) {
                Ok(sts) => sts.caller_account().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            None => Err(format!("there is no target account entry {index}")),
        };
        self.learned.push((index, region.to_string(), answer.clone()));
        answer
    }

    /// The entry (and its index) whose account is `account_id`: one configured with that
    /// `account_id`, else one whose keys STS says belong to it (asked in `region`).
    pub async fn for_account(&mut self, account_id: &str, region: &str) -> Result<(usize, &'a TargetAccess), NoTarget> {
        let targets = self.targets;
        if let Some(found) = targets.iter().enumerate().find(|(_, t)| t.account_id.as_deref() == Some(account_id)) {
            return Ok(found);
        }
        let mut tried = Vec::new();
        for (index, access) in targets.iter().enumerate() {
            if let Some(configured) = &access.account_id {
                tried.push(format!("{} are for account {configured}", access.keys_label()));
                continue;
            }
            match self.caller_account(index, region).await {
                Ok(account) if account == account_id => return Ok((index, access)),
                Ok(account) => tried.push(format!("{} reach account {account}", access.keys_label())),
                Err(e) => tried.push(format!("{}: {e}", access.keys_label())),
            }
        }
        Err(NoTarget { account_id: account_id.to_string(), tried })
    }
}

/// The configured target account holding keys for `account_id`, asking STS (in `region`, at
/// `clock`'s time) for the accounts of entries that do not name theirs.
pub async fn target_for_account(
    targets: &[TargetAccess],
    account_id: &str,
    region: &str,
    clock: &Clock,
) -> Result<TargetAccess, NoTarget> {
    let mut accounts = TargetAccounts::new(targets, clock);
    accounts.for_account(account_id, region).await.map(|(_, access)| access.clone())
}
