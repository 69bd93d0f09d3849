#!/usr/bin/python3
"""Checks crd/dataconnections.kustodian.io.yaml without an API server.

Validates DataConnection documents against the CRD the way kube-apiserver would for what the
CRD uses: the structural OpenAPI v3 schema (type, required, enum, pattern, minLength, maxLength,
maxItems, format date-time, unknown fields refused as with `kubectl apply --validate=strict`)
and the CEL x-kubernetes-validations, evaluated by a small interpreter of the CEL subset the
rules are allowed to use (has(), field selection, ==, !=, &&, ||, !, `in` on lists, size(),
literals). A rule outside that subset is an error, so the rules stay within what
tests/kubeapi implements.

Usage: crd_check.py CRD --valid FILE_OR_DIR... --invalid FILE_OR_DIR...
Every document under --valid must pass. Every file under --invalid holds one document and a
comment line `# expect: TEXT`; it must fail with an error containing TEXT. Exit 0 when all hold.
"""

import argparse
import datetime
import os
import re
import sys

import yaml


class CelError(Exception):
    pass


# --- CEL subset ----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|(?P<int>\d+)"
    r"|(?P<op>\|\||&&|==|!=|<=|>=|[!()\[\],.<>])|(?P<ident>[A-Za-z_][A-Za-z0-9_]*))")

_MISSING = object()


def _tokenize(text):
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise CelError(f"unsupported syntax at {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
    tokens.append(("end", ""))
    return tokens


class _Parser:
    """Parses the subset into nested tuples."""

    def __init__(self, text):
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self):
        return self.tokens[self.i]

    def take(self, value=None):
        tok = self.tokens[self.i]
        if value is not None and tok[1] != value:
            raise CelError(f"expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self):
        node = self.or_expr()
        if self.peek()[0] != "end":
            raise CelError(f"unexpected {self.peek()[1]!r}")
        return node

    def or_expr(self):
        node = self.and_expr()
        while self.peek()[1] == "||":
            self.take()
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self):
        node = self.rel_expr()
        while self.peek()[1] == "&&":
            self.take()
            node = ("and", node, self.rel_expr())
        return node

    def rel_expr(self):
        node = self.unary()
        tok = self.peek()
        if tok[1] in ("==", "!=", "in"):
            self.take()
            node = (tok[1], node, self.unary())
        elif tok[1] in ("<", ">", "<=", ">="):
            raise CelError(f"operator {tok[1]} is outside the supported CEL subset")
        return node

    def unary(self):
        if self.peek()[1] == "!":
            self.take()
            return ("not", self.unary())
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if kind == "str":
            return ("lit", yaml.safe_load(value) if value[0] == '"' else value[1:-1])
        if kind == "int":
            return ("lit", int(value))
        if value == "(":
            node = self.or_expr()
            self.take(")")
            return node
        if value == "[":
            items = []
            while self.peek()[1] != "]":
                items.append(self.or_expr())
                if self.peek()[1] == ",":
                    self.take()
            self.take("]")
            return ("list", items)
        if kind == "ident":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if value in ("has", "size"):
                self.take("(")
                arg = self.or_expr()
                self.take(")")
                if value == "has" and arg[0] != "select":
                    raise CelError("has() needs a field selection")
                return (value, arg)
            if value not in ("self", "oldSelf"):
                raise CelError(f"identifier {value!r} is outside the supported CEL subset")
            node = ("var", value)
            while self.peek()[1] == ".":
                self.take()
                node = ("select", node, self.take()[1])
            if self.peek()[1] == "(":
                raise CelError("method calls are outside the supported CEL subset")
            return node
        raise CelError(f"unexpected {value!r}")


