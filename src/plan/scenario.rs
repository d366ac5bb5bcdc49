//! `[scenario.NAME]` patches, applied to the spanned tree before it is read,
//! in the order PLAN_FORMAT.md settles: `remove`, then table merges, then
//! array entries.

use super::read::{is_valid_id, known_keys};
use super::schema::{self, Layout};
use super::tree::{Node, Table, Value};
use super::Scenario;
use crate::error::Diagnostic;

pub struct ScenarioNode {
    pub info: Scenario,
    body: Table,
}

fn diag(node_span: &crate::error::Span, message: String) -> Diagnostic {
    Diagnostic {
        span: Some(node_span.clone()),
        message,
    }
}

/// Separate the base plan from its scenarios, checking the scenarios' shape.
pub fn split(root: &Node) -> Result<(Node, Vec<ScenarioNode>), Vec<Diagnostic>> {
    let Value::Table(table) = &root.value else {
        return Ok((root.clone(), Vec::new()));
    };
    let mut base = table.clone();
    let Some(scen) = base.remove("scenario") else {
        return Ok((root.clone(), Vec::new()));
    };
    let base = Node {
        span: root.span.clone(),
        value: Value::Table(base),
    };
    let Value::Table(scenarios) = &scen.value else {
        return Err(vec![diag(
            &scen.span,
            format!(
                "scenario: expected tables [scenario.NAME], found {}",
                scen.value.type_name()
            ),
        )]);
    };
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let mut allowed: Vec<&str> = known_keys("")
        .iter()
        .copied()
        .filter(|k| *k != "scenario")
        .collect();
    allowed.extend(["description", "remove"]);
    for (key, node) in &scenarios.entries {
        let name = &key.name;
        if !is_valid_id(name) {
            diags.push(diag(
                &key.span,
                format!(
                    "scenario name {name:?}: a name must be 1-64 characters of A-Z a-z 0-9 _ . -"
                ),
            ));
            continue;
        }
        let Value::Table(body) = &node.value else {
            diags.push(diag(
                &node.span,
                format!(
                    "scenario \"{name}\": expected a table, found {}",
                    node.value.type_name()
                ),
            ));
            continue;
        };
        let mut description = None;
        for (k, v) in &body.entries {
            if k.name == "scenario" {
                diags.push(diag(
                    &k.span,
                    format!("scenario \"{name}\": scenarios do not nest"),
                ));
            } else if !allowed.contains(&k.name.as_str()) {
                diags.push(diag(
                    &k.span,
                    format!(
                        "scenario \"{name}\": unknown key {:?} (expected one of: {})",
                        k.name,
                        allowed.join(", ")
                    ),
                ));
            } else if k.name == "description" {
                match &v.value {
                    Value::Str(s) if s.chars().any(crate::error::is_unsafe_char) => {
                        diags.push(diag(
                            &v.span,
                            format!(
                                "scenario \"{name}\" description = {s:?}: {} in a plan's strings",
                                crate::error::UNSAFE_CHARS
                            ),
                        ))
                    }
                    Value::Str(s) => description = Some(s.clone()),
                    other => diags.push(diag(
                        &v.span,
                        format!(
                            "scenario \"{name}\" description: expected a string, found {}",
                            other.type_name()
                        ),
                    )),
                }
            }
        }
        out.push(ScenarioNode {
            info: Scenario {
                name: name.clone(),
                description,
            },
            body: body.clone(),
        });
    }
    if diags.is_empty() {
        Ok((base, out))
    } else {
        Err(diags)
    }
}

