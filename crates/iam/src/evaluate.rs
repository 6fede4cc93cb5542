//! Deciding a request against policies.
//!
//! IAM's logic: a request is denied by default; an explicit `Deny` in any
//! matching statement overrides everything; otherwise a matching `Allow`
//! allows it. A statement matches when its action, resource, principal (if
//! it names one) and every condition match.

use std::fmt;

use crate::context::RequestContext;
use crate::parse::{Effect, Policy, Statement};

/// The outcome of an evaluation, with the statement that decided it so the
/// caller can explain the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A matching `Deny` statement; this overrides any `Allow`.
    ExplicitDeny {
        /// Index of the policy in the slice given to [`evaluate`].
        policy_index: usize,
        /// Index of the statement within that policy.
        statement_index: usize,
        /// The statement's `Sid`, if it has one.
        sid: Option<String>,
    },
    /// A matching `Allow` statement and no matching `Deny`.
    Allow {
        /// Index of the policy in the slice given to [`evaluate`].
        policy_index: usize,
        /// Index of the statement within that policy.
        statement_index: usize,
        /// The statement's `Sid`, if it has one.
        sid: Option<String>,
    },
    /// No statement matched: denied by default.
    ImplicitDeny,
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    /// The `Sid` of the deciding statement, if any.
    pub fn sid(&self) -> Option<&str> {
        match self {
            Decision::ExplicitDeny { sid, .. } | Decision::Allow { sid, .. } => sid.as_deref(),
            Decision::ImplicitDeny => None,
        }
    }

    /// `(policy_index, statement_index)` of the deciding statement, if any.
    pub fn statement(&self) -> Option<(usize, usize)> {
        match self {
            Decision::ExplicitDeny { policy_index, statement_index, .. }
            | Decision::Allow { policy_index, statement_index, .. } => Some((*policy_index, *statement_index)),
            Decision::ImplicitDeny => None,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (verb, policy_index, statement_index, sid) = match self {
            Decision::ImplicitDeny => {
                return f.write_str("implicitly denied: no statement allows this request");
            }
            Decision::ExplicitDeny { policy_index, statement_index, sid } => {
                ("explicitly denied", policy_index, statement_index, sid)
            }
            Decision::Allow { policy_index, statement_index, sid } => ("allowed", policy_index, statement_index, sid),
        };
        write!(f, "{verb} by statement {statement_index}")?;
        if let Some(sid) = sid {
            write!(f, " (Sid \"{sid}\")")?;
        }
        write!(f, " of policy {policy_index}")
    }
}

impl Statement {
    /// Whether this statement applies to the request: action, resource,
    /// principal and all conditions match.
    pub fn applies_to(&self, ctx: &RequestContext) -> bool {
        self.action_matches(&ctx.action)
            && self.resource_matches(ctx)
            && self.principal_matches(ctx)
            && self.conditions.iter().all(|c| c.is_satisfied(&ctx.keys))
    }

    fn action_matches(&self, action: &str) -> bool {
        let listed = self.actions.iter().any(|a| a.pattern.matches_ignore_case(action));
        listed != self.not_action
    }

    fn resource_matches(&self, ctx: &RequestContext) -> bool {
        let Some((not_resource, patterns)) = &self.resources else {
            // No Resource element (trust policies): the policy's own
            // resource is implied.
            return true;
        };
        // A resource whose variables cannot be resolved matches nothing, so
        // under NotResource it excludes nothing.
        let listed =
            patterns.iter().any(|r| r.template.resolve(&ctx.keys, true).is_some_and(|p| p.matches(&ctx.resource)));
        listed != *not_resource
    }

    fn principal_matches(&self, ctx: &RequestContext) -> bool {
        match &self.principal {
            None => true,
            Some((not_principal, principal)) => principal.matches(ctx.principal.as_ref()) != *not_principal,
        }
    }
}

impl Policy {
    /// Evaluates this policy alone; see [`evaluate`].
    pub fn evaluate(&self, ctx: &RequestContext) -> Decision {
        evaluate(&[self], ctx)
    }
}

/// Evaluates `ctx` against all `policies` together.
///
/// The first matching `Deny` (in policy, then statement order) decides;
/// otherwise the first matching `Allow`; otherwise [`Decision::ImplicitDeny`].
pub fn evaluate(policies: &[&Policy], ctx: &RequestContext) -> Decision {
    decide(policies, ctx, |_| true)
}

