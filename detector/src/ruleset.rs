//! Loading rules into a [`RuleSet`] and matching events against it with a [`Scanner`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use haidang_event::{Event, Value};

use crate::compile::{CompileContext, Direct, Expr, Predicate, Target, compile_detection};
use crate::correlation::{CorrelationSpec, compile_correlations};
use crate::engine::{PatternEngine, PatternSpec};
use crate::error::{DetectorError, RuleError};
use crate::evaluate::evaluate_direct;
use crate::mapping::{Mappings, Router};
use crate::sigma::{Condition, SigmaDocument, SigmaFilter, SigmaRule, parse_rule_file};

/// One rule file's text, named by its path (used in reports).
#[derive(Clone, Debug)]
pub struct RuleSource {
    /// Where it came from.
    pub name: String,
    /// Its YAML text.
    pub text: String,
}

/// What a loaded rule is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// A detection rule.
    Detection,
    /// A correlation rule.
    Correlation,
}

/// A loaded rule's metadata.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    /// Its id (the title when the rule has none).
    pub id: String,
    /// Its `name`, if any.
    pub name: Option<String>,
    /// Its title.
    pub title: String,
    /// Its level (`informational` when unset).
    pub level: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// The file it came from.
    pub source: String,
    /// Detection or correlation.
    pub kind: RuleKind,
    /// Whether its matches are reported on their own (false for rules only a correlation uses).
    pub reported: bool,
    /// Whether any route reaches it (detection rules only).
    pub routed: bool,
}

/// A rule (or document) that did not load.
#[derive(Clone, Debug)]
pub struct RuleFailure {
    /// The file.
    pub source: String,
    /// The title, if it could be read.
    pub title: Option<String>,
    /// Why.
    pub error: RuleError,
}

/// What loading found.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Rule documents seen (filters included).
    pub documents: usize,
    /// Those that did not load.
    pub failures: Vec<RuleFailure>,
}

/// Where compiled databases are kept between runs, keyed by their content. The detector does no
/// I/O itself: the caller provides the store (a directory, in the collector).
pub trait CompileCache {
    /// The bytes stored under `key`, if any.
    fn load(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores bytes under `key` (errors are the store's to report; a failed store only costs time).
    fn store(&self, key: &str, bytes: &[u8]);
}

/// Tunables of a rule set.
#[derive(Clone, Debug)]
pub struct RuleSetOptions {
    /// Most correlation entries kept across all groups before the oldest groups are evicted.
    pub correlation_max_entries: usize,
    /// How late (seconds) an event may arrive and still count in correlation windows.
    pub correlation_lateness_seconds: u64,
}

impl Default for RuleSetOptions {
    fn default() -> Self {
        RuleSetOptions {
            correlation_max_entries: 1_000_000,
            correlation_lateness_seconds: 60,
        }
    }
}

/// A string-pattern slot: every pattern on one field (or the keywords) in one database.
pub(crate) struct Slot<E: PatternEngine> {
    database: Option<E::Database>,
    /// Engine pattern id → predicates it satisfies.
    pattern_predicates: Vec<Vec<u32>>,
}

/// The rules one route reaches, compiled together.
pub(crate) struct Partition<E: PatternEngine> {
    /// Looked up once per event field: a fast hasher matters here.
    field_slots: HashMap<String, usize, foldhash::fast::RandomState>,
    keyword_slot: Option<usize>,
    slots: Vec<Slot<E>>,
    predicates: Vec<CompiledPredicate>,
    /// Partition rule → (global rule index, expression over predicate indices).
    rules: Vec<(usize, Expr<u32>)>,
    /// Predicate → partition rules that mention it.
    predicate_rules: Vec<Vec<u32>>,
    /// Rules that can be true without any pattern hit.
    always: Vec<u32>,
}

pub(crate) enum CompiledPredicate {
    /// Set by scans; `fallback` patterns (refused by the engine) are checked directly.
    Patterns {
        fallback: Vec<(Target, regex::bytes::Regex)>,
    },
    Direct(Direct),
}

/// Rules compiled for matching. Cheap to share between threads (`Arc`); each thread matches
/// with its own [`Scanner`].
pub struct RuleSet<E: PatternEngine> {
    rules: Vec<RuleInfo>,
    router: Router,
    route_partition: Vec<Option<usize>>,
    partitions: Vec<Partition<E>>,
    pub(crate) correlations: Vec<CorrelationSpec>,
    report: LoadReport,
    options: RuleSetOptions,
    predicate_capacity: usize,
    rule_capacity: usize,
}

impl<E: PatternEngine> std::fmt::Debug for RuleSet<E> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RuleSet")
            .field("engine", &E::NAME)
            .field("rules", &self.rules.len())
            .field("partitions", &self.partitions.len())
            .finish()
    }
}

