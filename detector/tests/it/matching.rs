//! Every modifier, condition form and escaping rule, on both engines.

use haidang_detector::PatternEngine;
use haidang_event::Value;

use crate::helpers::{event, fires, rule, s};

/// Checks a detection section against events: each case is (fields, expected).
fn check<E: PatternEngine>(detection: &str, cases: &[(&[(&str, Value)], bool)]) {
    let text = rule(detection);
    for (fields, expected) in cases {
        assert_eq!(
            fires::<E>(&text, &event(fields)),
            *expected,
            "detection:\n{detection}\nfields: {fields:?}"
        );
    }
}

fn plain_values_are_exact_and_case_insensitive<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    User: Administrator\n  condition: sel",
        &[
            (&[("User", s("administrator"))], true),
            (&[("User", s("ADMINISTRATOR"))], true),
            (&[("User", s("Administrator2"))], false),
            (&[("Other", s("Administrator"))], false),
        ],
    );
}

fn wildcards_star_and_question<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    Image: 'C:\\Windows\\\\*\\cmd?.exe'\n  condition: sel",
        &[
            (&[("Image", s("C:\\Windows\\System32\\cmd1.exe"))], true),
            (&[("Image", s("C:\\Windows\\a\\b\\cmdX.exe"))], true),
            (&[("Image", s("C:\\Windows\\System32\\cmd.exe"))], false),
        ],
    );
}

fn escaped_wildcards_are_literal<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    Field: 'a\\*b\\?c'\n  condition: sel",
        &[
            (&[("Field", s("a*b?c"))], true),
            (&[("Field", s("aXXbYc"))], false),
        ],
    );
}

fn backslash_before_wildcard_and_trailing_backslash<E: PatternEngine>() {
    // `\\*` is a backslash then a wildcard.
    check::<E>(
        "  sel:\n    Field: 'C:\\\\*'\n  condition: sel",
        &[
            (&[("Field", s("C:\\anything"))], true),
            (&[("Field", s("C:/x"))], false),
        ],
    );
    // A trailing single backslash is literal.
    check::<E>(
        "  sel:\n    Field|endswith: 'Temp\\'\n  condition: sel",
        &[
            (&[("Field", s("C:\\Temp\\"))], true),
            (&[("Field", s("C:\\Temp"))], false),
        ],
    );
}

fn unc_paths_need_four_backslashes<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    Path|startswith: '\\\\\\\\server\\share'\n  condition: sel",
        &[
            (&[("Path", s("\\\\server\\share\\x"))], true),
            (&[("Path", s("\\server\\share\\x"))], false),
        ],
    );
}

fn percent_variables_without_expand_are_literal<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    CommandLine|contains: '%APPDATA%'\n  condition: sel",
        &[
            (&[("CommandLine", s("copy x %appdata%\\y"))], true),
            (&[("CommandLine", s("C:\\Users\\a\\AppData"))], false),
        ],
    );
}

fn contains_startswith_endswith<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    A|contains: mid\n    B|startswith: pre\n    C|endswith: post\n  condition: sel",
        &[
            (&[("A", s("xmidx")), ("B", s("prefix")), ("C", s("xpost"))], true),
            (
                &[("A", s("xmidx")), ("B", s("xprefix")), ("C", s("xpost"))],
                false,
            ),
            (&[("A", s("xmidx")), ("B", s("prefix")), ("C", s("postx"))], false),
        ],
    );
}

fn lists_are_or_and_all_makes_them_and<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    A|contains: [one, two]\n  condition: sel",
        &[(&[("A", s("two"))], true), (&[("A", s("three"))], false)],
    );
    check::<E>(
        "  sel:\n    A|contains|all: [one, two]\n  condition: sel",
        &[(&[("A", s("one two"))], true), (&[("A", s("two"))], false)],
    );
}

fn list_of_maps_is_or_and_map_is_and<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    - A: 1\n      B: 2\n    - C: 3\n  condition: sel",
        &[
            (&[("A", Value::Int(1)), ("B", Value::Int(2))], true),
            (&[("A", Value::Int(1))], false),
            (&[("C", s("3"))], true),
        ],
    );
}

