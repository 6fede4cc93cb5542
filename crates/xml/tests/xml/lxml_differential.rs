//! Exclusive c14n compared with lxml (libxml2) on several hundred generated documents: default
//! and prefixed namespaces, redeclarations, `xmlns=""`, namespaced attributes, escaping, CR and
//! tabs, non-ASCII text, comments and CDATA, canonicalized at the root and at inner elements,
//! with and without an InclusiveNamespaces prefix list.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_testkit::run_peer_json;
use crossfed_xml::{C14nOptions, Element, canonicalize_to_vec, parse};
use serde_json::json;

/// A small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const PREFIXES: [&str; 4] = ["", "a", "b", "c"];
// No '&' in namespace URIs: the specification escapes it like an attribute value (`&amp;`), the
// libxml2 bundled with lxml writes it raw and Debian's xmlsec1 writes `&#38;`.
const URIS: [&str; 4] = ["urn:one", "urn:two", "http://example.com/x?y=1;z", "urn:one"];
const TEXTS: [&str; 10] = [
    "plain",
    " spaced  out ",
    "a &amp; b &lt; c &gt; d",
    "line\r\nbreak&#13;",
    "tab\there",
    "Zoë 東京 😀",
    "",
    "<![CDATA[<raw> & ]]>",
    "x<!-- note -->y",
    "&quot;q&quot; &apos;s&apos;",
];
const VALUES: [&str; 7] =
    ["v", "a &amp; &lt;b&gt;", "&quot;quoted&quot;", "tab&#9;nl&#10;cr&#13;", "lit\ttab", "ü", ""];

fn element(rng: &mut Rng, depth: usize, declared: &mut Vec<String>, out: &mut String) {
    let mut decls = String::new();
    let mut local_declared = Vec::new();
    for _ in 0..rng.below(3) {
        let p = rng.pick(&PREFIXES);
        if local_declared.contains(&p) {
            continue;
        }
        local_declared.push(p);
        let uri = if p.is_empty() && rng.below(4) == 0 { "" } else { rng.pick(&URIS) };
        if p.is_empty() {
            decls.push_str(&format!(" xmlns=\"{uri}\""));
        } else {
            decls.push_str(&format!(" xmlns:{p}=\"{uri}\""));
            declared.push(p.to_string());
        }
    }
    let usable: Vec<String> = declared.clone();
    let prefix =
        if !usable.is_empty() && rng.below(2) == 0 { usable[rng.below(usable.len())].clone() } else { String::new() };
    let name = if prefix.is_empty() { format!("e{depth}") } else { format!("{prefix}:e{depth}") };
    let mut attrs = String::new();
    let mut used = Vec::new();
    for _ in 0..rng.below(4) {
        let ap = if !usable.is_empty() && rng.below(3) == 0 {
            usable[rng.below(usable.len())].clone()
        } else {
            String::new()
        };
        let an = format!("{}{}", ["id", "z", "a", "m"][rng.below(4)], rng.below(3));
        let key = if ap.is_empty() { an.clone() } else { format!("{ap}:{an}") };
        // Same local name in the same namespace twice would be ill-formed; keep names unique.
        if used.contains(&an) {
            continue;
        }
        used.push(an);
        attrs.push_str(&format!(" {key}=\"{}\"", rng.pick(&VALUES)));
    }
    let xml_lang = if rng.below(6) == 0 { " xml:lang=\"en\"" } else { "" };
    out.push_str(&format!("<{name}{decls}{attrs}{xml_lang}>"));
    let children = if depth < 4 { rng.below(4) } else { 0 };
    for _ in 0..children {
        if rng.below(3) == 0 {
            out.push_str(rng.pick(&TEXTS));
        } else {
            let mut inner = declared.clone();
            element(rng, depth + 1, &mut inner, out);
        }
    }
    if rng.below(2) == 0 {
        out.push_str(rng.pick(&TEXTS));
    }
    out.push_str(&format!("</{name}>"));
}

fn path_to(e: Element<'_>) -> Vec<usize> {
    let mut path = Vec::new();
    let mut cur = e;
    while let Some(parent) = cur.parent() {
        path.push(parent.child_elements().position(|c| c.id() == cur.id()).unwrap());
        cur = parent;
    }
    path.reverse();
    path
}

#[test]
fn exclusive_c14n_matches_lxml() {
    let mut rng = Rng(0x5eed_c14e);
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    while cases.len() < 400 {
        let mut xml = String::new();
        element(&mut rng, 0, &mut Vec::new(), &mut xml);
        let Ok(doc) = parse(xml.as_bytes()) else { continue };
        let elements: Vec<Element<'_>> = doc.descendants().collect();
        let apex = elements[rng.below(elements.len())];
        let prefixes: Vec<&str> = match rng.below(4) {
            0 => vec!["a"],
            1 => vec!["#default", "b"],
            _ => vec![],
        };
        let options = C14nOptions { exclude: None, inclusive_prefixes: &prefixes };
        ours.push(String::from_utf8(canonicalize_to_vec(&doc, apex.id(), &options)).unwrap());
        let lxml_prefixes: Vec<&str> = prefixes.iter().map(|p| if *p == "#default" { "" } else { p }).collect();
        cases.push(json!({"xml": xml, "path": path_to(apex), "prefixes": lxml_prefixes}));
    }
    let theirs = run_peer_json("lxml_c14n.py", &json!(cases));
    let theirs = theirs.as_array().unwrap();
    let mut mismatches = 0;
    for (i, (ours, theirs)) in ours.iter().zip(theirs).enumerate() {
        let theirs =
            theirs.as_str().unwrap_or_else(|| panic!("lxml failed on case {i}: {theirs}\n{}", cases[i]["xml"]));
        if ours != theirs {
            mismatches += 1;
            eprintln!(
                "case {i} differs\n  xml:    {}\n  path:   {}  prefixes: {}\n  ours:   {ours}\n  lxml:   {theirs}",
                cases[i]["xml"], cases[i]["path"], cases[i]["prefixes"]
            );
        }
    }
    assert_eq!(mismatches, 0, "{mismatches} of {} documents canonicalize differently from lxml", ours.len());
}