fn entry_id(node: &Node) -> Option<&str> {
    match &id_node(node)?.value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn id_node(node: &Node) -> Option<&Node> {
    match &node.value {
        Value::Table(t) => t.get("id"),
        _ => None,
    }
}

fn str_field<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    match &node.value {
        Value::Table(t) => match t.get(key).map(|n| &n.value) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// Apply one scenario's patch to the base tree.
pub fn apply(base: &Node, sc: &ScenarioNode) -> Result<Node, Vec<Diagnostic>> {
    let name = &sc.info.name;
    let mut root = base.clone();
    let Value::Table(table) = &mut root.value else {
        return Ok(root);
    };
    let mut diags = Vec::new();

    // 1. remove
    if let Some(remove) = sc.body.get("remove") {
        match &remove.value {
            Value::Array(items) => {
                let mut removed: Vec<&str> = Vec::new();
                for item in items {
                    let Value::Str(id) = &item.value else {
                        diags.push(diag(
                            &item.span,
                            format!(
                                "scenario \"{name}\" remove: expected ids (strings), found {}",
                                item.value.type_name()
                            ),
                        ));
                        continue;
                    };
                    if removed.contains(&id.as_str()) {
                        diags.push(diag(
                            &item.span,
                            format!("scenario \"{name}\" remove = {id:?}: given twice in remove; give each id once"),
                        ));
                        continue;
                    }
                    removed.push(id);
                    let mut found = false;
                    for section in schema::sections(Layout::Array) {
                        if let Some(Node {
                            value: Value::Array(entries),
                            ..
                        }) = table.get_mut(section)
                        {
                            let before = entries.len();
                            entries.retain(|e| entry_id(e) != Some(id.as_str()));
                            found |= entries.len() != before;
                        }
                    }
                    if !found {
                        diags.push(diag(
                            &item.span,
                            format!("scenario \"{name}\" remove = {id:?}: no entry of the base plan has this id"),
                        ));
                    }
                }
            }
            other => diags.push(diag(
                &remove.span,
                format!(
                    "scenario \"{name}\" remove: expected an array of ids, found {}",
                    other.type_name()
                ),
            )),
        }
    }

    // 2. table merges
    for (key, patch) in &sc.body.entries {
        if !matches!(schema::layout(&key.name), Some(Layout::Table | Layout::Map)) {
            continue;
        }
        match table.get_mut(&key.name) {
            Some(existing) => merge(existing, patch, key.name == "transport"),
            None => table.set(key.clone(), patch.clone()),
        }
    }

    // 3. array entries
    for (key, patch) in &sc.body.entries {
        if schema::layout(&key.name) != Some(Layout::Array) {
            continue;
        }
        let Value::Array(patch_entries) = &patch.value else {
            diags.push(diag(
                &patch.span,
                format!(
                    "scenario \"{name}\" {}: expected an array of tables ([[scenario.{name}.{}]]), found {}",
                    key.name,
                    key.name,
                    patch.value.type_name()
                ),
            ));
            continue;
        };
        if table.get(&key.name).is_none() {
            table.set(
                key.clone(),
                Node {
                    span: patch.span.clone(),
                    value: Value::Array(Vec::new()),
                },
            );
        }
        let Some(Node {
            value: Value::Array(base_entries),
            ..
        }) = table.get_mut(&key.name)
        else {
            continue; // the base has a non-array here; reading it reports that
        };
        // Two entries of one section with the same id: one would silently
        // replace the other, as in the base plan that is an error.
        let mut seen: std::collections::BTreeMap<&str, &Node> = Default::default();
        for entry in patch_entries {
            let Some(id_node) = id_node(entry) else {
                continue;
            };
            let Value::Str(id) = &id_node.value else {
                continue;
            };
            let first = *seen.entry(id.as_str()).or_insert(id_node);
            if !std::ptr::eq(first, id_node) {
                diags.push(diag(
                    &id_node.span,
                    format!(
                        "scenario \"{name}\" {} id \"{id}\" is given twice in this scenario (first at {}); give each id once",
                        key.name,
                        first.span.location()
                    ),
                ));
            }
        }
        for entry in patch_entries {
            // An id the base does not have, on an entry that could not stand
            // as a new one: most likely a misspelt id of the base's.
            if let (Some(id_node), Value::Table(fields)) = (id_node(entry), &entry.value) {
                if let Value::Str(id) = &id_node.value {
                    let base_ids: Vec<String> = base_entries
                        .iter()
                        .filter_map(|b| entry_id(b).map(str::to_string))
                        .collect();
                    let missing: Vec<&str> = schema::fields(&key.name)
                        .iter()
                        .filter(|f| f.required && fields.get(f.name).is_none())
                        .map(|f| f.name)
                        .collect();
                    if !base_ids.contains(id) && !missing.is_empty() && !base_ids.is_empty() {
                        let closest = base_ids
                            .iter()
                            .min_by_key(|b| super::read::strsim_distance(id, b))
                            .filter(|b| super::read::strsim_distance(id, b) <= 3)
                            .map_or(String::new(), |b| format!(" (did you mean \"{b}\"?)"));
                        diags.push(diag(
                            &id_node.span,
                            format!(
                                "scenario \"{name}\" {} \"{id}\" matches no {} of the base plan{closest}, and as a new one it lacks {}",
                                key.name,
                                key.name,
                                missing.join(", ")
                            ),
                        ));
                        continue;
                    }
                }
            }
            let target = entry_id(entry)
                .and_then(|id| base_entries.iter_mut().find(|b| entry_id(b) == Some(id)));
            match (target, &entry.value) {
                (Some(target), Value::Table(fields)) => {
                    if let Value::Table(t) = &mut target.value {
                        for (k, v) in &fields.entries {
                            t.set(k.clone(), v.clone());
                        }
                    }
                }
                _ => base_entries.push(entry.clone()),
            }
        }
    }

    if diags.is_empty() {
        Ok(root)
    } else {
        Err(diags)
    }
}

/// Recursive key-by-key merge of `patch` into `base`. In `[transport]`, lanes
/// are matched by their `(from, to)` pair.
fn merge(base: &mut Node, patch: &Node, is_transport: bool) {
    let (Value::Table(bt), Value::Table(pt)) = (&mut base.value, &patch.value) else {
        *base = patch.clone();
        return;
    };
    for (key, value) in &pt.entries {
        if is_transport && key.name == "lane" {
            merge_lanes(bt, key, value);
            continue;
        }
        match bt.get_mut(&key.name) {
            Some(existing)
                if matches!(existing.value, Value::Table(_))
                    && matches!(value.value, Value::Table(_)) =>
            {
                merge(existing, value, false)
            }
            _ => bt.set(key.clone(), value.clone()),
        }
    }
}

fn merge_lanes(base: &mut Table, key: &super::tree::Key, patch: &Node) {
    let Value::Array(patch_lanes) = &patch.value else {
        base.set(key.clone(), patch.clone());
        return;
    };
    if base.get("lane").is_none() {
        base.set(
            key.clone(),
            Node {
                span: patch.span.clone(),
                value: Value::Array(Vec::new()),
            },
        );
    }
    let Some(Node {
        value: Value::Array(lanes),
        ..
    }) = base.get_mut("lane")
    else {
        return;
    };
    for lane in patch_lanes {
        let (Some(from), Some(to), Value::Table(fields)) =
            (str_field(lane, "from"), str_field(lane, "to"), &lane.value)
        else {
            lanes.push(lane.clone());
            continue;
        };
        let same_pair: Vec<usize> = (0..lanes.len())
            .filter(|&i| {
                str_field(&lanes[i], "from") == Some(from) && str_field(&lanes[i], "to") == Some(to)
            })
            .collect();
        if same_pair.is_empty() {
            lanes.push(lane.clone());
            continue;
        }
        for (k, v) in &fields.entries {
            // Replace the product in the base entry that gives it, else the first.
            let slot = same_pair
                .iter()
                .copied()
                .find(|&i| matches!(&lanes[i].value, Value::Table(t) if t.get(&k.name).is_some()))
                .unwrap_or(same_pair[0]);
            if let Value::Table(t) = &mut lanes[slot].value {
                t.set(k.clone(), v.clone());
            }
        }
    }
}
