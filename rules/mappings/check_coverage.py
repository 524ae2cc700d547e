#!/usr/bin/env python3
"""Check that the logsource routes in this folder reach every SigmaHQ rule.

Usage: check_coverage.py [DATA_DIR] [--verbose]

DATA_DIR is the shared real-data folder (default `../shared/data`, resolved against the current
directory, then against the repository root); rules are read from DATA_DIR/sigmahq/rules*/ in place,
nothing is copied. The mapping files are the *.yml files next to this script (placeholders.yml is
checked separately).

Inclusion follows the engine's semantics: a route includes a rule when the rule's product is absent
or equal to the file's product, its service is absent or equal to the route's service, and its
category is absent or one of the route's categories (strings compared case-insensitively).

Prints:
  * structural problems in the mapping files (unknown keys, a Windows route without a Channel
    condition, a channel route with categories but no service, routes that can never be chosen
    because an earlier route has the same `when`);
  * every (product, category, service) combination used by rules that no route includes;
  * |expand placeholders used by rules but missing from placeholders.yml.
Exit status 1 when a combination is uncovered, a placeholder is missing or a structural problem
is found.
"""

import collections
import glob
import os
import re
import sys

try:
    import yaml
except ImportError:
    sys.exit("check_coverage.py needs PyYAML: python3 -m pip install pyyaml")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
ROUTE_KEYS = {"service", "when", "categories"}
FILE_KEYS = {"product", "routes"}