fn numbers_match_as_text<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    EventID: 4688\n  condition: sel",
        &[
            (&[("EventID", Value::Int(4688))], true),
            (&[("EventID", s("4688"))], true),
            (&[("EventID", Value::Int(46880))], false),
        ],
    );
}

fn null_and_empty_values<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    A: x\n  empty:\n    B: ''\n  condition: sel and empty",
        &[
            (&[("A", s("x")), ("B", s(""))], true),
            (&[("A", s("x")), ("B", s("y"))], false),
            (&[("A", s("x"))], false),
        ],
    );
    check::<E>(
        "  sel:\n    A: x\n  nothing:\n    B: null\n  condition: sel and nothing",
        &[
            (&[("A", s("x"))], true),
            (&[("A", s("x")), ("B", Value::Null)], true),
            (&[("A", s("x")), ("B", s("y"))], false),
        ],
    );
}

fn keywords_and_keywords_all<E: PatternEngine>() {
    check::<E>(
        "  keywords:\n    - mimikatz\n    - 'sekurlsa::'\n  condition: keywords",
        &[
            (&[("Anything", s("ran MIMIKATZ today"))], true),
            (&[("Anything", s("benign"))], false),
        ],
    );
    check::<E>(
        "  keywords:\n    '|all':\n      - OabVirtualDirectory\n      - ' -ExternalUrl '\n  condition: keywords",
        &[
            (
                &[("Payload", s("Set-OabVirtualDirectory -ExternalUrl http://x"))],
                true,
            ),
            (&[("Payload", s("Set-OabVirtualDirectory"))], false),
        ],
    );
}

fn re_with_flags<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    A|re: 'ab+c'\n  condition: sel",
        &[(&[("A", s("xabbbcx"))], true), (&[("A", s("ABC"))], false)],
    );
    check::<E>(
        "  sel:\n    A|re|i: '^ab+c'\n  condition: sel",
        &[(&[("A", s("ABBC"))], true), (&[("A", s("xabc"))], false)],
    );
    check::<E>(
        "  sel:\n    A|re|m: '^second'\n  condition: sel",
        &[
            (&[("A", s("first\nsecond"))], true),
            (&[("A", s("first second"))], false),
        ],
    );
    check::<E>(
        "  sel:\n    A|re|s: 'a.b'\n  condition: sel",
        &[(&[("A", s("a\nb"))], true)],
    );
    check::<E>(
        "  sel:\n    A|re: 'a.b'\n  condition: sel",
        &[(&[("A", s("a\nb"))], false), (&[("A", s("axb"))], true)],
    );
}

fn regex_the_engine_refuses_still_works<E: PatternEngine>() {
    // Matches the empty string: kept out of Hyperscan, evaluated directly.
    check::<E>(
        "  sel:\n    A|re: 'x*'\n  condition: sel",
        &[(&[("A", s("anything"))], true), (&[("B", s("anything"))], false)],
    );
    // A non-ASCII class.
    check::<E>(
        "  sel:\n    A|re: '[–-]enc'\n  condition: sel",
        &[
            (&[("A", s("powershell –enc"))], true),
            (&[("A", s("powershell /enc"))], false),
        ],
    );
}

fn base64_and_base64offset<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    A|base64: 'http://'\n  condition: sel",
        &[
            (&[("A", s("aHR0cDovLw=="))], true),
            (&[("A", s("xaHR0cDovLw=="))], false),
        ],
    );
    // "/bin/sh" at any offset inside a base64 text.
    check::<E>(
        "  sel:\n    A|base64offset|contains: '/bin/sh'\n  condition: sel",
        &[
            (&[("A", s("echo L2Jpbi9zaA== | base64 -d"))], true),
            (&[("A", s("eC9iaW4vc2g="))], true),
            (&[("A", s("eHgvYmluL3No"))], true),
            (&[("A", s("aGVsbG8="))], false),
        ],
    );
}

