//! crossfed's storage: small async traits (one per concept), implemented once over sqlx's Any
//! driver so the same SQL runs on SQLite (the default, one file, WAL) and PostgreSQL (several
//! hub instances). Migrations are kept per backend. Times are Unix seconds passed in by callers.
//! The hottest point reads of a SQLite file, and the audit writer's statements, skip sqlx's
//! connection thread (`direct_read`, `direct_write`).

mod applications;
mod assignments;
mod audit;
mod catalog;
mod columns;
mod config_users;
mod credentials;
mod database;
mod direct_read;
mod direct_write;
mod directory;
mod error;
mod id;
mod identities;
mod leases;
mod names;
mod objects;
mod open;
mod provisioning;
mod rekey;
mod replay;
mod search;
mod snapshot;
mod tokens;

pub use applications::{ApplicationStore, PutOutcome, StoredApplication};
pub use assignments::{Assignment, AssignmentStore, PrincipalKind};
pub use audit::{AuditEvent, AuditLog, AuditQuery, AuditWriter, Outcome};
pub use catalog::ManagedBy;
pub use config_users::ConfigUserStore;
pub use credentials::{CredentialStore, StoredCredentials, ThrottlePolicy};
pub use database::{Backend, Store};
pub use directory::{Email, Group, GroupStore, NewUser, Page, User, UserStore};
pub use error::StoreError;
pub use id::new_id;
pub use identities::{SharedValue, email_key};
pub use leases::{Lease, LeaseStore};
pub use names::PrincipalName;
pub use objects::{ObjectKey, ObjectStore, StoredObject};
pub use provisioning::{ProvisioningRecord, ProvisioningStore, SyncState};
pub use replay::ReplayStore;
pub use search::{Comparison, Compiled, Condition, GroupField, Param, UserField, Value, compile_user_condition};
pub use snapshot::{SnapshotError, SnapshotInfo, check_sqlite_snapshot, newest_sqlite_schema, snapshot_sqlite};
pub use tokens::{ApiToken, NewToken, Rotation, TokenStore};