struct ParsedRule {
    source: String,
    rule: SigmaRule,
}

impl<E: PatternEngine> RuleSet<E> {
    /// Loads and compiles rules. Broken rules are reported in [`RuleSet::report`] and skipped;
    /// only an engine failure on the whole set is an error.
    pub fn compile(
        sources: &[RuleSource],
        mappings: &Mappings,
        options: RuleSetOptions,
        cache: Option<&dyn CompileCache>,
    ) -> Result<RuleSet<E>, DetectorError> {
        Self::build(sources, mappings, options, cache, true)
    }

    fn build(
        sources: &[RuleSource],
        mappings: &Mappings,
        options: RuleSetOptions,
        cache: Option<&dyn CompileCache>,
        with_databases: bool,
    ) -> Result<RuleSet<E>, DetectorError> {
        let mut report = LoadReport::default();
        let mut rules_parsed: Vec<ParsedRule> = Vec::new();
        let mut filters = Vec::new();
        let mut correlations = Vec::new();
        for source in sources {
            for document in parse_rule_file(&source.text) {
                report.documents += 1;
                match document {
                    Ok(SigmaDocument::Rule(rule)) => rules_parsed.push(ParsedRule {
                        source: source.name.clone(),
                        rule,
                    }),
                    Ok(SigmaDocument::Filter(filter)) => filters.push((source.name.clone(), filter)),
                    Ok(SigmaDocument::Correlation(correlation)) => {
                        correlations.push((source.name.clone(), correlation))
                    }
                    Err(error) => report.failures.push(RuleFailure {
                        source: source.name.clone(),
                        title: None,
                        error,
                    }),
                }
            }
        }

        // Ids are unique across rules and correlations.
        let mut seen_ids: HashMap<String, ()> = HashMap::new();
        rules_parsed.retain(|parsed| match &parsed.rule.id {
            Some(id) if seen_ids.insert(id.clone(), ()).is_some() => {
                report.failures.push(RuleFailure {
                    source: parsed.source.clone(),
                    title: Some(parsed.rule.title.clone()),
                    error: RuleError::DuplicateId(id.clone()),
                });
                false
            }
            _ => true,
        });

        for (source, filter) in &filters {
            if let Err(error) = apply_filter(filter, &mut rules_parsed) {
                report.failures.push(RuleFailure {
                    source: source.clone(),
                    title: Some(filter.title.clone()),
                    error,
                });
            }
        }

        // Compile every rule once without a field map: that finds its errors.
        let no_map = HashMap::new();
        let mut compiled_rules: Vec<(ParsedRule, Expr<Predicate>)> = Vec::new();
        for parsed in rules_parsed {
            let context = CompileContext {
                field_map: &no_map,
                placeholders: &mappings.placeholders,
            };
            match compile_detection(&parsed.rule.identifiers, &parsed.rule.condition, &context) {
                Ok(expression) => compiled_rules.push((parsed, expression)),
                Err(error) => report.failures.push(RuleFailure {
                    source: parsed.source.clone(),
                    title: Some(parsed.rule.title.clone()),
                    error,
                }),
            }
        }

        let mut rules: Vec<RuleInfo> = compiled_rules
            .iter()
            .map(|(parsed, _)| RuleInfo {
                id: parsed
                    .rule
                    .id
                    .clone()
                    .unwrap_or_else(|| parsed.rule.title.clone()),
                name: parsed.rule.name.clone(),
                title: parsed.rule.title.clone(),
                level: parsed
                    .rule
                    .level
                    .clone()
                    .unwrap_or_else(|| "informational".to_owned()),
                tags: parsed.rule.tags.clone(),
                source: parsed.source.clone(),
                kind: RuleKind::Detection,
                reported: true,
                routed: false,
            })
            .collect();

        let correlations = compile_correlations(correlations, &mut rules, &mut report);

        // Partitions: one per route, shared by routes that reach the same rules the same way.
        let mut partition_keys: HashMap<Vec<(usize, String)>, usize> = HashMap::new();
        let mut partition_members: Vec<Vec<(usize, Expr<Predicate>)>> = Vec::new();
        let mut route_partition = Vec::with_capacity(mappings.routes.len());
        let mut expression_cache: HashMap<(usize, String), Expr<Predicate>> = HashMap::new();
        for route in &mappings.routes {
            let mut members = Vec::new();
            let mut key = Vec::new();
            for (index, (parsed, plain)) in compiled_rules.iter().enumerate() {
                let Some(field_map) = route.reaches(&parsed.rule.logsource) else {
                    continue;
                };
                rules[index].routed = true;
                let expression = match field_map {
                    None => {
                        key.push((index, String::new()));
                        plain.clone()
                    }
                    Some(map) => {
                        let map_key = format!("{:?}", map.iter().collect::<BTreeMap<_, _>>());
                        key.push((index, map_key.clone()));
                        expression_cache
                            .entry((index, map_key))
                            .or_insert_with(|| {
                                let context = CompileContext {
                                    field_map: map,
                                    placeholders: &mappings.placeholders,
                                };
                                compile_detection(&parsed.rule.identifiers, &parsed.rule.condition, &context)
                                    .unwrap_or_else(|_| plain.clone())
                            })
                            .clone()
                    }
                };
                members.push((index, expression));
            }
            if members.is_empty() {
                route_partition.push(None);
                continue;
            }
            let next = partition_members.len();
            let partition = *partition_keys.entry(key).or_insert_with(|| {
                partition_members.push(members);
                next
            });
            route_partition.push(Some(partition));
        }

        let mut partitions = Vec::with_capacity(partition_members.len());
        if !with_databases {
            partition_members.clear();
            route_partition.iter_mut().for_each(|partition| *partition = None);
        }
        for members in partition_members {
            partitions.push(build_partition::<E>(members, cache)?);
        }
        let predicate_capacity = partitions
            .iter()
            .map(|partition| partition.predicates.len())
            .max()
            .unwrap_or(0);
        let rule_capacity = partitions
            .iter()
            .map(|partition| partition.rules.len())
            .max()
            .unwrap_or(0);
        Ok(RuleSet {
            rules,
            router: Router::new(&mappings.routes),
            route_partition,
            partitions,
            correlations,
            report,
            options,
            predicate_capacity,
            rule_capacity,
        })
    }