def _eval(node, env):
    op = node[0]
    if op == "lit":
        return node[1]
    if op == "list":
        return [_eval(n, env) for n in node[1]]
    if op == "var":
        if node[1] not in env:
            raise CelError(f"{node[1]} is not available here")
        return env[node[1]]
    if op == "select":
        obj = _eval(node[1], env)
        if not isinstance(obj, dict) or node[2] not in obj:
            raise CelError(f"no such key: {node[2]}")
        return obj[node[2]]
    if op == "has":
        obj = _eval(node[1][1], env)
        if not isinstance(obj, dict):
            raise CelError("has() on a non-object")
        return node[1][2] in obj
    if op == "size":
        return len(_eval(node[1], env))
    if op == "not":
        return not _bool(_eval(node[1], env))
    if op == "and":
        return _bool(_eval(node[1], env)) and _bool(_eval(node[2], env))
    if op == "or":
        return _bool(_eval(node[1], env)) or _bool(_eval(node[2], env))
    if op in ("==", "!="):
        equal = _eval(node[1], env) == _eval(node[2], env)
        return equal if op == "==" else not equal
    if op == "in":
        return _eval(node[1], env) in _eval(node[2], env)
    raise CelError(f"unknown node {op}")


def _bool(value):
    if not isinstance(value, bool):
        raise CelError("expected a bool")
    return value


def compile_rule(rule):
    return _Parser(rule).parse()


# --- OpenAPI v3 (structural) ---------------------------------------------------------------

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
}


def _is_date_time(value):
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        datetime.datetime.fromisoformat(text)
    except ValueError:
        return False
    return "T" in value.upper()


def validate(value, schema, path, errors):
    """Appends "path: message" for every violation of `schema` by `value`."""
    want = schema.get("type")
    if want:
        py = _TYPES[want]
        ok = isinstance(value, py) and not (want == "integer" and isinstance(value, bool))
        if not ok:
            errors.append(f"{path}: Invalid value: must be of type {want}")
            return
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(f'"{v}"' for v in schema["enum"])
        errors.append(f"{path}: Unsupported value: {value!r}: supported values: {allowed}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: Invalid value: {value!r}: should match '{schema['pattern']}'")
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: Invalid value: should be at least "
                          f"{schema['minLength']} chars long")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: Too long: may not be longer than {schema['maxLength']}")
        if schema.get("format") == "date-time" and not _is_date_time(value):
            errors.append(f"{path}: Invalid value: {value!r}: must be an RFC 3339 date-time")
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: Too many: must have at most {schema['maxItems']} items")
        for i, item in enumerate(value):
            validate(item, schema.get("items", {}), f"{path}[{i}]", errors)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name, item in list(value.items()):
            if item is None and not props.get(name, {}).get("nullable"):
                del value[name]  # kube-apiserver prunes nulls of non-nullable fields first
                continue
            if name in props:
                validate(item, props[name], f"{path}.{name}", errors)
            elif props and not schema.get("x-kubernetes-preserve-unknown-fields"):
                field = f"{path}.{name}".lstrip(".")
                errors.append(f'{path or "."}: unknown field "{field}"')
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}.{name}: Required value")
    for rule in schema.get("x-kubernetes-validations", []):
        try:
            ok = _eval(compile_rule(rule["rule"]), {"self": value})
        except CelError as e:
            errors.append(f"{path}: Invalid value: rule {rule['rule']!r} failed: {e}")
            continue
        if ok is not True:
            errors.append(f"{path}{rule.get('fieldPath', '')}: Invalid value: "
                          f"{rule.get('message', rule['rule'])}")


def check_structural(schema, path, problems):
    """Problems that would make kube-apiserver refuse the CRD (the subset that applies here)."""
    if "type" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        problems.append(f"{path}: no type (a structural schema needs one at every level)")
    if schema.get("type") not in (None, *_TYPES):
        problems.append(f"{path}: unknown type {schema.get('type')}")
    if "additionalProperties" in schema and "properties" in schema:
        problems.append(f"{path}: additionalProperties and properties are mutually exclusive")
    for rule in schema.get("x-kubernetes-validations", []):
        try:
            compile_rule(rule["rule"])
        except CelError as e:
            problems.append(f"{path}: rule {rule['rule']!r}: {e}")
        if "message" not in rule:
            problems.append(f"{path}: rule {rule['rule']!r} has no message")
        field = rule.get("fieldPath", "")
        node = schema
        for part in [p for p in field.split(".") if p]:
            node = node.get("properties", {}).get(part)
            if node is None:
                problems.append(f"{path}: fieldPath {field} names no field of the schema")
                break
    for pattern in [schema.get("pattern")] if "pattern" in schema else []:
        try:
            re.compile(pattern)
        except re.error as e:
            problems.append(f"{path}: bad pattern: {e}")
        if "(?" in pattern or "\\d" in pattern:
            problems.append(f"{path}: keep patterns to plain classes (portable to RE2 and "
                            f"ECMAScript): {pattern}")
    for name, sub in schema.get("properties", {}).items():
        check_structural(sub, f"{path}.{name}", problems)
    if "items" in schema:
        check_structural(schema["items"], f"{path}[]", problems)


