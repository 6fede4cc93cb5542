//! Subcommands over the admin API for what an administrator manages day to day: applications
//! from the catalog templates, assignments, users and groups, and the metadata documents to
//! hand to the other side of each trust.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin_cmd::{HubTarget, items, text};
use crate::process::say;

/// A path segment with everything but unreserved characters percent-encoded (user names carry
/// `@`, group names spaces).
fn segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[derive(Subcommand)]
pub enum AppsCommand {
    /// List applications with their template and assignments.
    List,
    /// Show one application as JSON (secrets left out).
    Show { id: String },
    /// Add an application from a catalog template, or from a JSON file shaped like the API's body.
    Add(Box<AddApp>),
    /// Remove an application made through the API or the CLI, with its assignments.
    Remove { id: String },
    /// What the application would receive for a user: NameID and attributes, nothing signed.
    Preview {
        id: String,
        #[arg(long)]
        user: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Template {
    /// The Amazon Connect console in another AWS account.
    AmazonConnect,
    /// Console access to an AWS account with one or several roles.
    AwsAccount,
    /// Any SAML 2.0 service provider.
    Custom,
}

#[derive(Args)]
pub struct AddApp {
    /// The catalog template.
    #[arg(long, value_enum, required_unless_present = "from_file")]
    template: Option<Template>,
    /// The application as JSON (the admin API's body), instead of the flags below.
    #[arg(long, conflicts_with = "template")]
    from_file: Option<PathBuf>,
    /// Short identifier used in URLs (letters, digits, - and _).
    #[arg(long, required_unless_present = "from_file")]
    id: Option<String>,
    /// The name people see in the portal.
    #[arg(long, required_unless_present = "from_file")]
    name: Option<String>,
    /// AWS account ID (12 digits) of the target account.
    #[arg(long)]
    account_id: Option<String>,
    /// AWS region of the Connect instance, such as eu-west-2.
    #[arg(long)]
    region: Option<String>,
    /// The Connect instance's ID (a UUID).
    #[arg(long)]
    instance_id: Option<String>,
    /// The IAM role users assume (amazon-connect).
    #[arg(long)]
    role_name: Option<String>,
    /// The IAM SAML provider that trusts this hub (amazon-connect).
    #[arg(long)]
    provider_name: Option<String>,
    /// ROLE_NAME,PROVIDER_NAME for aws-account; repeat for several roles.
    #[arg(long = "role")]
    roles: Vec<String>,
    /// AWS sign-in URL (default: AWS's own; the emulated account's /saml in the demo).
    #[arg(long)]
    signin_url: Option<String>,
    /// Console base URL for the Connect relay state.
    #[arg(long)]
    console_url: Option<String>,
    /// Connect page to land on, such as /agent-app-v2.
    #[arg(long)]
    destination: Option<String>,
    /// Session length in seconds (900 to 43200).
    #[arg(long)]
    session_duration: Option<i64>,
    /// Where the custom application's assertions are posted.
    #[arg(long)]
    acs_url: Option<String>,
    /// The custom application's SP entity ID.
    #[arg(long)]
    audience: Option<String>,
    /// The custom application's SP metadata file (gives ACS URL, audience and request certificates).
    #[arg(long)]
    metadata: Option<PathBuf>,
    /// NameID template, such as ${user:email}.
    #[arg(long)]
    name_id: Option<String>,
    /// NameID format URI.
    #[arg(long)]
    name_id_format: Option<String>,
    /// RelayState sent with portal launches (the application start URL).
    #[arg(long)]
    relay_state: Option<String>,
    /// NAME=TEMPLATE attribute mapping, such as department=${user:attr.department}; repeatable.
    #[arg(long = "attribute")]
    attributes: Vec<String>,
}

fn required(value: &Option<String>, flag: &str, template: &str) -> Result<String> {
    value.clone().with_context(|| format!("--template {template} needs {flag}"))
}

fn insert_some(fields: &mut serde_json::Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        fields.insert(key.to_string(), value);
    }
}

impl AddApp {
    /// The admin API's request body.
    fn body(&self) -> Result<Value> {
        if let Some(file) = &self.from_file {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            return serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()));
        }
        let (Some(template), Some(id), Some(name)) = (self.template, &self.id, &self.name) else {
            bail!("give --template, --id and --name, or --from-file");
        };
        let mut settings = serde_json::Map::new();
        let key = match template {
            Template::AmazonConnect => {
                let t = "amazon-connect";
                settings.insert("account_id".into(), json!(required(&self.account_id, "--account-id", t)?));
                settings.insert("region".into(), json!(required(&self.region, "--region", t)?));
                settings.insert("instance_id".into(), json!(required(&self.instance_id, "--instance-id", t)?));
                settings.insert("role_name".into(), json!(required(&self.role_name, "--role-name", t)?));
                settings.insert("provider_name".into(), json!(required(&self.provider_name, "--provider-name", t)?));
                insert_some(&mut settings, "console_url", self.console_url.as_ref().map(|v| json!(v)));
                insert_some(&mut settings, "destination", self.destination.as_ref().map(|v| json!(v)));
                "amazon_connect"
            }
            Template::AwsAccount => {
                let t = "aws-account";
                settings.insert("account_id".into(), json!(required(&self.account_id, "--account-id", t)?));
                if self.roles.is_empty() {
                    bail!("--template aws-account needs at least one --role ROLE_NAME,PROVIDER_NAME");
                }
                let mut roles = Vec::new();
                for role in &self.roles {
                    let Some((role_name, provider_name)) = role.split_once(',') else {
                        bail!("--role {role:?}: give ROLE_NAME,PROVIDER_NAME");
                    };
                    roles.push(json!({"role_name": role_name.trim(), "provider_name": provider_name.trim()}));
                }
                settings.insert("roles".into(), Value::Array(roles));
                insert_some(&mut settings, "relay_state", self.relay_state.as_ref().map(|v| json!(v)));
                "aws_account"
            }
            Template::Custom => {
                if let Some(file) = &self.metadata {
                    let xml = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
                    settings.insert("metadata_xml".into(), json!(xml));
                }
                insert_some(&mut settings, "acs_url", self.acs_url.as_ref().map(|v| json!(v)));
                insert_some(&mut settings, "audience", self.audience.as_ref().map(|v| json!(v)));
                insert_some(&mut settings, "name_id", self.name_id.as_ref().map(|v| json!(v)));
                insert_some(&mut settings, "name_id_format", self.name_id_format.as_ref().map(|v| json!(v)));
                insert_some(&mut settings, "relay_state", self.relay_state.as_ref().map(|v| json!(v)));
                let mut attributes = Vec::new();
                for attribute in &self.attributes {
                    let Some((name, value)) = attribute.split_once('=') else {
                        bail!("--attribute {attribute:?}: give NAME=TEMPLATE, such as email=${{user:email}}");
                    };
                    attributes.push(json!({"name": name, "value": value}));
                }
                settings.insert("attributes".into(), Value::Array(attributes));
                "custom"
            }
        };
        if !matches!(template, Template::Custom) {
            insert_some(&mut settings, "signin_url", self.signin_url.as_ref().map(|v| json!(v)));
            insert_some(&mut settings, "session_duration", self.session_duration.map(|v| json!(v)));
        }
        Ok(json!({"id": id, "name": name, key: Value::Object(settings)}))
    }
}

