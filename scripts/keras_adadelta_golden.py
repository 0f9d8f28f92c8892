"""Golden numbers of Keras 3's Adadelta for crates/optim/src/adadelta.rs: three steps on a 3-vector, learning_rate 1.0,
then the slots and the default config. Run: .venv-keras-bench/bin/python scripts/keras_adadelta_golden.py
"""
import os
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras, numpy as np
w = keras.Variable(np.array([1.0, -2.0, 0.5], "float32"))
opt = keras.optimizers.Adadelta(learning_rate=1.0)
grads = [np.array(g, "float32") for g in ([0.5, -0.25, 1.0], [-1.0, 0.75, 0.125], [2.0, 0.5, -0.5])]
for g in grads:
    opt.apply_gradients([(keras.ops.convert_to_tensor(g), w)])
    print([float(v) for v in np.asarray(w)])
print([(v.path, np.asarray(v).tolist()) for v in opt.variables])
print([v.path for v in opt.variables])
print(keras.optimizers.Adadelta().get_config())
