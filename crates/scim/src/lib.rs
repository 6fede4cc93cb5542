//! SCIM 2.0 protocol logic (RFC 7643 schemas, RFC 7644 protocol) for crossfed's provisioning
//! endpoint: the static User/Group/Enterprise schemas and their discovery documents, filter
//! parsing and evaluation, PATCH as Microsoft Entra ID sends it, list queries, and attribute
//! projection. Everything works on the SCIM JSON representation of a resource; HTTP and
//! storage belong to the hub.

mod check;
mod error;
mod filter;
mod list;
mod patch;
mod path;
mod schema;
mod urns;

pub use check::FilterTypeError;
pub use error::{ScimError, ScimType};
pub use filter::{CompareOp, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN, MAX_FILTER_TERMS, parse_filter};
pub use list::{ListQuery, list_response_json, parse_list_query, project, sort_resources};
pub use patch::{PatchOp, PatchOperation, PatchPath, apply_patch, parse_patch, parse_patch_path};
pub use path::AttrPath;
pub use schema::{
    AttrType, AttributeDef, ENTERPRISE_USER, GROUP, GROUP_CORE, ResourceType, SchemaDef, ServiceProviderFeatures, USER,
    USER_CORE, find_schema, resource_type_json, resource_types_list_json, schema_json, schemas_list_json,
    service_provider_config_json,
};
pub use urns::{
    ENTERPRISE_USER_SCHEMA, ERROR, GROUP_SCHEMA, LIST_RESPONSE, MEDIA_TYPE, PATCH_OP, RESOURCE_TYPE_SCHEMA,
    SCHEMA_SCHEMA, SEARCH_REQUEST, SERVICE_PROVIDER_CONFIG_SCHEMA, USER_SCHEMA,
};
