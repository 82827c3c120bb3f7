//! `rewrite` for generic import-from-derivation sites (`import-drv`,
//! `read-drv`): group the batchable sites of each `let … in` scope, bind
//! `ifdBatchGroup = (import <manifest>).group [ <their derivations> ];` in
//! it, and wrap each site's target: `import a` → `import (ifdBatchGroup.ready a)`.
//! The value of every site is unchanged; the first one forced builds the
//! whole group at once. Which sites qualify is decided in
//! [`crate::detect::generic`], shared with `scan`.

use crate::detect::generic::{batchability, ready_group, target};
use crate::detect::{Code, Reason, Site};
use crate::edit::TextEdit;
use crate::rewrite::{Action, SiteOutcome, indent_before, outcome, parent_of, relative_path};
use crate::syntax::Call;
use crate::syntax::scope::{Binding, binding_in};
use crate::syntax::unparen;
use rnix::{SyntaxKind::*, SyntaxNode};
use std::collections::BTreeMap;

/// The edits and outcomes for one file's generic sites.
pub(crate) struct GenericPlan {
    pub edits: Vec<TextEdit>,
    pub outcomes: Vec<SiteOutcome>,
    /// Groups bound or kept in this file, described for the report
    /// (`file:line: [ a b ] (N sites)`).
    pub groups: Vec<String>,
}

pub(crate) fn plan(
    text: &str,
    file: &str,
    sites: &[(&Site, &Call)],
    manifest_file: &str,
) -> GenericPlan {
    let mut out = GenericPlan {
        edits: Vec::new(),
        outcomes: Vec::new(),
        groups: Vec::new(),
    };
    let mut groups: Groups = BTreeMap::new();
    for &(site, call) in sites {
        out.outcomes
            .push(match route(site, call, &mut groups, &mut out.edits) {
                Ok(action) => outcome(site, action, None),
                Err(reason) => outcome(site, Action::Skipped, Some(reason)),
            });
    }
    bind_groups(text, file, manifest_file, &groups, &mut out);
    out
}

/// (scope start, group name) → (scope, member texts in first-seen order,
/// sites). The group is the one `detect::generic::layer` chose.
type Groups = BTreeMap<(usize, String), (SyntaxNode, Vec<String>, usize)>;

/// Route one site through its group (`(GROUP.ready X)`), recording the
/// member in `groups`.
fn route(
    site: &Site,
    call: &Call,
    groups: &mut Groups,
    edits: &mut Vec<TextEdit>,
) -> Result<Action, Reason> {
    let target =
        target(call).ok_or_else(|| Reason::new(Code::Internal, "no derivation argument"))?;
    let (scope, member) = batchability(&call.node, &target)?;
    let name = site
        .group
        .clone()
        .ok_or_else(|| Reason::new(Code::Internal, "no group decided for the site"))?;
    let group = groups
        .entry((usize::from(scope.text_range().start()), name.clone()))
        .or_insert_with(|| (scope.clone(), Vec::new(), 0));
    group.2 += 1;
    let m = member.text().to_string();
    if !group.1.contains(&m) {
        group.1.push(m);
    }
    let r = target.text_range();
    let inner = match ready_group(&target) {
        // Routed through this group already.
        Some((wrapped, _)) if wrapped == name => return Ok(Action::Routed),
        // Through another layer's (a dependency changed): re-route.
        Some((_, inner)) => inner.text().to_string(),
        None => target.text().to_string(),
    };
    edits.push(TextEdit::replace(
        usize::from(r.start())..usize::from(r.end()),
        format!("({name}.ready {inner})"),
    ));
    Ok(Action::Edited)
}

/// Bind each group in its scope (`NAME = (import MANIFEST).group [ … ];`),
/// or update its binding; describe the groups for the report.
fn bind_groups(
    text: &str,
    file: &str,
    manifest_file: &str,
    groups: &Groups,
    out: &mut GenericPlan,
) {
    let import_path = relative_path(parent_of(file), manifest_file);
    // New bindings, per scope: one insertion, in the groups' order.
    let mut inserts: BTreeMap<usize, (usize, Vec<String>)> = BTreeMap::new();
    for ((_, name), (scope, members, n)) in groups {
        let line = text[..usize::from(scope.text_range().start())]
            .matches('\n')
            .count()
            + 1;
        out.groups.push(format!(
            "{file}:{line}: `let` scope: [ {} ] built together, {n} site{}",
            members.join(" "),
            if *n == 1 { "" } else { "s" }
        ));
        let value = format!("(import {import_path}).group [ {} ]", members.join(" "));
        match binding_in(scope, name) {
            Some(Binding::Value(v)) => {
                if unparen(&v).text() != value.as_str() && v.text() != value.as_str() {
                    let r = v.text_range();
                    out.edits.push(TextEdit::replace(
                        usize::from(r.start())..usize::from(r.end()),
                        value,
                    ));
                }
            }
            Some(_) => {}
            None => {
                // Before the scope's first binding, at its indentation.
                let Some(first) = scope
                    .children()
                    .find(|c| matches!(c.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT))
                else {
                    continue;
                };
                let at = usize::from(first.text_range().start());
                inserts
                    .entry(at)
                    .or_insert_with(|| (at, Vec::new()))
                    .1
                    .push(format!("{name} = {value};"));
            }
        }
    }
    for (at, bindings) in inserts.into_values() {
        let insert = match indent_before(text, at) {
            Some(ind) => bindings
                .iter()
                .map(|b| format!("{b}\n{ind}"))
                .collect::<String>(),
            None => bindings.iter().map(|b| format!("{b} ")).collect::<String>(),
        };
        out.edits.push(TextEdit::insert(at, insert));
    }
}