# --- driver --------------------------------------------------------------------------------

def load_crd(path):
    with open(path, encoding="utf-8") as f:
        crd = yaml.safe_load(f)
    problems = []
    if crd.get("apiVersion") != "apiextensions.k8s.io/v1" or \
            crd.get("kind") != "CustomResourceDefinition":
        problems.append("not an apiextensions.k8s.io/v1 CustomResourceDefinition")
    spec = crd["spec"]
    names = spec["names"]
    if crd["metadata"]["name"] != f"{names['plural']}.{spec['group']}":
        problems.append("metadata.name must be <plural>.<group>")
    versions = spec["versions"]
    if sum(1 for v in versions if v.get("storage")) != 1:
        problems.append("exactly one version must be the storage version")
    schemas = {}
    for v in versions:
        schema = v["schema"]["openAPIV3Schema"]
        check_structural(schema, v["name"], problems)
        schemas[f"{spec['group']}/{v['name']}"] = schema
    if problems:
        raise SystemExit("CRD " + path + " is not acceptable:\n  " + "\n  ".join(problems))
    return crd, schemas


def validate_document(doc, crd, schemas):
    api = doc.get("apiVersion")
    if doc.get("kind") != crd["spec"]["names"]["kind"]:
        return [f"kind: {doc.get('kind')!r} is not {crd['spec']['names']['kind']}"]
    if api not in schemas:
        return [f"apiVersion: {api!r} is not served (have {', '.join(schemas)})"]
    errors = []
    name = (doc.get("metadata") or {}).get("name", "")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                        name or "") or len(name) > 253:
        errors.append(f"metadata.name: Invalid value: {name!r}: a lowercase RFC 1123 subdomain")
    validate(doc, schemas[api], "", errors)
    return [e.lstrip(".") for e in errors]


def files_under(paths):
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                if name.endswith((".yaml", ".yml")):
                    yield os.path.join(p, name)
        else:
            yield p


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("crd")
    parser.add_argument("--valid", nargs="*", default=[])
    parser.add_argument("--invalid", nargs="*", default=[])
    args = parser.parse_args()
    crd, schemas = load_crd(args.crd)
    failures, failed, checked = [], set(), 0
    for path in files_under(args.valid):
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        if not docs:
            failures.append(f"{path}: no document")
        for i, doc in enumerate(docs):
            checked += 1
            errors = validate_document(doc, crd, schemas)
            if errors:
                failed.add((path, i))
                failures.append(f"{path} (document {i + 1}) should be valid but:\n    " +
                                "\n    ".join(errors))
    for path in files_under(args.invalid):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        expects = re.findall(r"^# expect: (.+)$", text, re.M)
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
        checked += 1
        if len(docs) != 1 or not expects:
            failed.add(path)
            failures.append(f"{path}: needs exactly one document and a '# expect: TEXT' line")
            continue
        errors = validate_document(docs[0], crd, schemas)
        if not errors:
            failed.add(path)
            failures.append(f"{path} should be refused but is valid")
        for expect in expects:
            if errors and not any(expect in e for e in errors):
                failed.add(path)
                failures.append(f"{path}: no error contains {expect!r}; got:\n    " +
                                "\n    ".join(errors))
    for failure in failures:
        print("FAIL", failure)
    print(f"crd_check: {checked - len(failed)} passed, {len(failed)} failed")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
