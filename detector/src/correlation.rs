//! Correlation rules: windows of rule matches per group key, under a hard memory bound.
//!
//! Entries are kept per (correlation, group key) in time order. An event may arrive late by up to
//! the configured lateness and still count in every window it belongs to; later than that it is
//! counted as dropped. Conditions with a lower bound (`gt`, `gte`, `eq`...) fire as soon as a window
//! satisfies them; conditions with only upper bounds (`lt`, `lte`) are judged when a window closes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use haidang_event::Event;

use crate::engine::PatternEngine;
use crate::error::RuleError;
use crate::ruleset::{LoadReport, RuleFailure, RuleInfo, RuleKind, RuleSet};
use crate::sigma::{Comparison, CorrelationType, SigmaCorrelation};

/// A compiled correlation.
#[derive(Clone, Debug)]
pub(crate) struct CorrelationSpec {
    rule_index: usize,
    kind: CorrelationType,
    members: Vec<usize>,
    /// Per group-by entry: the field to read for each member.
    group_fields: Vec<(String, Vec<String>)>,
    timespan_nanos: i64,
    condition: Vec<Comparison>,
    field: Option<String>,
    percentile: f64,
    judged_at_close: bool,
}

pub(crate) fn compile_correlations(
    correlations: Vec<(String, SigmaCorrelation)>,
    rules: &mut Vec<RuleInfo>,
    report: &mut LoadReport,
) -> Vec<CorrelationSpec> {
    let mut pending = correlations;
    let mut specs = Vec::new();
    loop {
        let before = pending.len();
        let mut still_pending = Vec::new();
        for (source, correlation) in pending {
            let resolved: Result<Vec<usize>, String> = correlation
                .rules
                .iter()
                .map(|reference| {
                    rules
                        .iter()
                        .position(|rule| rule.id == *reference || rule.name.as_deref() == Some(reference))
                        .ok_or_else(|| reference.clone())
                })
                .collect();
            match resolved {
                Ok(members) => {
                    let rule_index = rules.len();
                    if !correlation.generate {
                        for &member in &members {
                            rules[member].reported = false;
                        }
                    }
                    rules.push(RuleInfo {
                        id: correlation
                            .id
                            .clone()
                            .unwrap_or_else(|| correlation.title.clone()),
                        name: correlation.name.clone(),
                        title: correlation.title.clone(),
                        level: correlation
                            .level
                            .clone()
                            .unwrap_or_else(|| "informational".to_owned()),
                        tags: correlation.tags.clone(),
                        source,
                        kind: RuleKind::Correlation,
                        reported: true,
                        routed: true,
                    });
                    let group_fields = correlation
                        .group_by
                        .iter()
                        .map(|group| {
                            let alias = correlation.aliases.iter().find(|(alias, _)| alias == group);
                            let per_member = members
                                .iter()
                                .map(|&member| {
                                    alias
                                        .and_then(|(_, fields)| {
                                            fields
                                                .iter()
                                                .find(|(rule, _)| {
                                                    rules[member].name.as_deref() == Some(rule.as_str())
                                                        || rules[member].id == *rule
                                                })
                                                .map(|(_, field)| field.clone())
                                        })
                                        .unwrap_or_else(|| group.clone())
                                })
                                .collect();
                            (group.clone(), per_member)
                        })
                        .collect();
                    let has_lower_bound = correlation.condition.iter().any(|comparison| {
                        matches!(
                            comparison,
                            Comparison::Gt(_) | Comparison::Gte(_) | Comparison::Eq(_)
                        )
                    });
                    specs.push(CorrelationSpec {
                        rule_index,
                        kind: correlation.kind,
                        members,
                        group_fields,
                        timespan_nanos: (correlation.timespan_seconds as i64).saturating_mul(1_000_000_000),
                        judged_at_close: !correlation.condition.is_empty() && !has_lower_bound,
                        condition: correlation.condition.clone(),
                        field: correlation.field.clone(),
                        // The median is the 50th percentile, also the default percentile.
                        percentile: correlation.percentile.unwrap_or(50.0),
                    });
                }
                Err(missing) => still_pending.push((source, correlation, missing)),
            }
        }
        if still_pending.len() == before || still_pending.is_empty() {
            for (source, correlation, missing) in still_pending {
                report.failures.push(RuleFailure {
                    source,
                    title: Some(correlation.title),
                    error: RuleError::UnknownReference(missing),
                });
            }
            return specs;
        }
        pending = still_pending
            .into_iter()
            .map(|(source, correlation, _)| (source, correlation))
            .collect();
    }
}