    /// Loads rules without building pattern databases: the load report and rule list of
    /// [`RuleSet::compile`] at a fraction of the cost. The result cannot match events.
    pub fn check(sources: &[RuleSource], mappings: &Mappings) -> Result<RuleSet<E>, DetectorError> {
        Self::build(sources, mappings, RuleSetOptions::default(), None, false)
    }

    /// Every loaded rule, detection rules first; matches refer to rules by index in this list.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// Whether there are no correlation rules.
    pub fn correlations_empty(&self) -> bool {
        self.correlations.is_empty()
    }

    /// What loading found.
    pub fn report(&self) -> &LoadReport {
        &self.report
    }

    /// The options it was built with.
    pub fn options(&self) -> &RuleSetOptions {
        &self.options
    }

    /// Number of compiled partitions (distinct routed rule groups).
    pub fn partition_count(&self) -> usize {
        self.partitions.len()
    }

    /// A scanner for one thread.
    pub fn scanner(self: &Arc<Self>) -> Result<Scanner<E>, DetectorError> {
        let mut scratch = E::new_scratch();
        for partition in &self.partitions {
            for slot in &partition.slots {
                if let Some(database) = &slot.database {
                    E::prepare_scratch(database, &mut scratch).map_err(DetectorError::Engine)?;
                }
            }
        }
        Ok(Scanner {
            ruleset: Arc::clone(self),
            scratch,
            generation: 0,
            predicate_stamp: vec![0; self.predicate_capacity],
            direct_stamp: vec![0; self.predicate_capacity],
            direct_value: vec![false; self.predicate_capacity],
            rule_stamp: vec![0; self.rule_capacity],
            candidates: Vec::new(),
            text: String::new(),
        })
    }
}

/// Adds a filter's selections to the rules it names: `rule and not filter`.
fn apply_filter(filter: &SigmaFilter, rules: &mut [ParsedRule]) -> Result<(), RuleError> {
    for reference in &filter.rules {
        let rule = rules
            .iter_mut()
            .find(|parsed| {
                parsed.rule.id.as_deref() == Some(reference) || parsed.rule.name.as_deref() == Some(reference)
            })
            .ok_or_else(|| RuleError::UnknownReference(reference.clone()))?;
        let prefix = format!("_filter_{}_", filter.id.as_deref().unwrap_or(&filter.title));
        for (name, identifier) in &filter.identifiers {
            rule.rule
                .identifiers
                .push((format!("{prefix}{name}"), identifier.clone()));
        }
        let renamed = rename_condition(&filter.condition, &prefix);
        let original = std::mem::replace(&mut rule.rule.condition, Condition::Identifier(String::new()));
        rule.rule.condition = Condition::And(vec![original, Condition::Not(Box::new(renamed))]);
    }
    Ok(())
}

