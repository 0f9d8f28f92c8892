"""Prints Keras's pad_sequences and to_categorical outputs used as expected values in
datasets/src/sequence.rs.

Run: .venv-keras-bench/bin/python scripts/keras_sequence_golden.py
"""
import keras

SEQUENCES = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], []]
for kwargs in [
    dict(),
    dict(maxlen=4),
    dict(maxlen=4, padding="post"),
    dict(maxlen=4, truncating="post"),
    dict(maxlen=2, padding="post", truncating="post", value=-1),
]:
    print(kwargs, keras.utils.pad_sequences(SEQUENCES, **kwargs).tolist())
print(keras.utils.to_categorical([0, 2, 1, 2]).tolist())
print(keras.utils.to_categorical([1, 0], num_classes=4).tolist())