/// A correlation that fired.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationMatch {
    /// The correlation rule's index in [`RuleSet::rules`].
    pub rule_index: usize,
    /// The group-by values.
    pub group: Vec<(String, String)>,
    /// The aggregate that met the condition (count, distinct values, sum...).
    pub value: f64,
    /// Time of the first and last event in the window (ns since the epoch).
    pub first_nanos: i64,
    /// Time of the last event in the window.
    pub last_nanos: i64,
    /// How many rule matches the window held.
    pub events: usize,
}

#[derive(Clone, Debug)]
struct Entry {
    nanos: i64,
    member: usize,
    value: Option<String>,
}

#[derive(Debug, Default)]
struct Group {
    entries: VecDeque<Entry>,
    last_nanos: i64,
}

/// Counters a correlator reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorrelationStats {
    /// Entries dropped because the memory bound was reached (oldest groups first).
    pub overflow_evicted: u64,
    /// Matches that arrived later than the allowed lateness.
    pub late_dropped: u64,
    /// Entries held now.
    pub entries: usize,
}

/// Correlation state for one stream of events.
pub struct Correlator {
    specs: Vec<CorrelationSpec>,
    member_of: HashMap<usize, Vec<(usize, usize)>>,
    groups: Vec<HashMap<Vec<String>, Group>>,
    watermark: i64,
    lateness_nanos: i64,
    max_entries: usize,
    stats: CorrelationStats,
}