/// Evaluates a role trust policy (or any resource-based policy) for the
/// caller in `ctx.principal`.
///
/// Only statements with a `Principal` or `NotPrincipal` element count: a
/// trust statement that names no principal trusts no one. `ctx.action` is
/// the assume-role action (`sts:AssumeRoleWithSAML`, ...), `ctx.resource`
/// the role ARN, and `ctx.keys` the federation keys (`saml:aud`, ...).
/// Indices in the result refer to `policy_index` 0.
pub fn evaluate_trust(trust_policy: &Policy, ctx: &RequestContext) -> Decision {
    decide(&[trust_policy], ctx, |s| s.principal.is_some())
}

fn decide(policies: &[&Policy], ctx: &RequestContext, eligible: impl Fn(&Statement) -> bool) -> Decision {
    let mut allow = None;
    for (policy_index, policy) in policies.iter().enumerate() {
        for (statement_index, statement) in policy.statements.iter().enumerate() {
            if !eligible(statement) || !statement.applies_to(ctx) {
                continue;
            }
            let sid = statement.sid.clone();
            match statement.effect {
                // An explicit deny cannot be overridden: stop at the first.
                Effect::Deny => {
                    return Decision::ExplicitDeny { policy_index, statement_index, sid };
                }
                Effect::Allow if allow.is_none() => {
                    allow = Some(Decision::Allow { policy_index, statement_index, sid });
                }
                Effect::Allow => {}
            }
        }
    }
    allow.unwrap_or(Decision::ImplicitDeny)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RequestPrincipal;

    fn policy(text: &str) -> Policy {
        Policy::parse(text).unwrap()
    }

    const CONNECT: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Statement1","Effect":"Allow","Action":"connect:GetFederationToken","Resource":["arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/user/${aws:userid}"]}]}"#;
    const CONNECT_USER: &str = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/user/AROAEXAMPLEID123:alice@example.com";

    #[test]
    fn connect_federation_token_for_own_user_only() {
        let p = policy(CONNECT);
        let ctx = RequestContext::new("connect:GetFederationToken", CONNECT_USER)
            .with_key("aws:userid", "AROAEXAMPLEID123:alice@example.com");
        assert_eq!(
            evaluate(&[&p], &ctx),
            Decision::Allow { policy_index: 0, statement_index: 0, sid: Some("Statement1".into()) }
        );
        let other = ctx.clone().with_key("aws:userid", "AROAEXAMPLEID123:bob@example.com");
        assert_eq!(evaluate(&[&p], &other), Decision::ImplicitDeny);
        let missing = RequestContext::new("connect:GetFederationToken", CONNECT_USER);
        assert_eq!(evaluate(&[&p], &missing), Decision::ImplicitDeny);
    }

    #[test]
    fn wildcard_in_userid_does_not_widen() {
        let p = policy(CONNECT);
        let ctx = RequestContext::new("connect:GetFederationToken", CONNECT_USER).with_key("aws:userid", "*");
        assert_eq!(evaluate(&[&p], &ctx), Decision::ImplicitDeny);
        let ctx = RequestContext::new("connect:GetFederationToken", CONNECT_USER)
            .with_key("aws:userid", "AROAEXAMPLEID123:?lice@example.com");
        assert_eq!(evaluate(&[&p], &ctx), Decision::ImplicitDeny);
    }

    const SAML_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"TrustHub","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/Hub"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}"#;

    #[test]
    fn saml_trust_requires_provider_and_audience() {
        let p = policy(SAML_TRUST);
        let base = RequestContext::new("sts:AssumeRoleWithSAML", "arn:aws:iam::123456789012:role/Agent");
        let good = base
            .clone()
            .with_principal(RequestPrincipal::federated("arn:aws:iam::123456789012:saml-provider/Hub"))
            .with_key("saml:aud", "https://signin.aws.amazon.com/saml");
        assert_eq!(evaluate_trust(&p, &good).sid(), Some("TrustHub"));
        assert!(evaluate_trust(&p, &good).is_allowed());

        let wrong_provider =
            good.clone().with_principal(RequestPrincipal::federated("arn:aws:iam::123456789012:saml-provider/Evil"));
        assert_eq!(evaluate_trust(&p, &wrong_provider), Decision::ImplicitDeny);

        let wrong_aud = good.clone().with_key("saml:aud", "https://example.com/saml");
        assert_eq!(evaluate_trust(&p, &wrong_aud), Decision::ImplicitDeny);

        let mut no_aud = good.clone();
        no_aud.keys.remove("SAML:aud");
        assert_eq!(evaluate_trust(&p, &no_aud), Decision::ImplicitDeny);

        let anonymous = base.with_key("saml:aud", "https://signin.aws.amazon.com/saml");
        assert_eq!(evaluate_trust(&p, &anonymous), Decision::ImplicitDeny);

        let other_action = RequestContext { action: "sts:AssumeRole".into(), ..good };
        assert_eq!(evaluate_trust(&p, &other_action), Decision::ImplicitDeny);
    }

    #[test]
    fn trust_ignores_statements_without_principal() {
        let p = policy(r#"{"Statement":{"Effect":"Allow","Action":"sts:*","Resource":"*"}}"#);
        let ctx = RequestContext::new("sts:AssumeRole", "arn:aws:iam::1:role/R");
        assert_eq!(evaluate_trust(&p, &ctx), Decision::ImplicitDeny);
        assert!(evaluate(&[&p], &ctx).is_allowed());
    }

    #[test]
    fn not_principal_applies_to_everyone_else() {
        let p = policy(
            r#"{"Statement":[
                {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},
                {"Sid":"OnlyAdmin","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:role/Admin"},"Action":"s3:*","Resource":"*"}]}"#,
        );
        let admin = RequestContext::new("s3:GetObject", "arn:aws:s3:::b/k")
            .with_principal(RequestPrincipal::aws("arn:aws:iam::123456789012:role/Admin"));
        assert!(p.evaluate(&admin).is_allowed());
        let other = admin.clone().with_principal(RequestPrincipal::aws("arn:aws:iam::123456789012:role/Dev"));
        assert_eq!(p.evaluate(&other).sid(), Some("OnlyAdmin"));
    }

    #[test]
    fn first_deny_wins_over_earlier_allow() {
        let allow = policy(r#"{"Statement":{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}}"#);
        let deny = policy(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}"#,
        );
        let ctx = RequestContext::new("s3:DeleteObject", "arn:aws:s3:::b/k");
        let d = evaluate(&[&allow, &deny], &ctx);
        assert_eq!(d, Decision::ExplicitDeny { policy_index: 1, statement_index: 1, sid: Some("NoDelete".into()) });
        assert_eq!(d.statement(), Some((1, 1)));
        assert_eq!(d.to_string(), "explicitly denied by statement 1 (Sid \"NoDelete\") of policy 1");
        let ctx = RequestContext::new("s3:GetObject", "arn:aws:s3:::b/k");
        let d = evaluate(&[&allow, &deny], &ctx);
        assert_eq!(d.to_string(), "allowed by statement 0 (Sid \"All\") of policy 0");
        assert_eq!(evaluate(&[], &ctx), Decision::ImplicitDeny);
        assert_eq!(Decision::ImplicitDeny.to_string(), "implicitly denied: no statement allows this request");
        assert_eq!(Decision::ImplicitDeny.statement(), None);
    }

    #[test]
    fn actions_ignore_case_resources_do_not() {
        let p = policy(r#"{"Statement":{"Effect":"Allow","Action":"S3:get*","Resource":"arn:aws:s3:::Bucket/*"}}"#);
        assert!(p.evaluate(&RequestContext::new("s3:GetObject", "arn:aws:s3:::Bucket/k")).is_allowed());
        assert!(!p.evaluate(&RequestContext::new("s3:GetObject", "arn:aws:s3:::bucket/k")).is_allowed());
        assert!(!p.evaluate(&RequestContext::new("s3:PutObject", "arn:aws:s3:::Bucket/k")).is_allowed());
    }

    #[test]
    fn not_resource_with_unresolved_variable_excludes_nothing() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Sid":"D","Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::home/${aws:username}/*"}}"#,
        );
        let ctx = RequestContext::new("s3:GetObject", "arn:aws:s3:::home/bob/k");
        assert_eq!(p.evaluate(&ctx).sid(), Some("D"));
        assert_eq!(p.evaluate(&ctx.with_key("aws:username", "bob")), Decision::ImplicitDeny);
    }
}
