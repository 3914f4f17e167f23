"""Checks ClmbStack documents against the CRD's own schema, strictly.

kubernetes-validate has schemas for built-in kinds only, so for custom objects this turns
the CRD's openAPIV3Schema into a JSON Schema the way the API server reads it, but strict:
an unknown field is an error here, where the API server would silently prune it. `nullable`
becomes a null type, `x-kubernetes-int-or-string` an integer-or-string. CEL rules
(`x-kubernetes-validations`) are not evaluated; the API server does that at apply time.

Usage: check-clmbstacks.py CRD_FILE MANIFESTS_FILE  (every ClmbStack in the file is checked;
other kinds are left to kubernetes-validate; no ClmbStack at all is a failure).
"""

import sys

import jsonschema
import yaml


def strict(node):
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def main(crd_file, manifests_file):
    crd = yaml.safe_load(open(crd_file))
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    versions = {v["name"]: strict(v["schema"]["openAPIV3Schema"]) for v in crd["spec"]["versions"]}
    checked, failed = 0, 0
    for doc in yaml.safe_load_all(open(manifests_file)):
        if not doc or doc.get("kind") != kind:
            continue
        checked += 1
        name = doc.get("metadata", {}).get("name", "?")
        api_group, _, version = doc.get("apiVersion", "").partition("/")
        if api_group != group or version not in versions:
            print(f"{kind} {name}: apiVersion {doc.get('apiVersion')!r} is not served by the CRD")
            failed += 1
            continue
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
        errors = list(jsonschema.Draft7Validator(versions[version]).iter_errors(body))
        if not name or name == "?":
            errors.append(jsonschema.ValidationError("metadata.name is missing"))
        for e in errors:
            where = ".".join(str(p) for p in e.absolute_path) or "(root)"
            print(f"{kind} {name}: {where}: {e.message}")
        if errors:
            failed += 1
        else:
            print(f"{kind} {name}: valid against {crd_file} ({version})")
    if checked == 0:
        print(f"no {kind} in {manifests_file}")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
