//! SCIM 2.0 protocol logic (RFC 7643 schemas, RFC 7644 protocol) for crossfed's provisioning
//! endpoint: the static User/Group/Enterprise schemas and their discovery documents, filter
//! parsing and evaluation, PATCH as Microsoft Entra ID sends it, list queries, and attribute
//! projection. Everything works on the SCIM JSON representation of a resource; HTTP and
//! storage belong to the hub.

mod error;
mod filter;
mod list;
mod patch;
mod path;
mod schema;

pub use error::{ScimError, ScimType};
pub use filter::{CompareOp, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN, parse_filter};
pub use list::{ListQuery, list_response_json, parse_list_query, project, sort_resources};
pub use patch::{PatchOp, PatchOperation, PatchPath, apply_patch, parse_patch, parse_patch_path};
pub use path::AttrPath;
pub use schema::{
    AttrType, AttributeDef, ENTERPRISE_USER, GROUP, GROUP_CORE, ResourceType, SchemaDef, ServiceProviderFeatures, USER,
    USER_CORE, find_schema, resource_type_json, resource_types_list_json, schema_json, schemas_list_json,
    service_provider_config_json,
};

/// Core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Schema of `/Schemas` entries.
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// Schema of `/ResourceTypes` entries.
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// Schema of `/ServiceProviderConfig`.
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// Message schema of list responses.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Message schema of PATCH request bodies.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Message schema of error bodies.
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Message schema of `/.search` request bodies.
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// The SCIM media type (RFC 7644 §8.1).
pub const MEDIA_TYPE: &str = "application/scim+json";
