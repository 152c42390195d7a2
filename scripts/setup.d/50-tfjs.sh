#!/usr/bin/env bash
# Native tfjs backend, one build for every host: @tensorflow/tfjs-node-gpu's addon compiled (node-gyp, the local
# Node headers) against the C library of the PyPI `tensorflow` wheel, the GPU build, without downloads outside
# the package registries. On a host without a GPU it runs on the CPU (TF logs that it found no CUDA driver);
# the CUDA libraries (the wheel's `and-cuda` nvidia-* wheels, ~3 GB) are installed only where a GPU is found.
# MLAGENT_GPU=1 installs them anyway, MLAGENT_GPU=0 never. A stamp (hash of inputs) makes reruns no-ops.
set -euo pipefail
TF_VERSION=2.21.0
wheel=tensorflow
addon=node_modules/@tensorflow/tfjs-node-gpu
[ -d "$addon" ] || { echo "$addon missing: run scripts/setup.d/40-npm.sh" >&2; exit 1; }
has_gpu() { { command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; } || ls /proc/driver/nvidia/gpus/* >/dev/null 2>&1; }
cuda="${MLAGENT_GPU:-auto}"
[ "$cuda" = auto ] && { if has_gpu; then cuda=1; else cuda=0; fi; }
cache=".venv/cache/$wheel-$TF_VERSION"
cuda_dir=".venv/cuda-$TF_VERSION"
stamp="$addon/.mlagent-libtensorflow"
want=$(cat "$0" "$addon/package.json" | sha256sum | cut -d' ' -f1)-$wheel-$TF_VERSION-cuda$cuda
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -f "$addon/lib/napi-v8/tfjs_binding.node" ]; then exit 0; fi

[ -x .venv/bin/pip ] || /usr/bin/python3 -m venv .venv
mkdir -p "$cache"
ls "$cache"/*.whl >/dev/null 2>&1 || .venv/bin/pip download -q --no-deps --only-binary=:all: -d "$cache" "$wheel==$TF_VERSION"
whl=$(ls "$cache"/*.whl | head -1)

# Only the C API library, its framework library and the C headers are needed from the wheel.
rm -rf "$addon/deps" "$addon/lib" "$addon/build"
mkdir -p "$addon/deps/lib" "$addon/deps/include"
/usr/bin/python3 - "$whl" "$addon/deps" <<'PY'
import sys, zipfile, os, shutil
whl, deps = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        if name in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
            dest = os.path.join(deps, 'lib', os.path.basename(name))
        elif name.startswith(('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/', 'tensorflow/include/xla/tsl/c/', 'tensorflow/include/tsl/platform/', 'tensorflow/include/xla/tsl/platform/')):
            dest = os.path.join(deps, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        if name.endswith('/'):
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(name) as src, open(dest, 'wb') as out:
            shutil.copyfileobj(src, out)
PY
# binding.gyp links -ltensorflow -ltensorflow_framework; the C API lives in libtensorflow_cc in the wheel.
ln -sf libtensorflow_cc.so.2 "$addon/deps/lib/libtensorflow.so"
ln -sf libtensorflow_framework.so.2 "$addon/deps/lib/libtensorflow_framework.so"

if [ "$cuda" = 1 ]; then
  # the wheel's libraries look for CUDA at $ORIGIN/../nvidia/<lib>/lib (their RUNPATH), i.e. deps/nvidia here
  mapfile -t reqs < <(/usr/bin/python3 - "$whl" <<'PY'
import sys, zipfile, re
z = zipfile.ZipFile(sys.argv[1])
meta = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
for line in z.read(meta).decode().splitlines():
    m = re.match(r'Requires-Dist: ([^;]+);\s*extra == "and-cuda"', line)
    if m: print(m.group(1).replace(' ', ''))
PY
)
  [ -f "$cuda_dir/.reqs" ] && [ "$(cat "$cuda_dir/.reqs")" = "${reqs[*]}" ] || {
    rm -rf "$cuda_dir"
    .venv/bin/pip install -q --no-deps --only-binary=:all: --target "$cuda_dir" "${reqs[@]}"
    echo "${reqs[*]}" > "$cuda_dir/.reqs"
  }
  ln -sfn "$PWD/$cuda_dir/nvidia" "$addon/deps/nvidia"
fi

# node-pre-gyp drives node-gyp (npm's bundled copy); --nodedir uses the installed Node headers, no download.
nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -f "$nodedir/include/node/node_api.h" ] || { echo "Node headers missing under $nodedir/include/node (install nodejs with headers, e.g. Debian libnode-dev)" >&2; exit 1; }
gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
[ -f "$gyp" ] || { echo "node-gyp not found next to npm ($gyp)" >&2; exit 1; }
# N-API 8 is the newest version tfjs-node lists; its loader then finds lib/napi-v8/tfjs_binding.node.
(cd "$addon" && node "$gyp" rebuild --nodedir="$nodedir" -j "$(nproc)" --napi_build_version=8 \
  --module_name=tfjs_binding --module_path="$PWD/lib/napi-v8" >build.log 2>&1) \
  || { tail -30 "$addon/build.log" >&2; exit 1; }
TF_CPP_MIN_LOG_LEVEL=2 node -e "const tf=require('@tensorflow/tfjs-node-gpu'); if (tf.getBackend()!=='tensorflow') throw new Error('backend '+tf.getBackend()); console.log('tfjs-node-gpu linked against $wheel $TF_VERSION:', tf.version.tfjs, 'on', tf.backend().isUsingGpuDevice ? 'GPU' : 'CPU')"
echo "$want" > "$stamp"