fn print_app_line(app: &Value) {
    let assigned: Vec<String> = app
        .get("assignments")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(|a| format!("{}:{}", text(a, "kind"), text(a, "name"))).collect())
        .unwrap_or_default();
    say(&format!(
        "{:<16} {:<16} {:<7} {:<28} {}",
        text(app, "id"),
        text(app, "template"),
        text(app, "managed_by"),
        text(app, "name"),
        if assigned.is_empty() { "(nobody assigned)".to_string() } else { assigned.join(", ") }
    ));
}

pub async fn apps(target: HubTarget, command: AppsCommand) -> Result<ExitCode> {
    match command {
        AppsCommand::List => {
            let listing = target.call(Method::GET, "/api/v1/applications", None).await?;
            target.print(&listing, |v| items(v).iter().for_each(print_app_line));
        }
        AppsCommand::Show { id } => {
            let app = target.call(Method::GET, &format!("/api/v1/applications/{}", segment(&id)), None).await?;
            say(&serde_json::to_string_pretty(&app)?);
        }
        AppsCommand::Add(add) => {
            let created = target.call(Method::POST, "/api/v1/applications", Some(add.body()?)).await?;
            target.print(&created, |v| {
                say(&format!("added application {} ({})", text(v, "id"), text(v, "template")));
                say(&format!("its IdP metadata, for the service provider: {}", text(v, "metadata_url")));
            });
        }
        AppsCommand::Remove { id } => {
            target.call(Method::DELETE, &format!("/api/v1/applications/{}", segment(&id)), None).await?;
            target.print(&json!({"removed": id}), |_| say(&format!("removed application {id}")));
        }
        AppsCommand::Preview { id, user } => {
            let path = format!("/api/v1/applications/{}/preview", segment(&id));
            let preview = target.call(Method::POST, &path, Some(json!({"user": user}))).await?;
            let refused = preview.get("error").is_some_and(|e| !e.is_null())
                || preview.get("assigned") != Some(&Value::Bool(true));
            target.print(&preview, |v| {
                say(&format!("to      {}  (audience {})", text(v, "acs_url"), text(v, "audience")));
                say(&format!("NameID  {}  ({})", text(v, "name_id"), text(v, "name_id_format")));
                if let Some(list) = v.get("attributes").and_then(Value::as_array) {
                    for a in list {
                        let values: Vec<&str> = a
                            .get("values")
                            .and_then(Value::as_array)
                            .map(|vs| vs.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        say(&format!("        {} = {}", text(a, "name"), values.join(" | ")));
                    }
                }
                if v.get("assigned") != Some(&Value::Bool(true)) {
                    say(&format!("✗ {} is not assigned to {id}: a launch would be refused", text(v, "user")));
                }
                if let Some(e) = v.get("error").and_then(Value::as_str) {
                    say(&format!("✗ {e}"));
                }
            });
            return Ok(if refused { ExitCode::FAILURE } else { ExitCode::SUCCESS });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Who an assignment names.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct Principal {
    /// A user name.
    #[arg(long)]
    user: Option<String>,
    /// A group name.
    #[arg(long)]
    group: Option<String>,
}

impl Principal {
    fn path(&self, app: &str) -> String {
        let (kind, name) = match (&self.user, &self.group) {
            (Some(user), _) => ("users", user),
            (None, Some(group)) => ("groups", group),
            // clap requires one of the two.
            (None, None) => ("users", &String::new()),
        };
        format!("/api/v1/applications/{}/assignments/{kind}/{}", segment(app), segment(name))
    }
}

pub async fn assign(target: HubTarget, app: String, principal: Principal, remove: bool) -> Result<ExitCode> {
    let method = if remove { Method::DELETE } else { Method::PUT };
    let updated = target.call(method, &principal.path(&app), None).await?;
    target.print(&updated, print_app_line);
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// List users with their groups.
    List,
    /// Show one user as JSON.
    Show { user: String },
    /// Add a user to the built-in directory.
    Add {
        user_name: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        given_name: Option<String>,
        #[arg(long)]
        family_name: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read a password from standard input (so it never shows in the process list).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password, read from standard input.
    SetPassword { user: String },
    /// Stop a user from signing in and launching (provisioning removes their downstream users).
    Disable { user: String },
    /// Let a disabled user sign in again.
    Enable { user: String },
    /// Delete a user, their memberships and their assignments.
    Remove { user: String },
}

fn read_password() -> Result<String> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).context("reading the password from standard input")?;
    let password = text.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

fn print_user_line(user: &Value) {
    let groups: Vec<&str> = user
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let active = if user.get("active") == Some(&Value::Bool(true)) { "active" } else { "disabled" };
    let email = user.pointer("/emails/0/value").and_then(Value::as_str).unwrap_or("-");
    say(&format!("{:<28} {:<32} {:<8} {}", text(user, "user_name"), email, active, groups.join(", ")));
}

pub async fn users(target: HubTarget, command: UsersCommand) -> Result<ExitCode> {
    let user_path = |user: &str| format!("/api/v1/users/{}", segment(user));
    let value = match command {
        UsersCommand::List => {
            let listing = target.call(Method::GET, "/api/v1/users?limit=1000", None).await?;
            target.print(&listing, |v| items(v).iter().for_each(print_user_line));
            return Ok(ExitCode::SUCCESS);
        }
        UsersCommand::Show { user } => {
            let shown = target.call(Method::GET, &user_path(&user), None).await?;
            say(&serde_json::to_string_pretty(&shown)?);
            return Ok(ExitCode::SUCCESS);
        }
        UsersCommand::Add { user_name, email, given_name, family_name, display_name, password_stdin } => {
            let password = if password_stdin { Some(read_password()?) } else { None };
            let body = json!({"user_name": user_name, "email": email, "given_name": given_name,
                "family_name": family_name, "display_name": display_name, "password": password});
            target.call(Method::POST, "/api/v1/users", Some(body)).await?
        }
        UsersCommand::SetPassword { user } => {
            let body = json!({"password": read_password()?});
            target.call(Method::PATCH, &user_path(&user), Some(body)).await?
        }
        UsersCommand::Disable { user } => {
            target.call(Method::PATCH, &user_path(&user), Some(json!({"active": false}))).await?
        }
        UsersCommand::Enable { user } => {
            target.call(Method::PATCH, &user_path(&user), Some(json!({"active": true}))).await?
        }
        UsersCommand::Remove { user } => {
            target.call(Method::DELETE, &user_path(&user), None).await?;
            target.print(&json!({"removed": user}), |_| say(&format!("removed user {user}")));
            return Ok(ExitCode::SUCCESS);
        }
    };
    target.print(&value, print_user_line);
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum GroupsCommand {
    /// List groups with their members.
    List,
    /// Add a group, optionally with members.
    Add {
        name: String,
        /// A member's user name; repeatable.
        #[arg(long = "member")]
        members: Vec<String>,
    },
    /// Delete a group (its members stay; its assignments go).
    Remove { name: String },
    /// Add a user to a group.
    AddMember { group: String, user: String },
    /// Remove a user from a group.
    RemoveMember { group: String, user: String },
}

fn print_group_line(group: &Value) {
    let members: Vec<&str> = group
        .get("members")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    say(&format!("{:<28} {}", text(group, "display_name"), members.join(", ")));
}

pub async fn groups(target: HubTarget, command: GroupsCommand) -> Result<ExitCode> {
    let member_path = |group: &str, user: &str| format!("/api/v1/groups/{}/members/{}", segment(group), segment(user));
    let value = match command {
        GroupsCommand::List => {
            let listing = target.call(Method::GET, "/api/v1/groups?limit=1000", None).await?;
            target.print(&listing, |v| items(v).iter().for_each(print_group_line));
            return Ok(ExitCode::SUCCESS);
        }
        GroupsCommand::Add { name, members } => {
            target.call(Method::POST, "/api/v1/groups", Some(json!({"display_name": name, "members": members}))).await?
        }
        GroupsCommand::Remove { name } => {
            target.call(Method::DELETE, &format!("/api/v1/groups/{}", segment(&name)), None).await?;
            target.print(&json!({"removed": name}), |_| say(&format!("removed group {name}")));
            return Ok(ExitCode::SUCCESS);
        }
        GroupsCommand::AddMember { group, user } => target.call(Method::PUT, &member_path(&group, &user), None).await?,
        GroupsCommand::RemoveMember { group, user } => {
            target.call(Method::DELETE, &member_path(&group, &user), None).await?
        }
    };
    target.print(&value, print_group_line);
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum MetadataCommand {
    /// The hub's SP metadata, to register the hub at the corporate IdP.
    Sp {
        /// Write it to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The hub's IdP metadata toward one application (for an IAM SAML provider, say).
    App {
        id: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// What an error page says (its `id="message"` paragraph), or the body as it is.
fn page_message(body: &str) -> String {
    let said = body.split_once("id=\"message\">").and_then(|(_, rest)| rest.split_once("</p>")).map(|(m, _)| m);
    said.map_or_else(|| body.trim().to_string(), crossfed_saml::html_unescape)
}

/// Metadata is public: fetched without a token.
pub async fn metadata(target: HubTarget, command: MetadataCommand) -> Result<ExitCode> {
    let hub = &target.hub;
    let (path, out) = match command {
        MetadataCommand::Sp { out } => ("/saml/sp/metadata".to_string(), out),
        MetadataCommand::App { id, out } => (format!("/saml/apps/{}/metadata", segment(&id)), out),
    };
    let url = format!("{}{path}", hub.trim_end_matches('/'));
    let response = reqwest::get(&url).await.with_context(|| format!("reaching the hub at {url}"))?;
    let status = response.status();
    let body = response.text().await.context("reading the hub's answer")?;
    if !status.is_success() {
        bail!("the hub answered {status} for {url}: {}", page_message(&body));
    }
    match out {
        Some(file) => {
            std::fs::write(&file, &body).with_context(|| format!("writing {}", file.display()))?;
            say(&format!("wrote {} ({} bytes)", file.display(), body.len()));
        }
        None => say(body.trim_end()),
    }
    Ok(ExitCode::SUCCESS)
}
