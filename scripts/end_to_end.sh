#!/usr/bin/env bash
# The main job end to end: train seed 003's MNIST GAN briefly, export it for TF Serving, serve it
# with the embedded model server, and fetch a sample grid over REST.
#
#   STEPS (default 10000)     training steps
#   MNIST_PATH                a local mnist.npz (default: ../shared/data/mnist.npz when it exists,
#                             else tensorflow-datasets downloads MNIST)
#   OUT (default runs/demo)   where everything goes
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
STEPS="${STEPS:-10000}"
OUT="${OUT:-runs/demo}"
PORT="${PORT:-8501}"
if [[ -z "${MNIST_PATH:-}" && -f ../shared/data/mnist.npz ]]; then
  MNIST_PATH=../shared/data/mnist.npz
fi
mnist_flag=()
[[ -n "${MNIST_PATH:-}" ]] && mnist_flag=(--mnist_path="$MNIST_PATH")

"$PY" scripts/train.py --flagfile=configs/mnist_mlp.flags "${mnist_flag[@]}" \
  --steps="$STEPS" --workdir="$OUT/workdir" --export_dir="$OUT/export" --model_name=mnist

"$PY" scripts/serve.py --model_name=mnist --model_base_path="$PWD/$OUT/export/mnist" \
  --rest_api_port="$PORT" --port=0 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
status_url="http://127.0.0.1:$PORT/v1/models/mnist"
for _ in $(seq 120); do
  "$PY" -c "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())" \
    "$status_url" 2>/dev/null && break
  sleep 1
done
"$PY" scripts/sample.py --server="http://127.0.0.1:$PORT" --model_name=mnist \
  --num_samples=16 --seed=7 --out="$OUT/grid.png"
echo "Sample grid fetched from the server: $OUT/grid.png"
echo "To see samples in a browser: $PY scripts/serve.py --model_name=mnist" \
  "--model_base_path=$PWD/$OUT/export/mnist, then open http://127.0.0.1:8501/"
