//! Applications: what one is ([`model`]) and how an administrator describes it ([`spec`]), the
//! attribute mappings ([`mapping`]), the catalog of every application with its assignments
//! ([`catalog`]) and the changes administrators make to it ([`changes`]), each application's IdP
//! metadata ([`metadata`]), the signed Response of a launch ([`launch`]) and the check that it
//! identifies one person only ([`identity`]).

pub mod catalog;
pub mod changes;
pub mod identity;
pub mod launch;
pub mod mapping;
pub mod metadata;
pub mod model;
pub mod spec;
