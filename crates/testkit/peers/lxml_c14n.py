"""Exclusive XML canonicalization by lxml (libxml2), an implementation independent of crossfed.

Reads a JSON list of {"xml": str, "path": [int, ...], "prefixes": [str, ...]} on stdin, where
path walks child elements from the root to the apex; writes a JSON list of canonical forms
(or {"error": message}) on stdout.
"""
import json
import sys

from lxml import etree


def canonicalize(case):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False)
    root = etree.fromstring(case["xml"].encode("utf-8"), parser)
    apex = root
    for index in case["path"]:
        apex = [c for c in apex if isinstance(c.tag, str)][index]
    prefixes = case["prefixes"] or None
    return etree.tostring(
        apex, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes
    ).decode("utf-8")


def main():
    results = []
    for case in json.load(sys.stdin):
        try:
            results.append(canonicalize(case))
        except Exception as error:  # reported back to the Rust test, which fails on it
            results.append({"error": f"{type(error).__name__}: {error}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
