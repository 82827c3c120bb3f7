//! `rewrite` for generic import-from-derivation sites (`import-drv`,
//! `read-drv`): group the batchable sites of each `let … in` scope, bind
//! `ifdBatchGroup = (import <manifest>).group [ <their derivations> ];` in
//! it, and wrap each site's target: `import a` → `import (ifdBatchGroup.ready a)`.
//! The value of every site is unchanged; the first one forced builds the
//! whole group at once. Which sites qualify is decided in
//! [`crate::detect::generic`], shared with `scan`.

use crate::detect::generic::{GROUP_NAME, batchability, target, unwrap_ready};
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
    // scope start → (scope, member texts in first-seen order, sites)
    let mut groups: BTreeMap<usize, (SyntaxNode, Vec<String>, usize)> = BTreeMap::new();
    for &(site, call) in sites {
        let result = (|| -> Result<Action, Reason> {
            let target = target(call)
                .ok_or_else(|| Reason::new(Code::Internal, "no derivation argument"))?;
            let (scope, member) = batchability(&call.node, &target)?;
            let group = groups
                .entry(usize::from(scope.text_range().start()))
                .or_insert_with(|| (scope.clone(), Vec::new(), 0));
            group.2 += 1;
            let members = &mut group.1;
            let m = member.text().to_string();
            if !members.contains(&m) {
                members.push(m);
            }
            if unwrap_ready(&target).is_some() {
                return Ok(Action::Routed);
            }
            let r = target.text_range();
            out.edits.push(TextEdit::replace(
                usize::from(r.start())..usize::from(r.end()),
                format!("({GROUP_NAME}.ready {})", target.text()),
            ));
            Ok(Action::Edited)
        })();
        out.outcomes.push(match result {
            Ok(action) => outcome(site, action, None),
            Err(reason) => outcome(site, Action::Skipped, Some(reason)),
        });
    }
    let import_path = relative_path(parent_of(file), manifest_file);
    for (scope, members, n) in groups.values() {
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
        match binding_in(scope, GROUP_NAME) {
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
                let binding = format!("{GROUP_NAME} = {value};");
                out.edits.push(TextEdit::insert(
                    at,
                    match indent_before(text, at) {
                        Some(ind) => format!("{binding}\n{ind}"),
                        None => format!("{binding} "),
                    },
                ));
            }
        }
    }
    out
}
