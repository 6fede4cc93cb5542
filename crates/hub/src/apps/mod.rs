//! Applications: what one is ([`model`]) and how an administrator describes it ([`spec`]), the
//! attribute mappings ([`mapping`]), the catalog of every application with its assignments
//! ([`catalog`]) and the changes administrators make to it ([`changes`]), each application's IdP
//! metadata ([`metadata`]), and the signed Response of a launch ([`launch`]).

pub mod catalog;
pub mod changes;
pub mod launch;
pub mod mapping;
pub mod metadata;
pub mod model;
pub mod spec;