fn utf16_encodings_with_base64<E: PatternEngine>() {
    // "cmd" as UTF-16LE, base64-encoded at every offset: "YwBtAGQA", "MAbQBkA", "jAG0AZA".
    check::<E>(
        "  sel:\n    A|utf16le|base64offset|contains: 'cmd'\n  condition: sel",
        &[
            (&[("A", s("powershell -e YwBtAGQA"))], true),
            (&[("A", s("Y21k"))], false),
        ],
    );
    check::<E>(
        "  sel:\n    A|wide|base64offset|contains: 'cmd'\n  condition: sel",
        &[(&[("A", s("YwBtAGQA"))], true)],
    );
    check::<E>(
        "  sel:\n    A|utf16be|base64|contains: 'cmd'\n  condition: sel",
        &[(&[("A", s("xx AGMAbQBk xx"))], true)],
    );
    check::<E>(
        "  sel:\n    A|utf16|base64: 'cmd'\n  condition: sel",
        &[(&[("A", s("//5jAG0AZAA="))], true)],
    );
}

fn windash_exchanges_dashes<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    CommandLine|windash|contains: ' -enc '\n  condition: sel",
        &[
            (&[("CommandLine", s("powershell -enc AAA"))], true),
            (&[("CommandLine", s("powershell /enc AAA"))], true),
            (&[("CommandLine", s("powershell \u{2013}enc AAA"))], true),
            (&[("CommandLine", s("powershell enc AAA"))], false),
        ],
    );
}

fn cidr_v4_and_v6<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    ip|cidr: ['10.0.0.0/8', 'fd00::/8']\n  condition: sel",
        &[
            (&[("ip", s("10.1.2.3"))], true),
            (&[("ip", s("fd12::1"))], true),
            (&[("ip", s("11.1.2.3"))], false),
            (&[("ip", s("not an ip"))], false),
        ],
    );
}

fn numeric_comparisons<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    n|gt: 10\n    m|lte: 5\n  condition: sel",
        &[
            (&[("n", Value::Int(11)), ("m", s("5"))], true),
            (&[("n", Value::Int(10)), ("m", Value::Int(5))], false),
            (&[("n", Value::Int(11)), ("m", Value::Float(5.5))], false),
        ],
    );
    check::<E>(
        "  sel:\n    n|lt: 3\n    n|gte: 1\n  condition: sel",
        &[(&[("n", Value::Int(2))], true), (&[("n", Value::Int(3))], false)],
    );
}

fn exists_modifier<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    A|exists: true\n    B|exists: false\n  condition: sel",
        &[
            (&[("A", s(""))], true),
            (&[("A", s("x")), ("B", s("y"))], false),
            (&[("C", s("x"))], false),
        ],
    );
}

fn expand_placeholders<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    User|expand: '%Admins%'\n  condition: sel",
        &[
            (&[("User", s("adm_nguyen"))], true),
            (&[("User", s("root"))], true),
            (&[("User", s("guest"))], false),
        ],
    );
}

fn fieldref_and_neq<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    A|fieldref: B\n  condition: sel",
        &[
            (&[("A", s("same")), ("B", s("SAME"))], true),
            (&[("A", s("one")), ("B", s("two"))], false),
        ],
    );
    check::<E>(
        "  sel:\n    A|fieldref|neq: B\n  condition: sel",
        &[
            (&[("A", s("one")), ("B", s("two"))], true),
            (&[("A", s("x")), ("B", s("x"))], false),
        ],
    );
    check::<E>(
        "  sel:\n    A|neq: [xx, yy]\n  condition: sel",
        &[(&[("A", s("zz"))], true), (&[("A", s("yy"))], false)],
    );
}

fn cased_is_case_sensitive<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    A|cased|contains: Mimikatz\n  condition: sel",
        &[
            (&[("A", s("run Mimikatz"))], true),
            (&[("A", s("run mimikatz"))], false),
        ],
    );
}