fn rename_condition(condition: &Condition, prefix: &str) -> Condition {
    match condition {
        Condition::Identifier(name) => Condition::Identifier(format!("{prefix}{name}")),
        Condition::And(terms) => {
            Condition::And(terms.iter().map(|term| rename_condition(term, prefix)).collect())
        }
        Condition::Or(terms) => {
            Condition::Or(terms.iter().map(|term| rename_condition(term, prefix)).collect())
        }
        Condition::Not(inner) => Condition::Not(Box::new(rename_condition(inner, prefix))),
        Condition::Of { count, pattern } => Condition::Of {
            count: *count,
            pattern: if pattern == "them" {
                format!("{prefix}*")
            } else {
                format!("{prefix}{pattern}")
            },
        },
    }
}

fn slot_cache_key<E: PatternEngine>(patterns: &[PatternSpec]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(E::NAME.as_bytes());
    hasher.update(b"\0haidang-slot-v1\0");
    for pattern in patterns {
        hasher.update(pattern.expression.as_bytes());
        hasher.update(&[
            0,
            u8::from(pattern.caseless),
            u8::from(pattern.multi_line),
            u8::from(pattern.dot_all),
            u8::from(pattern.utf8),
        ]);
    }
    hasher.finalize().to_hex().to_string()
}

/// Compiles a slot's patterns, moving refused ones to `refused`. Uses the cache when it can.
fn compile_slot<E: PatternEngine>(
    patterns: &[PatternSpec],
    cache: Option<&dyn CompileCache>,
) -> Result<(Option<E::Database>, Vec<bool>), DetectorError> {
    let key = slot_cache_key::<E>(patterns);
    if let Some(bytes) = cache.and_then(|cache| cache.load(&key))
        && let Some((accepted, database)) = decode_slot::<E>(&bytes, patterns.len())
    {
        return Ok((database, accepted));
    }
    let mut accepted: Vec<bool> = patterns.iter().map(E::accepts).collect();
    let database = loop {
        let chosen: Vec<PatternSpec> = patterns
            .iter()
            .zip(&accepted)
            .filter(|(_, accepted)| **accepted)
            .map(|(pattern, _)| pattern.clone())
            .collect();
        if chosen.is_empty() {
            break None;
        }
        match E::compile(&chosen) {
            Ok(database) => break Some(database),
            Err(failure) => {
                let Some(bad) = failure.pattern else {
                    return Err(DetectorError::Engine(failure.message));
                };
                // Map the index among chosen patterns back to the slot's pattern.
                let slot_index = accepted
                    .iter()
                    .enumerate()
                    .filter(|(_, accepted)| **accepted)
                    .nth(bad)
                    .map(|(index, _)| index)
                    .ok_or_else(|| DetectorError::Engine(failure.message.clone()))?;
                accepted[slot_index] = false;
            }
        }
    };
    if let Some(cache) = cache {
        let mut bytes = Vec::new();
        bytes.extend(accepted.iter().map(|&flag| u8::from(flag)));
        if let Some(database) = &database {
            bytes.extend(E::serialize(database).map_err(DetectorError::Engine)?);
        }
        cache.store(&key, &bytes);
    }
    Ok((database, accepted))
}

type DecodedSlot<D> = (Vec<bool>, Option<D>);

fn decode_slot<E: PatternEngine>(bytes: &[u8], count: usize) -> Option<DecodedSlot<E::Database>> {
    if bytes.len() < count {
        return None;
    }
    let (flags, rest) = bytes.split_at(count);
    let accepted: Vec<bool> = flags.iter().map(|&flag| flag == 1).collect();
    let database = if accepted.iter().any(|&flag| flag) {
        Some(E::deserialize(rest).ok()?)
    } else {
        None
    };
    Some((accepted, database))
}

