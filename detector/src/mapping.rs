//! Logsource routing and field mapping, read from data files (`rules/mappings/*.yml`).
//!
//! Each route says which events it takes (conditions on fields such as `Channel` and `EventID`,
//! or, without conditions, the logsource an event declares) and which logsource they belong to.
//! A rule reaches an event only through a route whose logsource the rule's logsource matches.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::error::DetectorError;
use crate::sigma::RuleLogsource;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    product: Option<String>,
    #[serde(default)]
    routes: Vec<RouteFile>,
    #[serde(default)]
    placeholders: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    strip_prefixes: Vec<String>,
    #[serde(default)]
    aliases: BTreeMap<String, String>,
    #[serde(default, rename = "description")]
    _description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    #[serde(default)]
    product: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    when: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    categories: BTreeMap<String, Option<BTreeMap<String, String>>>,
    #[serde(default, rename = "description")]
    _description: Option<String>,
}

/// One route.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// The file it came from.
    pub file: String,
    /// The product it assigns.
    pub product: Option<String>,
    /// The service it assigns.
    pub service: Option<String>,
    /// Categories with the field map for rules of each (rule field → event field).
    pub categories: Vec<(String, HashMap<String, String>)>,
    /// Conditions: field → accepted values (lowercase text); all must hold.
    pub when: Vec<(String, Vec<String>)>,
}

impl Route {
    /// Whether a rule with this logsource is reached through the route, and with which field map
    /// (`Some(None)`: reached, no field map).
    pub fn reaches(&self, logsource: &RuleLogsource) -> Option<Option<&HashMap<String, String>>> {
        if logsource.product.is_some() && logsource.product != self.product {
            return None;
        }
        if logsource.service.is_some() && logsource.service != self.service {
            return None;
        }
        match &logsource.category {
            None => Some(None),
            Some(category) => self
                .categories
                .iter()
                .find(|(name, _)| name == category)
                .map(|(_, map)| Some(map).filter(|map| !map.is_empty())),
        }
    }
}

/// All routes, the placeholder values and the JSON shapes, as loaded from mapping files.
#[derive(Clone, Debug, Default)]
pub struct Mappings {
    /// Routes in file order.
    pub routes: Vec<Route>,
    /// `|expand` placeholder values.
    pub placeholders: HashMap<String, Vec<String>>,
    /// Container paths whose children are also addressed by their own names (see
    /// `haidang_event::flatten_json`).
    pub strip_prefixes: Vec<String>,
    /// Field aliases for foreign JSON shapes: (path in the document, Sigma name), added when the
    /// document has the path but not the name (`winlog.channel` → `Channel`).
    pub aliases: Vec<(String, String)>,
}

fn text_of(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.to_lowercase()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

impl Mappings {
    /// Loads mapping files given as (name, text) pairs.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Mappings, DetectorError> {
        let mut mappings = Mappings::default();
        for (name, text) in files {
            mappings.add_file(name, text)?;
        }
        Ok(mappings)
    }

    fn add_file(&mut self, name: &str, text: &str) -> Result<(), DetectorError> {
        let error = |problem: String| DetectorError::Mapping {
            file: name.to_owned(),
            problem,
        };
        let file: MappingFile = serde_saphyr::from_str(text).map_err(|problem| error(problem.to_string()))?;
        let file_product = file.product.map(|product| product.to_lowercase());
        for (index, route) in file.routes.into_iter().enumerate() {
            let mut when = Vec::new();
            for (field, value) in route.when {
                let values = match &value {
                    serde_json::Value::Array(items) => items.iter().map(text_of).collect::<Option<Vec<_>>>(),
                    other => text_of(other).map(|text| vec![text]),
                }
                .ok_or_else(|| {
                    error(format!(
                        "route {}: `when.{field}` must be text, a number or a list of them",
                        index + 1
                    ))
                })?;
                when.push((field, values));
            }
            let categories = route
                .categories
                .into_iter()
                .map(|(category, map)| {
                    (
                        category.to_lowercase(),
                        map.unwrap_or_default().into_iter().collect(),
                    )
                })
                .collect();
            self.routes.push(Route {
                file: name.to_owned(),
                product: route
                    .product
                    .map(|product| product.to_lowercase())
                    .or(file_product.clone()),
                service: route.service.map(|service| service.to_lowercase()),
                categories,
                when,
            });
        }
        for (placeholder, values) in file.placeholders {
            let values = match values {
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned).or_else(|| text_of(item)))
                    .collect(),
                other => text_of(&other).into_iter().collect(),
            };
            self.placeholders.insert(placeholder, values);
        }
        self.strip_prefixes.extend(file.strip_prefixes);
        self.aliases.extend(file.aliases);
        Ok(())
    }
}