fn time_modifiers<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    UtcTime|hour|gte: 22\n  condition: sel",
        &[
            (&[("UtcTime", s("2026-11-27 23:10:00.000"))], true),
            (&[("UtcTime", s("2026-11-27 08:10:00.000"))], false),
        ],
    );
}

fn conditions_and_or_not_parentheses<E: PatternEngine>() {
    let detection = "  a:\n    A: 1\n  b:\n    B: 1\n  c:\n    C: 1\n  condition: a and not (b or c)";
    check::<E>(
        detection,
        &[
            (&[("A", s("1"))], true),
            (&[("A", s("1")), ("B", s("1"))], false),
            (&[("A", s("1")), ("C", s("1"))], false),
            (&[("B", s("1"))], false),
        ],
    );
}

fn negation_alone_matches_without_any_hit<E: PatternEngine>() {
    check::<E>(
        "  filter:\n    A: allowed\n  condition: not filter",
        &[(&[("B", s("x"))], true), (&[("A", s("allowed"))], false)],
    );
}

fn of_forms_and_them<E: PatternEngine>() {
    let detection = "  sel_a:\n    A: 1\n  sel_b:\n    B: 1\n  _hidden:\n    H: 1\n  condition: all of them";
    check::<E>(
        detection,
        &[
            (&[("A", s("1")), ("B", s("1"))], true),
            (&[("A", s("1")), ("H", s("1"))], false),
        ],
    );
    let detection = "  sel_a:\n    A: 1\n  sel_b:\n    B: 1\n  filter_x:\n    X: 1\n  condition: 1 of sel_* and not 1 of filter*";
    check::<E>(
        detection,
        &[
            (&[("B", s("1"))], true),
            (&[("B", s("1")), ("X", s("1"))], false),
            (&[("X", s("1"))], false),
        ],
    );
    let detection = "  sel_a:\n    A: 1\n  sel_b:\n    B: 1\n  condition: any of them";
    check::<E>(detection, &[(&[("A", s("1"))], true), (&[("C", s("1"))], false)]);
    let detection = "  sel_a:\n    A: 1\n  sel_b:\n    B: 1\n  sel_c:\n    C: 1\n  condition: 2 of sel_*";
    check::<E>(
        detection,
        &[(&[("A", s("1")), ("C", s("1"))], true), (&[("A", s("1"))], false)],
    );
}

fn condition_list_is_or<E: PatternEngine>() {
    check::<E>(
        "  a:\n    A: 1\n  b:\n    B: 1\n  condition:\n    - a\n    - b",
        &[(&[("B", s("1"))], true), (&[("C", s("1"))], false)],
    );
}

fn list_field_values_match_any_element<E: PatternEngine>() {
    check::<E>(
        "  sel:\n    tags: b\n  condition: sel",
        &[
            (&[("tags", s("a")), ("tags", s("b"))], true),
            (&[("tags", s("a"))], false),
        ],
    );
}

crate::both_engines!(
    plain_values_are_exact_and_case_insensitive,
    wildcards_star_and_question,
    escaped_wildcards_are_literal,
    backslash_before_wildcard_and_trailing_backslash,
    unc_paths_need_four_backslashes,
    percent_variables_without_expand_are_literal,
    contains_startswith_endswith,
    lists_are_or_and_all_makes_them_and,
    list_of_maps_is_or_and_map_is_and,
    numbers_match_as_text,
    null_and_empty_values,
    keywords_and_keywords_all,
    re_with_flags,
    regex_the_engine_refuses_still_works,
    base64_and_base64offset,
    utf16_encodings_with_base64,
    windash_exchanges_dashes,
    cidr_v4_and_v6,
    numeric_comparisons,
    exists_modifier,
    expand_placeholders,
    fieldref_and_neq,
    cased_is_case_sensitive,
    time_modifiers,
    conditions_and_or_not_parentheses,
    negation_alone_matches_without_any_hit,
    of_forms_and_them,
    condition_list_is_or,
    list_field_values_match_any_element,
);