fn build_partition<E: PatternEngine>(
    members: Vec<(usize, Expr<Predicate>)>,
    cache: Option<&dyn CompileCache>,
) -> Result<Partition<E>, DetectorError> {
    let mut predicate_ids: HashMap<Predicate, u32> = HashMap::new();
    let mut predicate_list: Vec<Predicate> = Vec::new();
    let mut rules = Vec::with_capacity(members.len());
    for (rule_index, expression) in members {
        let expression = expression.map(&mut |predicate: Predicate| {
            let next = predicate_list.len() as u32;
            *predicate_ids.entry(predicate.clone()).or_insert_with(|| {
                predicate_list.push(predicate);
                next
            })
        });
        rules.push((rule_index, expression));
    }

    // Slots: patterns grouped by target, deduplicated.
    let mut slot_index: BTreeMap<Target, usize> = BTreeMap::new();
    let mut slot_patterns: Vec<Vec<PatternSpec>> = Vec::new();
    let mut slot_pattern_ids: Vec<HashMap<PatternSpec, usize>> = Vec::new();
    let mut slot_pattern_predicates: Vec<Vec<Vec<u32>>> = Vec::new();
    for (predicate_index, predicate) in predicate_list.iter().enumerate() {
        let Predicate::Patterns { target, patterns } = predicate else {
            continue;
        };
        let slot = *slot_index.entry(target.clone()).or_insert_with(|| {
            slot_patterns.push(Vec::new());
            slot_pattern_ids.push(HashMap::new());
            slot_pattern_predicates.push(Vec::new());
            slot_patterns.len() - 1
        });
        for pattern in patterns {
            let next = slot_patterns[slot].len();
            let id = *slot_pattern_ids[slot].entry(pattern.clone()).or_insert_with(|| {
                slot_patterns[slot].push(pattern.clone());
                slot_pattern_predicates[slot].push(Vec::new());
                next
            });
            slot_pattern_predicates[slot][id].push(predicate_index as u32);
        }
    }

    let mut predicates: Vec<CompiledPredicate> = predicate_list
        .iter()
        .map(|predicate| match predicate {
            Predicate::Patterns { .. } => CompiledPredicate::Patterns { fallback: Vec::new() },
            Predicate::Direct(direct) => CompiledPredicate::Direct(direct.clone()),
        })
        .collect();

    let mut slots = Vec::with_capacity(slot_patterns.len());
    let targets: Vec<Target> = {
        let mut targets = vec![Target::Keywords; slot_patterns.len()];
        for (target, &index) in &slot_index {
            targets[index] = target.clone();
        }
        targets
    };
    for (slot, patterns) in slot_patterns.iter().enumerate() {
        let (database, accepted) = compile_slot::<E>(patterns, cache)?;
        // Engine ids count accepted patterns only.
        let mut pattern_predicates = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            if accepted[index] {
                pattern_predicates.push(slot_pattern_predicates[slot][index].clone());
            } else {
                let regex = pattern.compile_regex().map_err(DetectorError::Engine)?;
                for &predicate in &slot_pattern_predicates[slot][index] {
                    if let CompiledPredicate::Patterns { fallback } = &mut predicates[predicate as usize] {
                        fallback.push((targets[slot].clone(), regex.clone()));
                    }
                }
            }
        }
        slots.push(Slot {
            database,
            pattern_predicates,
        });
    }

    let mut predicate_rules: Vec<Vec<u32>> = vec![Vec::new(); predicates.len()];
    let mut always = Vec::new();
    for (rule, (_, expression)) in rules.iter().enumerate() {
        let mut mentioned = Vec::new();
        let verdict = expression.evaluate3(&mut |&predicate: &u32| {
            mentioned.push(predicate);
            match &predicates[predicate as usize] {
                CompiledPredicate::Patterns { fallback } if fallback.is_empty() => Some(false),
                _ => None,
            }
        });
        // evaluate3 short-circuits; collect every mentioned predicate separately.
        mentioned.clear();
        expression
            .clone()
            .map(&mut |predicate: u32| mentioned.push(predicate));
        mentioned.sort_unstable();
        mentioned.dedup();
        for predicate in mentioned {
            predicate_rules[predicate as usize].push(rule as u32);
        }
        if verdict != Some(false) {
            always.push(rule as u32);
        }
    }

    let mut field_slots = HashMap::with_hasher(foldhash::fast::RandomState::default());
    let mut keyword_slot = None;
    for (target, index) in slot_index {
        match target {
            Target::Field(name) => {
                field_slots.insert(name, index);
            }
            Target::Keywords => keyword_slot = Some(index),
        }
    }
    Ok(Partition {
        field_slots,
        keyword_slot,
        slots,
        predicates,
        rules,
        predicate_rules,
        always,
    })
}

