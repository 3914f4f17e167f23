#!/usr/bin/env bash
# Packaging checks: the Dockerfile lints clean, the CRD in the operator chart is the one in
# crds/, and both charts lint strictly and render valid objects for their default values
# and for their ci/all-options-values.yaml. Built-in kinds are validated against the
# Kubernetes 1.33 schemas (the operator's k8s-openapi feature is v1_33, as in
# validate-k8s.sh); the two custom kinds kubernetes-validate has no schema for are checked
# on their own: ClmbStack against crds/clmbstack.yaml, ServiceMonitor against
# .ci/schemas/servicemonitor.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash .ci/tools.sh
tools="$root/.cache/tools"
export PATH="$tools/bin:$PATH"
# Keep helm's config and cache out of $HOME.
export HELM_CONFIG_HOME="$tools/helm-home/config" HELM_CACHE_HOME="$tools/helm-home/cache" \
    HELM_DATA_HOME="$tools/helm-home/data"

KUBERNETES_VERSION=1.33.0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
fail() {
    echo "packaging: FAILED: $*" >&2
    failed=$((failed + 1))
}

echo "== hadolint Dockerfile"
if hadolint --no-color --failure-threshold info Dockerfile; then
    echo "hadolint: Dockerfile clean"
else
    fail "hadolint Dockerfile"
fi

echo "== the operator chart's CRD is crds/clmbstack.yaml"
if cmp charts/clmb-operator/crds/clmbstack.yaml crds/clmbstack.yaml; then
    echo "crd: charts/clmb-operator/crds/clmbstack.yaml equals crds/clmbstack.yaml"
else
    fail "charts/clmb-operator/crds/clmbstack.yaml differs: cp crds/clmbstack.yaml charts/clmb-operator/crds/"
fi

# check_render CHART NAME EXPECTED_KINDS [helm args...]: lint, render and validate one
# values set of one chart.
check_render() {
    local chart=$1 name=$2 expected=$3
    shift 3
    local rendered="$scratch/$name.yaml" report="$scratch/$name.report"
    echo "== $name: helm lint --strict"
    if ! helm lint --strict "$chart" "$@"; then
        fail "$name: helm lint"
        return
    fi
    echo "== $name: helm template | kubernetes-validate --strict -k $KUBERNETES_VERSION"
    if ! helm template "$(basename "$chart")" "$chart" --namespace clmb-system --include-crds "$@" \
        >"$rendered"; then
        fail "$name: helm template"
        return
    fi
    if ! kubernetes-validate --strict -k "$KUBERNETES_VERSION" - <"$rendered" >"$report" 2>&1; then
        cat "$report"
        fail "$name: kubernetes-validate"
        return
    fi
    cat "$report"
    # kubernetes-validate passes a kind it has no schema for with a warning. Only the two
    # custom kinds checked below may do that.
    if grep -v -e "kind ServiceMonitor " -e "kind ClmbStack " "$report" |
        grep -q "Couldn't find schema"; then
        fail "$name: objects of a kind with no schema to validate against"
    fi
    if grep -q "^kind: ClmbStack$" "$rendered"; then
        "$tools/venv/bin/python" .ci/check-clmbstacks.py crds/clmbstack.yaml "$rendered" ||
            fail "$name: ClmbStack against crds/clmbstack.yaml"
    fi
    "$tools/venv/bin/python" - "$rendered" "$expected" "$name" <<'PY' || fail "$name: rendered kinds or ServiceMonitor"
import json, sys
import jsonschema, yaml

rendered, expected, name = sys.argv[1], sys.argv[2].split(), sys.argv[3]
docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
kinds = sorted(d["kind"] for d in docs)
ok = True
if kinds != sorted(expected):
    print(f"{name}: rendered kinds {kinds}, expected {sorted(expected)}")
    ok = False
schema = json.load(open(".ci/schemas/servicemonitor.json"))
for doc in docs:
    if doc["kind"] != "ServiceMonitor":
        continue
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(doc))
    for e in errors:
        print(f"{name}: ServiceMonitor {'.'.join(map(str, e.path))}: {e.message}")
    if not errors:
        print(f"{name}: ServiceMonitor {doc['metadata']['name']} matches .ci/schemas/servicemonitor.json")
    ok = ok and not errors
print(f"{name}: {len(docs)} objects rendered: {' '.join(kinds)}")
sys.exit(0 if ok else 1)
PY
}

check_render charts/clmb-operator operator-defaults \
    "CustomResourceDefinition ServiceAccount ClusterRole ClusterRoleBinding Role RoleBinding
     Service Deployment PodDisruptionBudget"
check_render charts/clmb-operator operator-all-options \
    "CustomResourceDefinition ServiceAccount Role RoleBinding Role RoleBinding
     Service Deployment PodDisruptionBudget ServiceMonitor" \
    -f charts/clmb-operator/ci/all-options-values.yaml
check_render charts/clmb-stack stack-defaults "ClmbStack"
check_render charts/clmb-stack stack-all-options "ClmbStack" \
    -f charts/clmb-stack/ci/all-options-values.yaml

if ((failed)); then
    echo "packaging: $failed check(s) failed" >&2
    exit 1
fi
echo "packaging: all checks passed"
