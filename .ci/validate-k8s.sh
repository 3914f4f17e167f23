#!/usr/bin/env bash
# Validates what the operator produces against the official Kubernetes schemas: every object
# `clmb-operator render` prints for each example in crds/examples/, and the CRD itself.
#
# kubernetes-validate 1.37.0 knows Kubernetes 1.32 to 1.37 (`kubernetes-validate --help`
# and its bundled schemas); we pin 1.33.0 because the operator is built against k8s-openapi's
# `v1_33` feature. ClmbStack examples are custom objects it has no schema for: they are
# checked against the CRD's own schema by `cargo test -p clmb-operator --test crd`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

KUBERNETES_VERSION=1.33.0
KUBERNETES_VALIDATE_VERSION=1.37.0

# Use the packaging tools' copy when it is there, else a venv of our own, installed once.
validator=""
for candidate in "$root/.cache/tools/bin/kubernetes-validate" "$root/.cache/validate-k8s/bin/kubernetes-validate"; do
    if [[ -x $candidate ]] && "$candidate" --version 2>/dev/null | grep -q "$KUBERNETES_VALIDATE_VERSION"; then
        validator=$candidate
        break
    fi
done
if [[ -z $validator ]]; then
    echo "validate-k8s: installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION" >&2
    python3 -m venv "$root/.cache/validate-k8s"
    "$root/.cache/validate-k8s/bin/pip" install --quiet --disable-pip-version-check \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
    validator="$root/.cache/validate-k8s/bin/kubernetes-validate"
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cargo build --quiet -p clmb-operator
failed=0

# validate NAME FILE: strict validation; an object of a kind without a schema is a failure too,
# since kubernetes-validate would only warn about it.
validate() {
    local name=$1 file=$2 report="$scratch/report"
    if ! "$validator" --strict -k "$KUBERNETES_VERSION" "$file" >"$report" 2>&1; then
        cat "$report"
        echo "validate-k8s: FAILED: $name" >&2
        failed=$((failed + 1))
        return
    fi
    if grep -q "Couldn't find schema" "$report"; then
        cat "$report"
        echo "validate-k8s: FAILED: $name has objects of a kind with no schema" >&2
        failed=$((failed + 1))
        return
    fi
    echo "validate-k8s: $name: $(grep -c 'passed for resource' "$report") objects valid against Kubernetes $KUBERNETES_VERSION"
}

cargo run --quiet -p clmb-operator -- crd >"$scratch/crd.yaml"
cmp -s "$scratch/crd.yaml" crds/clmbstack.yaml || {
    echo "validate-k8s: FAILED: crds/clmbstack.yaml differs from \`clmb-operator crd\`" >&2
    failed=$((failed + 1))
}
validate "the CRD" crds/clmbstack.yaml

shopt -s nullglob
examples=(crds/examples/*.yaml)
if [[ ${#examples[@]} -eq 0 ]]; then
    echo "validate-k8s: FAILED: no examples in crds/examples" >&2
    exit 1
fi
for example in "${examples[@]}"; do
    rendered="$scratch/$(basename "$example")"
    cargo run --quiet -p clmb-operator -- render -f "$example" >"$rendered"
    validate "render of $example" "$rendered"
done

if [[ $failed -gt 0 ]]; then
    echo "validate-k8s: $failed check(s) failed" >&2
    exit 1
fi
echo "validate-k8s: all checks passed"