/// Matches events against a rule set. One per thread: it owns the engine's scratch space and
/// per-event working memory, so matching allocates nothing in the steady state.
pub struct Scanner<E: PatternEngine> {
    ruleset: Arc<RuleSet<E>>,
    scratch: E::Scratch,
    generation: u32,
    predicate_stamp: Vec<u32>,
    direct_stamp: Vec<u32>,
    direct_value: Vec<bool>,
    rule_stamp: Vec<u32>,
    candidates: Vec<u32>,
    text: String,
}

impl<E: PatternEngine> Scanner<E> {
    /// The rule set it matches against.
    pub fn ruleset(&self) -> &Arc<RuleSet<E>> {
        &self.ruleset
    }

    /// Appends to `matches` the indices (into [`RuleSet::rules`]) of the detection rules the
    /// event satisfies, in increasing order. Returns false when no route takes the event.
    pub fn scan(&mut self, event: &Event, matches: &mut Vec<usize>) -> bool {
        let ruleset = Arc::clone(&self.ruleset);
        let Some(route) = ruleset.router.route(event) else {
            return false;
        };
        let Some(partition_index) = ruleset.route_partition[route] else {
            return true;
        };
        let partition = &ruleset.partitions[partition_index];

        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.predicate_stamp.iter_mut().for_each(|stamp| *stamp = 0);
            self.direct_stamp.iter_mut().for_each(|stamp| *stamp = 0);
            self.rule_stamp.iter_mut().for_each(|stamp| *stamp = 0);
            self.generation = 1;
        }
        let generation = self.generation;
        self.candidates.clear();
        for &rule in &partition.always {
            self.rule_stamp[rule as usize] = generation;
            self.candidates.push(rule);
        }

        let mut number_text = std::mem::take(&mut self.text);
        for (name, value) in event.fields.iter() {
            let field_slot = partition.field_slots.get(name).copied();
            if field_slot.is_none() && partition.keyword_slot.is_none() {
                continue;
            }
            let text: &str = match value {
                Value::Str(text) => text,
                Value::Null => continue,
                other => {
                    number_text.clear();
                    use std::fmt::Write as _;
                    let _ = write!(number_text, "{other}");
                    &number_text
                }
            };
            for slot in [field_slot, partition.keyword_slot].into_iter().flatten() {
                let slot = &partition.slots[slot];
                let Some(database) = &slot.database else { continue };
                let predicate_stamp = &mut self.predicate_stamp;
                let rule_stamp = &mut self.rule_stamp;
                let candidates = &mut self.candidates;
                E::scan(database, &mut self.scratch, text.as_bytes(), &mut |pattern| {
                    for &predicate in &slot.pattern_predicates[pattern as usize] {
                        if predicate_stamp[predicate as usize] != generation {
                            predicate_stamp[predicate as usize] = generation;
                            for &rule in &partition.predicate_rules[predicate as usize] {
                                if rule_stamp[rule as usize] != generation {
                                    rule_stamp[rule as usize] = generation;
                                    candidates.push(rule);
                                }
                            }
                        }
                    }
                });
            }
        }

        self.text = number_text;
        let first_match = matches.len();
        let candidates = std::mem::take(&mut self.candidates);
        for &rule in &candidates {
            let (rule_index, expression) = &partition.rules[rule as usize];
            let predicate_stamp = &self.predicate_stamp;
            let direct_stamp = &mut self.direct_stamp;
            let direct_value = &mut self.direct_value;
            let matched = expression.evaluate(&mut |&predicate: &u32| {
                let index = predicate as usize;
                match &partition.predicates[index] {
                    CompiledPredicate::Patterns { fallback } => {
                        if predicate_stamp[index] == generation {
                            return true;
                        }
                        if fallback.is_empty() {
                            return false;
                        }
                        if direct_stamp[index] != generation {
                            direct_stamp[index] = generation;
                            direct_value[index] = fallback
                                .iter()
                                .any(|(target, regex)| crate::evaluate::regex_matches(event, target, regex));
                        }
                        direct_value[index]
                    }
                    CompiledPredicate::Direct(direct) => {
                        if direct_stamp[index] != generation {
                            direct_stamp[index] = generation;
                            direct_value[index] = evaluate_direct(direct, event);
                        }
                        direct_value[index]
                    }
                }
            });
            if matched {
                matches.push(*rule_index);
            }
        }
        self.candidates = candidates;
        matches[first_match..].sort_unstable();
        true
    }
}