def norm(value):
    """Case-insensitive text form of a scalar (numbers as decimal text), None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def load_mappings(problems):
    files = []
    for path in sorted(glob.glob(os.path.join(HERE, "*.yml"))):
        name = os.path.basename(path)
        if name == "placeholders.yml":
            continue
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
        if not isinstance(doc, dict) or not isinstance(doc.get("routes"), list):
            problems.append(f"{name}: no `routes` list")
            continue
        for key in set(doc) - FILE_KEYS:
            problems.append(f"{name}: unknown top-level key {key!r}")
        product = norm(doc.get("product"))
        routes = []
        for index, route in enumerate(doc["routes"]):
            where = f"{name} route #{index + 1}"
            if not isinstance(route, dict):
                problems.append(f"{where}: not a mapping")
                continue
            for key in set(route) - ROUTE_KEYS:
                problems.append(f"{where}: unknown key {key!r}")
            when = route.get("when") or {}
            categories = route.get("categories") or {}
            if not isinstance(when, dict):
                problems.append(f"{where}: `when` is not a mapping")
                when = {}
            if not isinstance(categories, dict):
                problems.append(f"{where}: `categories` is not a mapping")
                categories = {}
            for category, field_map in categories.items():
                if field_map is None:
                    continue
                if not isinstance(field_map, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in field_map.items()
                ):
                    problems.append(f"{where}: field map of {category!r} is not rule field -> event field")
            if when and product == "windows" and "Channel" not in when:
                problems.append(f"{where}: Windows route without a Channel condition")
            if "Channel" in when and categories and not route.get("service"):
                problems.append(f"{where}: channel route with categories but no service")
            routes.append(
                {
                    "where": where,
                    "product": product,
                    "service": norm(route.get("service")),
                    "categories": {norm(c) for c in categories},
                    "when": when,
                }
            )
        files.append((name, product, routes))
    return files


def when_key(when):
    """Canonical form of a `when` block, to spot routes that can never be chosen."""
    items = []
    for field, value in when.items():
        values = value if isinstance(value, list) else [value]
        items.append((field, tuple(sorted(norm(v) for v in values))))
    return tuple(sorted(items))


def check_shadowed(files, problems):
    seen = {}
    for _, _, routes in files:
        for route in routes:
            if not route["when"]:
                continue
            key = when_key(route["when"])
            if key in seen:
                problems.append(f"{route['where']}: same `when` as {seen[key]}, never chosen")
            else:
                seen[key] = route["where"]
    declared = {}
    for _, _, routes in files:
        for route in routes:
            if route["when"]:
                continue
            for category in route["categories"] or {None}:
                key = (route["product"], route["service"], category)
                if key in declared:
                    problems.append(
                        f"{route['where']}: declared logsource {key} already taken by {declared[key]}"
                    )
                else:
                    declared[key] = route["where"]


def includes(route, product, category, service):
    if product is not None and product != route["product"]:
        return False
    if service is not None and service != route["service"]:
        return False
    if category is not None and category not in route["categories"]:
        return False
    return True


def find_data_dir(argument):
    candidates = [argument] if argument else ["../shared/data", os.path.join(REPO_ROOT, "../shared/data")]
    for candidate in candidates:
        if os.path.isdir(os.path.join(candidate, "sigmahq")):
            return candidate
    sys.exit(f"no sigmahq/ folder under {candidates[0]!r}; pass the data folder as an argument")


def load_rules(data_dir):
    combos = collections.Counter()
    examples = {}
    placeholders = collections.defaultdict(set)
    errors = 0
    pattern = os.path.join(data_dir, "sigmahq", "rules*", "**", "*.yml")
    for path in sorted(glob.glob(pattern, recursive=True)):
        try:
            with open(path, encoding="utf-8") as handle:
                docs = list(yaml.safe_load_all(handle))
        except (yaml.YAMLError, UnicodeDecodeError):
            errors += 1
            continue
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            logsource = doc.get("logsource")
            if isinstance(logsource, dict):
                combo = tuple(norm(logsource.get(key)) for key in ("product", "category", "service"))
                combos[combo] += 1
                examples.setdefault(combo, os.path.relpath(path, data_dir))
            collect_placeholders(doc.get("detection"), None, placeholders, path)
    return combos, examples, placeholders, errors


def collect_placeholders(node, key, found, path):
    if isinstance(node, dict):
        for child_key, child in node.items():
            collect_placeholders(child, child_key, found, path)
    elif isinstance(node, list):
        for child in node:
            collect_placeholders(child, key, found, path)
    elif isinstance(node, str) and isinstance(key, str) and "expand" in key.split("|")[1:]:
        for name in re.findall(r"%([A-Za-z0-9_.-]+)%", node):
            found[name].add(os.path.basename(path))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    verbose = "--verbose" in sys.argv or "-v" in sys.argv
    data_dir = find_data_dir(args[0] if args else None)

    problems = []
    files = load_mappings(problems)
    check_shadowed(files, problems)
    routes = [route for _, _, file_routes in files for route in file_routes]
    combos, examples, placeholders, errors = load_rules(data_dir)

    uncovered = []
    for combo, count in sorted(combos.items(), key=lambda item: tuple(str(v) for v in item[0])):
        reaching = [route["where"] for route in routes if includes(route, *combo)]
        if verbose:
            print(f"{count:5d}  product={combo[0]} category={combo[1]} service={combo[2]}: "
                  f"{len(reaching)} route(s), e.g. {', '.join(reaching[:3])}")
        if not reaching:
            uncovered.append((combo, count))

    total_rules = sum(combos.values())
    print(f"mapping files: {len(files)}, routes: {len(routes)}")
    print(f"rules with a logsource: {total_rules} in {len(combos)} (product, category, service) combinations"
          + (f"; {errors} unreadable rule files" if errors else ""))
    for problem in problems:
        print(f"PROBLEM  {problem}")
    if uncovered:
        print(f"UNCOVERED {len(uncovered)} combination(s), {sum(c for _, c in uncovered)} rule(s):")
        for (product, category, service), count in uncovered:
            print(f"  {count:5d}  product={product} category={category} service={service}"
                  f"  (e.g. {examples[(product, category, service)]})")
    else:
        print("every logsource combination is included by at least one route")

    placeholder_file = os.path.join(HERE, "placeholders.yml")
    defined = {}
    if os.path.exists(placeholder_file):
        with open(placeholder_file, encoding="utf-8") as handle:
            defined = (yaml.safe_load(handle) or {}).get("placeholders") or {}
    missing = sorted(set(placeholders) - set(defined))
    unused = sorted(set(defined) - set(placeholders))
    print(f"|expand placeholders used by rules: {len(placeholders)}, defined: {len(defined)}")
    for name in missing:
        print(f"MISSING placeholder {name!r} (used in {', '.join(sorted(placeholders[name]))})")
    for name in unused:
        print(f"note: placeholder {name!r} is not used by any rule")

    return 1 if uncovered or problems or missing else 0


if __name__ == "__main__":
    sys.exit(main())