impl Correlator {
    /// A correlator for a rule set's correlations.
    pub fn new<E: PatternEngine>(ruleset: &Arc<RuleSet<E>>) -> Correlator {
        let specs = ruleset.correlations.clone();
        let mut member_of: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
        for (spec_index, spec) in specs.iter().enumerate() {
            for (position, &member) in spec.members.iter().enumerate() {
                member_of.entry(member).or_default().push((spec_index, position));
            }
        }
        Correlator {
            groups: specs.iter().map(|_| HashMap::new()).collect(),
            specs,
            member_of,
            watermark: i64::MIN,
            lateness_nanos: (ruleset.options().correlation_lateness_seconds as i64)
                .saturating_mul(1_000_000_000),
            max_entries: ruleset.options().correlation_max_entries.max(1),
            stats: CorrelationStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> CorrelationStats {
        CorrelationStats {
            entries: self.total_entries(),
            ..self.stats.clone()
        }
    }

    fn total_entries(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|groups| groups.values())
            .map(|group| group.entries.len())
            .sum()
    }

    /// Feeds one event's rule matches (indices into the rule set). Returns the correlations that
    /// fired, including chained ones.
    pub fn process(&mut self, event: &Event, matched_rules: &[usize]) -> Vec<CorrelationMatch> {
        let mut fired = Vec::new();
        if self.specs.is_empty() {
            return fired;
        }
        let nanos = event.timestamp_nanos.unwrap_or(if self.watermark == i64::MIN {
            0
        } else {
            self.watermark
        });
        if nanos > self.watermark {
            self.watermark = nanos;
            fired.extend(self.close_windows());
        }
        let mut queue: Vec<usize> = matched_rules.to_vec();
        let mut depth = 0;
        while !queue.is_empty() && depth < 8 {
            let mut next = Vec::new();
            for rule in queue {
                let Some(memberships) = self.member_of.get(&rule).cloned() else {
                    continue;
                };
                for (spec_index, position) in memberships {
                    if let Some(found) = self.insert(spec_index, position, nanos, event) {
                        next.push(found.rule_index);
                        fired.push(found);
                    }
                }
            }
            queue = next;
            depth += 1;
        }
        fired
    }

    /// Judges every open window (end of input).
    pub fn flush(&mut self) -> Vec<CorrelationMatch> {
        self.watermark = i64::MAX;
        self.close_windows()
    }

    fn insert(
        &mut self,
        spec_index: usize,
        position: usize,
        nanos: i64,
        event: &Event,
    ) -> Option<CorrelationMatch> {
        let spec = &self.specs[spec_index];
        let mut key = Vec::with_capacity(spec.group_fields.len());
        for (_, per_member) in &spec.group_fields {
            let field = &per_member[position];
            key.push(
                event
                    .fields
                    .get(field)
                    .and_then(|value| value.as_text())
                    .map(|text| text.into_owned())
                    .unwrap_or_default(),
            );
        }
        if nanos < self.watermark.saturating_sub(self.lateness_nanos) {
            self.stats.late_dropped += 1;
            return None;
        }
        let value = spec.field.as_ref().map(|field| {
            field
                .split(',')
                .map(|part| {
                    event
                        .fields
                        .get(part.trim())
                        .and_then(|value| value.as_text())
                        .map(|text| text.into_owned())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("\u{1f}")
        });
        let horizon = self
            .watermark
            .saturating_sub(self.lateness_nanos)
            .saturating_sub(spec.timespan_nanos);
        let group = self.groups[spec_index].entry(key.clone()).or_default();
        while group.entries.front().is_some_and(|entry| entry.nanos < horizon) && !spec.judged_at_close {
            group.entries.pop_front();
        }
        let at = group.entries.partition_point(|entry| entry.nanos <= nanos);
        group.entries.insert(
            at,
            Entry {
                nanos,
                member: position,
                value,
            },
        );
        group.last_nanos = group.last_nanos.max(nanos);

        let mut result = None;
        if !spec.judged_at_close {
            // Every window [end - timespan, end] that now holds the new entry.
            let ends: Vec<i64> = group
                .entries
                .iter()
                .skip(at)
                .map(|entry| entry.nanos)
                .take_while(|&end| end <= nanos.saturating_add(spec.timespan_nanos))
                .collect();
            for end in ends {
                let window: Vec<&Entry> = group
                    .entries
                    .iter()
                    .filter(|entry| {
                        entry.nanos >= end.saturating_sub(spec.timespan_nanos) && entry.nanos <= end
                    })
                    .collect();
                if let Some(value) = judge(spec, &window) {
                    result = Some(CorrelationMatch {
                        rule_index: spec.rule_index,
                        group: spec
                            .group_fields
                            .iter()
                            .map(|(name, _)| name.clone())
                            .zip(key.iter().cloned())
                            .collect(),
                        value,
                        first_nanos: window.first().map_or(nanos, |entry| entry.nanos),
                        last_nanos: window.last().map_or(nanos, |entry| entry.nanos),
                        events: window.len(),
                    });
                    break;
                }
            }
            if result.is_some() {
                group.entries.clear();
            }
        }
        if self.total_entries() > self.max_entries {
            self.evict();
        }
        result
    }

    fn evict(&mut self) {
        let target = self.max_entries - self.max_entries / 10;
        let mut all: Vec<(i64, usize, Vec<String>, usize)> = Vec::new();
        for (spec_index, groups) in self.groups.iter().enumerate() {
            for (key, group) in groups {
                all.push((group.last_nanos, spec_index, key.clone(), group.entries.len()));
            }
        }
        all.sort_by_key(|(last, ..)| *last);
        let mut total: usize = all.iter().map(|(.., count)| count).sum();
        for (_, spec_index, key, count) in all {
            if total <= target {
                break;
            }
            self.groups[spec_index].remove(&key);
            total -= count;
            self.stats.overflow_evicted += count as u64;
        }
    }

    fn close_windows(&mut self) -> Vec<CorrelationMatch> {
        let mut fired = Vec::new();
        let closed_before = self.watermark.saturating_sub(self.lateness_nanos);
        for (spec_index, spec) in self.specs.iter().enumerate() {
            let groups = &mut self.groups[spec_index];
            let mut empty = Vec::new();
            for (key, group) in groups.iter_mut() {
                if spec.judged_at_close {
                    while let Some(first) = group.entries.front() {
                        let end = first.nanos.saturating_add(spec.timespan_nanos);
                        if end >= closed_before {
                            break;
                        }
                        let window: Vec<&Entry> =
                            group.entries.iter().filter(|entry| entry.nanos <= end).collect();
                        if let Some(value) = judge(spec, &window) {
                            fired.push(CorrelationMatch {
                                rule_index: spec.rule_index,
                                group: spec
                                    .group_fields
                                    .iter()
                                    .map(|(name, _)| name.clone())
                                    .zip(key.iter().cloned())
                                    .collect(),
                                value,
                                first_nanos: window.first().map_or(0, |entry| entry.nanos),
                                last_nanos: window.last().map_or(0, |entry| entry.nanos),
                                events: window.len(),
                            });
                        }
                        let count = window.len();
                        group.entries.drain(..count);
                    }
                } else {
                    let horizon = closed_before.saturating_sub(spec.timespan_nanos);
                    while group.entries.front().is_some_and(|entry| entry.nanos < horizon) {
                        group.entries.pop_front();
                    }
                }
                if group.entries.is_empty() {
                    empty.push(key.clone());
                }
            }
            for key in empty {
                groups.remove(&key);
            }
        }
        fired
    }
}

/// The window's aggregate if the correlation's condition holds on it.
fn judge(spec: &CorrelationSpec, window: &[&Entry]) -> Option<f64> {
    let value = match spec.kind {
        CorrelationType::EventCount => window.len() as f64,
        CorrelationType::ValueCount => window
            .iter()
            .filter_map(|entry| entry.value.as_deref().filter(|value| !value.is_empty()))
            .collect::<HashSet<_>>()
            .len() as f64,
        CorrelationType::Temporal => {
            let seen: HashSet<usize> = window.iter().map(|entry| entry.member).collect();
            if spec.condition.is_empty() {
                return (seen.len() == spec.members.len()).then_some(seen.len() as f64);
            }
            seen.len() as f64
        }
        CorrelationType::TemporalOrdered => {
            let mut next = 0;
            for entry in window {
                if entry.member == next {
                    next += 1;
                    if next == spec.members.len() {
                        break;
                    }
                }
            }
            if spec.condition.is_empty() {
                return (next == spec.members.len()).then_some(next as f64);
            }
            next as f64
        }
        CorrelationType::ValueSum
        | CorrelationType::ValueAvg
        | CorrelationType::ValuePercentile
        | CorrelationType::ValueMedian => {
            let mut numbers: Vec<f64> = window
                .iter()
                .filter_map(|entry| entry.value.as_deref().and_then(|value| value.trim().parse().ok()))
                .collect();
            if numbers.is_empty() {
                return None;
            }
            match spec.kind {
                CorrelationType::ValueSum => numbers.iter().sum(),
                CorrelationType::ValueAvg => numbers.iter().sum::<f64>() / numbers.len() as f64,
                _ => {
                    numbers.sort_by(|left, right| left.total_cmp(right));
                    let percentile = if spec.kind == CorrelationType::ValueMedian {
                        50.0
                    } else {
                        spec.percentile
                    };
                    let rank = ((percentile / 100.0) * (numbers.len() - 1) as f64).round() as usize;
                    numbers[rank.min(numbers.len() - 1)]
                }
            }
        }
    };
    spec.condition
        .iter()
        .all(|comparison| comparison.holds(value))
        .then_some(value)
}
