#!/usr/bin/env bash
# Retrain every shipped model with its published recipe (the reference presets) or our own
# (digitnet, the default). Each model card records the exact command. Takes about an hour on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
for arch in dense_baseline larger_cnn simple_cnn keras_basic bn_cnn conv_relu_pool keras_mnist_cnn; do
  "$py" -m digitcore train --arch "$arch" --seed 0 --overwrite
done
"$py" -m digitcore train --arch digitnet --seed 0 --default --overwrite
