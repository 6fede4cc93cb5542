//! A launch must not give one person another's identity at the application. The values an
//! application's mappings yield for its NameID and, when it has one (AWS and Amazon Connect), its
//! RoleSessionName are who the person is there; a launch is refused when another user of the
//! directory yields the same value, compared by the directory's key (case-insensitive,
//! Unicode-normalized: [`PrincipalName::key_of`]), as an application may compare it. Disabled
//! users count: enabling one must not make two people one.
//!
//! Where the store guarantees the answer, the check costs one indexed read or none. A template
//! that is one `${user:subject}` (the user's ID), `${user:userName}` or `${user:email}`, with
//! constant text around it or not, yields different values for users whose field differs, and
//! the store gives each value of that field to one user: the ID is the primary key, the name's
//! key and every e-mail address's key have unique indexes. The user the store gives the value to
//! passes. Anyone else yielding it (users who shared an address before the e-mail index existed)
//! and every other template are checked by a scan of the directory, each user's value computed
//! and compared (docs/hub.md gives its measured cost). `${user:externalId}` is scanned too: the
//! store keeps externalIds unique as given (SCIM's caseExact), not by key.

use std::collections::{BTreeMap, BTreeSet};

use crossfed_store::{GroupStore, Page, PrincipalName, Store, StoreError, User, UserStore};
use thiserror::Error;

use crate::apps::mapping::{Part, Template, UserValues, Variable};
use crate::apps::model::{Application, ROLE_SESSION_NAME_ATTRIBUTE};

/// Another user yields the value that identifies this one at the application.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "{application} would receive {value:?} as your {what}, but another user of the hub yields the same {what}: signing you in would let the application take one person for the other. An administrator must make the value unique in the directory or change the application's mapping."
)]
pub struct SharedIdentity {
    /// The application's name.
    pub application: String,
    /// `NameID` or `RoleSessionName`.
    pub what: &'static str,
    pub value: String,
    /// The other user, by name: for the audit log, not for the person refused.
    pub other: String,
}

impl SharedIdentity {
    /// The audit record's detail: the value, the other user and what to fix.
    pub fn audit_detail(&self) -> String {
        format!(
            "{} {:?} is also yielded for user {:?}; make it unique in the directory or change the mapping",
            self.what, self.value, self.other
        )
    }
}

#[derive(Debug, Error)]
pub enum CheckError {
    #[error(transparent)]
    Shared(#[from] SharedIdentity),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How much the store guarantees about the values a template yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guarantee {
    /// Different for every user (the ID).
    Always,
    /// One user's, if the user-name index gives the name to this user.
    ByName,
    /// One user's, if the e-mail index gives the address to this user.
    ByEmail,
    /// Nothing: the directory is scanned.
    None,
}

fn guarantee(template: &Template) -> Guarantee {
    let mut variables = template.parts().iter().filter_map(|part| match part {
        Part::Variable(v) => Some(v),
        Part::Literal(_) => None,
    });
    match (variables.next(), variables.next()) {
        (Some(Variable::Subject), None) => Guarantee::Always,
        (Some(Variable::UserName), None) => Guarantee::ByName,
        (Some(Variable::Email), None) => Guarantee::ByEmail,
        _ => Guarantee::None,
    }
}

/// The mappings whose values identify the person at `app`: the NameID's, and the
/// RoleSessionName's when it has one made otherwise.
fn identifying(app: &Application) -> Vec<(&'static str, &Template)> {
    let mut found = vec![("NameID", &app.name_id)];
    for mapping in app.attributes.iter().filter(|m| m.name == ROLE_SESSION_NAME_ATTRIBUTE) {
        if mapping.template != app.name_id {
            found.push(("RoleSessionName", &mapping.template));
        }
    }
    found
}

/// Refuses `user`'s launch of `app` (`values` are what its mappings read of `user`) when a
/// value identifying the person there is yielded for another user too. A value the user lacks is
/// left to the building of the Response, which says which.
pub async fn check_identity(
    store: &Store,
    app: &Application,
    user: &User,
    values: &UserValues,
) -> Result<(), CheckError> {
    for (what, template) in identifying(app) {
        let Ok(ours) = template.evaluate(values, what) else { continue };
        let Some(first) = ours.first() else { continue };
        if held_by_user(store, template, user).await? {
            continue;
        }
        let keys: BTreeSet<String> = ours.iter().map(|v| PrincipalName::key_of(v)).collect();
        if let Some(other) = scan(store, template, what, user, &keys).await? {
            let (application, value) = (app.name.clone(), first.clone());
            return Err(SharedIdentity { application, what, value, other }.into());
        }
    }
    Ok(())
}

/// Whether the store's indexes give the value of `template` to `user` alone.
async fn held_by_user(store: &Store, template: &Template, user: &User) -> Result<bool, StoreError> {
    let holder = match guarantee(template) {
        Guarantee::Always => return Ok(true),
        Guarantee::None => return Ok(false),
        Guarantee::ByName => store.find_user_by_name(&user.user_name).await?,
        Guarantee::ByEmail => match user.email() {
            Some(email) => store.find_user_by_email(email).await?,
            None => return Ok(true),
        },
    };
    Ok(holder.is_some_and(|holder| holder.id == user.id))
}

/// Users read per query of a scan.
const SCAN_PAGE: i64 = 1000;

/// The first user other than `user` one of whose values of `template` has a key of `keys`.
async fn scan(
    store: &Store,
    template: &Template,
    what: &str,
    user: &User,
    keys: &BTreeSet<String>,
) -> Result<Option<String>, StoreError> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if template.uses_groups() {
        for (user_id, group) in store.group_names_by_user().await? {
            groups.entry(user_id).or_default().push(group);
        }
    }
    let mut offset = 0;
    loop {
        let (page, total) = store.list_users(Page { offset, limit: SCAN_PAGE }).await?;
        for other in page.iter().filter(|other| other.id != user.id) {
            let values = UserValues::of(other, groups.remove(&other.id).unwrap_or_default());
            let Ok(theirs) = template.evaluate(&values, what) else { continue };
            if theirs.iter().any(|value| keys.contains(&PrincipalName::key_of(value))) {
                return Ok(Some(other.user_name.clone()));
            }
        }
        offset += page.len() as i64;
        if page.is_empty() || offset >= total {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parse(text: &str) -> Template {
        Template::parse(text).unwrap()
    }

    #[test]
    fn one_store_unique_field_with_constant_text_is_guaranteed_and_nothing_else_is() {
        assert_eq!(guarantee(&parse("${user:subject}")), Guarantee::Always);
        assert_eq!(guarantee(&parse("arn:aws:sts::1:${user:userName}/x")), Guarantee::ByName);
        assert_eq!(guarantee(&parse("${user:email}")), Guarantee::ByEmail);
        for scanned in [
            "${user:givenName}",
            "${user:externalId}",
            "${user:attr.employeeNumber}",
            "${user:groups}",
            "${user:userName}${user:email}",
            "everyone",
        ] {
            assert_eq!(guarantee(&parse(scanned)), Guarantee::None, "{scanned}");
        }
    }
}