/// Finds the route of an event quickly: conditional routes by hashing the event's values of each
/// distinct condition-field set (most conditions first), then declared logsources.
/// Conditional routes sharing one set of condition fields: the fields, and values → route.
type RouteGroup = (Vec<String>, HashMap<Vec<String>, usize>);
/// A declared logsource: (product, category, service).
type LogsourceKey = (Option<String>, Option<String>, Option<String>);

#[derive(Debug, Default)]
pub(crate) struct Router {
    groups: Vec<RouteGroup>,
    declared: HashMap<LogsourceKey, usize>,
}

impl Router {
    pub(crate) fn new(routes: &[Route]) -> Router {
        let mut groups: Vec<RouteGroup> = Vec::new();
        let mut declared = HashMap::new();
        for (index, route) in routes.iter().enumerate() {
            if route.when.is_empty() {
                let categories: Vec<Option<String>> = if route.categories.is_empty() {
                    vec![None]
                } else {
                    route
                        .categories
                        .iter()
                        .map(|(name, _)| Some(name.clone()))
                        .collect()
                };
                for category in categories {
                    declared
                        .entry((route.product.clone(), category, route.service.clone()))
                        .or_insert(index);
                }
                continue;
            }
            let fields: Vec<String> = route.when.iter().map(|(field, _)| field.clone()).collect();
            let position = match groups.iter().position(|(known, _)| *known == fields) {
                Some(position) => position,
                None => {
                    groups.push((fields.clone(), HashMap::new()));
                    groups.len() - 1
                }
            };
            let mut keys: Vec<Vec<String>> = vec![Vec::new()];
            for (_, values) in &route.when {
                keys = keys
                    .into_iter()
                    .flat_map(|prefix| {
                        values.iter().map(move |value| {
                            let mut key = prefix.clone();
                            key.push(value.clone());
                            key
                        })
                    })
                    .collect();
            }
            for key in keys {
                groups[position].1.entry(key).or_insert(index);
            }
        }
        groups.sort_by_key(|(fields, _)| std::cmp::Reverse(fields.len()));
        Router { groups, declared }
    }

    /// The route for an event.
    pub(crate) fn route(&self, event: &haidang_event::Event) -> Option<usize> {
        let mut key = Vec::new();
        'groups: for (fields, table) in &self.groups {
            key.clear();
            for field in fields {
                match event.fields.get(field).and_then(|value| value.as_text()) {
                    Some(text) => key.push(text.to_lowercase()),
                    None => continue 'groups,
                }
            }
            if let Some(&route) = table.get(&key) {
                return Some(route);
            }
        }
        let declared = &event.logsource;
        if declared.is_empty() {
            return None;
        }
        let product = declared.product.clone();
        let category = declared.category.clone();
        let service = declared.service.clone();
        let candidates = [
            (product.clone(), category.clone(), service.clone()),
            (None, category.clone(), service.clone()),
            (product.clone(), category.clone(), None),
            (None, category.clone(), None),
            (product.clone(), None, service.clone()),
            (product, None, None),
        ];
        candidates
            .iter()
            .find_map(|candidate| self.declared.get(candidate).copied())
    }
}
