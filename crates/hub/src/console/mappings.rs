//! The attribute-mapping editor of a custom SAML application: the NameID and each attribute's
//! template (`${user:email}`, literals, or both), as the form holds them — saved or a draft
//! being previewed. Templates of Amazon Connect and AWS account applications are fixed by the
//! template (the Role and RoleSessionName AWS requires); only custom applications are edited.

use crate::apps::catalog::CatalogEntry;
use crate::apps::spec::{AttributeEntry, CustomEntry};

/// Empty rows offered for new attributes.
const SPARE_ROWS: usize = 3;

/// The mappings as the form holds them (saved or not).
#[derive(Debug, Clone, Default)]
pub(super) struct Draft {
    pub(super) name_id_format: String,
    pub(super) name_id: String,
    pub(super) attributes: Vec<AttributeEntry>,
    /// Whom the draft was last previewed for, kept in the form.
    pub(super) preview_user: String,
}

/// What the application page offers for the mappings.
pub(super) enum Editor {
    /// Amazon Connect and AWS account applications: the template fixes them.
    FixedByTemplate,
    /// The configuration file's applications: changed there.
    OwnedByConfig,
    /// A custom application's mappings, as saved or as drafted.
    Draft(Draft),
}

impl Editor {
    /// The editor for `entry`, showing `draft` when one was posted, else the saved mappings.
    pub(super) fn of(entry: &CatalogEntry, draft: Option<Draft>) -> Editor {
        let Some(custom) = &entry.spec.custom else { return Editor::FixedByTemplate };
        if entry.stored.managed_by == crossfed_store::ManagedBy::Config {
            return Editor::OwnedByConfig;
        }
        Editor::Draft(draft.unwrap_or_else(|| Draft::of(custom)))
    }
}

impl Draft {
    /// The attribute rows the form shows: the draft's, then empty rows for new attributes.
    pub(super) fn rows(&self) -> Vec<AttributeEntry> {
        let spare =
            std::iter::repeat_with(|| AttributeEntry { name: String::new(), value: String::new(), required: false });
        self.attributes.iter().cloned().chain(spare.take(SPARE_ROWS)).collect()
    }

    fn of(custom: &CustomEntry) -> Draft {
        Draft {
            name_id_format: custom.name_id_format.clone(),
            name_id: custom.name_id.clone(),
            attributes: custom.attributes.clone(),
            preview_user: String::new(),
        }
    }

    /// Reads the posted form: `name_N`, `value_N` and `required_N` per row; rows without a name
    /// are dropped.
    pub(super) fn from_fields(fields: &[(String, String)]) -> Draft {
        let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_string());
        let mut attributes = Vec::new();
        for i in 0.. {
            let Some(name) = field(&format!("name_{i}")) else { break };
            if name.is_empty() {
                continue;
            }
            attributes.push(AttributeEntry {
                name,
                value: field(&format!("value_{i}")).unwrap_or_default(),
                required: field(&format!("required_{i}")).is_some(),
            });
        }
        Draft {
            name_id_format: field("name_id_format").unwrap_or_default(),
            name_id: field("name_id").unwrap_or_default(),
            attributes,
            preview_user: field("preview_user").unwrap_or_default(),
        }
    }
}

/// With JavaScript, the draft is previewed as it is typed: the form is posted as "preview" in
/// the background and the answer's preview shown under it. Without, the buttons do the same.
pub(super) const LIVE_PREVIEW: &str = r#"(() => {
  const form = document.getElementById('mappings');
  const shown = document.getElementById('live-preview');
  if (!form || !shown || !window.fetch) return;
  let timer;
  const refresh = async () => {
    if (!form.elements['preview_user'].value.trim()) return;
    const data = new URLSearchParams(new FormData(form));
    data.set('action', 'preview');
    // form.action would be the button named "action": read the attribute.
    const answer = await fetch(form.getAttribute('action'), { method: 'POST', body: data, credentials: 'same-origin' });
    const page = new DOMParser().parseFromString(await answer.text(), 'text/html');
    const fresh = page.getElementById('preview') || page.getElementById('message');
    shown.replaceChildren(...(fresh ? [document.importNode(fresh, true)] : []));
    shown.querySelectorAll('[id]').forEach((e) => e.removeAttribute('id'));
  };
  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refresh, 300); });
})();"#;
