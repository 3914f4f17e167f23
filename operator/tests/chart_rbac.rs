//! The Helm chart grants the operator exactly [`RBAC_RULES`]: when the code starts making a
//! call the chart does not allow, or the chart grants something the code no longer needs,
//! these tests fail and name the difference.
//!
//! They read the `rules:` lists straight from the chart's templates, without helm, which is
//! why those lists must stay plain YAML.

// Fixture helpers outside #[test] functions: a broken fixture should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clmb_operator::rbac::RBAC_RULES;
use serde::Deserialize;

/// One rule as the chart writes it. Unknown fields (`resourceNames`, `nonResourceURLs`) are
/// refused: they change what a rule means, and this test would have to learn them first.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ChartRule {
    api_groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
}

/// `(apiGroup, resource, verb)`: the unit both sides are compared in.
type Grant = (String, String, String);

fn templates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../charts/clmb-operator/templates")
}

/// Every top-level `rules:` list in a template, as the lines under it up to the next line
/// that is neither indented nor a list item.
fn rule_blocks(template: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = template.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim_end() != "rules:" {
            continue;
        }
        let mut block = String::new();
        // `- ` and not `-`: a `---` document separator ends the list.
        while let Some(next) =
            lines.next_if(|l| l.starts_with(' ') || l.starts_with("- ") || l.trim().is_empty())
        {
            block.push_str(next);
            block.push('\n');
        }
        blocks.push(block);
    }
    blocks
}

fn parse_rules(block: &str) -> Result<Vec<ChartRule>, String> {
    if block.contains("{{") {
        return Err(format!(
            "a rules list is templated; keep it plain YAML:\n{block}"
        ));
    }
    serde_yaml::from_str(block).map_err(|e| format!("{e}:\n{block}"))
}

fn grants(rules: &[ChartRule]) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for rule in rules {
        for group in &rule.api_groups {
            for resource in &rule.resources {
                for verb in &rule.verbs {
                    out.insert((group.clone(), resource.clone(), verb.clone()));
                }
            }
        }
    }
    out
}

/// Every grant in every template of the chart, whatever the file or the kind of Role.
fn chart_grants() -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    let mut blocks = 0;
    for entry in std::fs::read_dir(templates_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for block in rule_blocks(&text) {
            let rules = parse_rules(&block).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            blocks += 1;
            out.extend(grants(&rules));
        }
    }
    assert!(
        blocks > 0,
        "no `rules:` list found under {}",
        templates_dir().display()
    );
    out
}

fn code_grants() -> BTreeSet<Grant> {
    RBAC_RULES
        .iter()
        .flat_map(|r| {
            r.verbs.iter().map(|v| {
                (
                    r.api_group.to_owned(),
                    r.resource.to_owned(),
                    (*v).to_owned(),
                )
            })
        })
        .collect()
}

fn show(grants: &BTreeSet<&Grant>) -> String {
    grants
        .iter()
        .map(|(g, r, v)| format!("  {v} {r} in apiGroup {g:?}\n"))
        .collect()
}

#[test]
fn the_chart_grants_every_permission_the_operator_uses() {
    let chart = chart_grants();
    let code = code_grants();

    let missing: BTreeSet<&Grant> = code.difference(&chart).collect();

    assert!(
        missing.is_empty(),
        "the operator needs these and charts/clmb-operator/templates/rbac.yaml does not grant \
         them (`clmb-operator rbac` prints the full list):\n{}",
        show(&missing)
    );
}

#[test]
fn the_chart_grants_nothing_the_operator_does_not_use() {
    let chart = chart_grants();
    let code = code_grants();

    let extra: BTreeSet<&Grant> = chart.difference(&code).collect();

    assert!(
        extra.is_empty(),
        "charts/clmb-operator grants these, and operator/src/rbac.rs does not list them:\n{}",
        show(&extra)
    );
}

#[test]
fn rule_lists_end_at_the_next_object_and_expand_to_single_grants() {
    let template = "\
kind: Role
rules:
  # a comment
  - apiGroups: [\"\", apps]
    resources: [\"services\", deployments]
    verbs: [get]
---
kind: RoleBinding
roleRef: {}
";

    let blocks = rule_blocks(template);
    let rules = parse_rules(&blocks[0]).unwrap();

    assert_eq!(blocks.len(), 1);
    assert_eq!(grants(&rules).len(), 4);
}

#[test]
fn a_templated_rule_list_is_refused() {
    let block = "  - apiGroups: [\"{{ .Values.group }}\"]\n    resources: [x]\n    verbs: [get]\n";

    let result = parse_rules(block);

    assert!(result.is_err());
}

#[test]
fn a_rule_narrowed_by_resource_names_is_refused() {
    let block = "  - apiGroups: [\"\"]\n    resources: [secrets]\n    resourceNames: [a]\n    verbs: [get]\n";

    let result = parse_rules(block);

    assert!(result.is_err());
}
