"""Golden numbers for rkeras's stateful metrics, from Keras 3 itself.

Each metric gets three update_state calls (the second and third with sample weights), its result after each
call, then reset_state and one more update. Writes crates/engine/tests/fixtures/keras_metrics_golden.json.
Run: .venv-keras-bench/bin/python scripts/keras_metrics_golden.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

rng = np.random.default_rng(23)
B, C = 6, 4


def softmax_rows(shape):
    z = rng.normal(size=shape).astype("float32")
    e = np.exp(z - z.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def one_hot(ids, c):
    return np.eye(c, dtype="float32")[ids.astype(int)]


def batches(kind):
    out = []
    for _ in range(4):
        ids = rng.integers(0, C, size=(B,))
        if kind == "sparse":
            out.append((ids.astype("float32"), softmax_rows((B, C))))
        elif kind == "onehot":
            out.append((one_hot(ids, C), softmax_rows((B, C))))
        elif kind == "binary":
            out.append((rng.integers(0, 2, size=(B, C)).astype("float32"), rng.uniform(0, 1, size=(B, C)).astype("float32")))
        elif kind == "binary1":
            out.append((rng.integers(0, 2, size=(B, 1)).astype("float32"), rng.uniform(0, 1, size=(B, 1)).astype("float32")))
        elif kind == "regression":
            out.append((rng.normal(size=(B, C)).astype("float32"), rng.normal(size=(B, C)).astype("float32")))
        elif kind == "positive":
            out.append((rng.uniform(0.1, 2, size=(B, C)).astype("float32"), rng.uniform(0.1, 2, size=(B, C)).astype("float32")))
        elif kind == "segment":
            out.append((rng.integers(0, C, size=(B, 5)).astype("float32"), rng.integers(0, C, size=(B, 5)).astype("float32")))
        elif kind == "binary_logits":
            out.append((rng.integers(0, 2, size=(B, C)).astype("float32"), rng.normal(scale=2, size=(B, C)).astype("float32")))
        elif kind == "sorted_ids":
            ids = rng.integers(0, C, size=(B,))
            out.append((ids.astype("float32"), np.stack([rng.permutation(C) for _ in range(B)]).astype("float32")))
        elif kind == "regression3":
            out.append((rng.normal(size=(B, 3, C)).astype("float32"), rng.normal(size=(B, 3, C)).astype("float32")))
        elif kind == "values":
            out.append((np.zeros((B, 2), "float32"), rng.normal(size=(B, 2)).astype("float32")))
    return out


def run(name, metric, kind):
    data = batches(kind)
    weights = [None, rng.uniform(0, 2, size=(B,)).astype("float32"), rng.integers(0, 2, size=(B,)).astype("float32"), None]
    if name.startswith("mean_iou") or name.startswith("iou") or name.startswith("binary_iou"):
        # The IoU metrics flatten their weights with the labels: one weight per position.
        per = data[0][0].shape[1]
        weights = [None if w is None else np.repeat(w[:, None], per, axis=1) for w in weights]
    steps = []
    for i, ((t, p), w) in enumerate(zip(data, weights)):
        if i == 3:
            metric.reset_state()
        if type(metric) in (keras.metrics.Mean, keras.metrics.Sum):
            metric.update_state(p, sample_weight=w)  # Mean and Sum take values; rkeras reads them from y_pred
        else:
            metric.update_state(t, p, sample_weight=w)
        r = np.asarray(metric.result(), dtype="float32")
        steps.append({
            "y_true": t.ravel().tolist(), "y_true_shape": list(t.shape),
            "y_pred": p.ravel().tolist(), "y_pred_shape": list(p.shape),
            "sample_weight": None if w is None else w.ravel().tolist(),
            "reset_before": i == 3,
            "result": r.ravel().tolist(),
        })
    return {"name": name, "steps": steps, "config": keras.metrics.serialize(metric)}


def main():
    M = keras.metrics
    cases = [
        run("accuracy", M.Accuracy(), "segment"),
        run("binary_accuracy", M.BinaryAccuracy(), "binary"),
        run("binary_accuracy_t0.7", M.BinaryAccuracy(threshold=0.7), "binary"),
        run("categorical_accuracy", M.CategoricalAccuracy(), "onehot"),
        run("sparse_categorical_accuracy", M.SparseCategoricalAccuracy(), "sparse"),
        run("top_k_categorical_accuracy_k2", M.TopKCategoricalAccuracy(k=2), "onehot"),
        run("sparse_top_k_categorical_accuracy_k2", M.SparseTopKCategoricalAccuracy(k=2), "sparse"),
        run("precision", M.Precision(name="precision"), "binary"),
        run("precision_thresholds", M.Precision(thresholds=[0.3, 0.6], name="precision_thresholds"), "binary"),
        run("precision_top_k2", M.Precision(top_k=2, name="precision_top_k2"), "binary"),
        run("recall", M.Recall(name="recall"), "binary"),
        run("recall_class_id1", M.Recall(class_id=1, name="recall_class_id1"), "binary"),
        run("recall_top_k1_class_id2", M.Recall(top_k=1, class_id=2, name="recall_top_k1_class_id2"), "binary"),
        run("auc", M.AUC(name="auc"), "binary"),
        run("auc_pr", M.AUC(curve="PR", name="auc_pr"), "binary"),
        run("auc_minoring", M.AUC(summation_method="minoring", name="auc_minoring"), "binary1"),
        run("auc_pr_majoring", M.AUC(curve="PR", summation_method="majoring", name="auc_pr_majoring"), "binary1"),
        run("auc_50", M.AUC(num_thresholds=50, name="auc_50"), "binary1"),
        run("f1_none", M.F1Score(), "onehot"),
        run("f1_micro", M.F1Score(average="micro"), "onehot"),
        run("f1_macro_t0.3", M.F1Score(average="macro", threshold=0.3), "onehot"),
        run("fbeta_weighted_b2", M.FBetaScore(average="weighted", beta=2.0), "onehot"),
        run("mean_iou", M.MeanIoU(num_classes=C), "segment"),
        run("mean_iou_ignore0", M.MeanIoU(num_classes=C, ignore_class=0), "segment"),
        run("mse", M.MeanSquaredError(), "regression"),
        run("mae", M.MeanAbsoluteError(), "regression"),
        run("rmse", M.RootMeanSquaredError(), "regression"),
        run("mape", M.MeanAbsolutePercentageError(), "regression"),
        run("msle", M.MeanSquaredLogarithmicError(), "positive"),
        run("cosine_similarity", M.CosineSimilarity(), "regression"),
        run("log_cosh_error", M.LogCoshError(), "regression"),
        run("hinge", M.Hinge(), "binary"),
        run("kl_divergence", M.KLDivergence(), "onehot"),
        run("poisson", M.Poisson(), "positive"),
        run("binary_crossentropy", M.BinaryCrossentropy(), "binary"),
        run("categorical_crossentropy", M.CategoricalCrossentropy(), "onehot"),
        run("sparse_categorical_crossentropy", M.SparseCategoricalCrossentropy(), "sparse"),
        run("mean", M.Mean(), "values"),
        run("sum", M.Sum(), "values"),
        # Confusion counts, the constrained rates and AUC's options (named, so that the config names are fixed).
        run("true_positives", M.TruePositives(name="true_positives"), "binary"),
        run("true_negatives_t", M.TrueNegatives(thresholds=[0.3, 0.6], name="tn"), "binary"),
        run("false_positives_t", M.FalsePositives(thresholds=0.7, name="fp"), "binary"),
        run("false_negatives_t", M.FalseNegatives(thresholds=[0.2, 0.5, 0.9], name="fn"), "binary"),
        run("precision_at_recall", M.PrecisionAtRecall(0.6, name="par"), "binary"),
        run("recall_at_precision", M.RecallAtPrecision(0.55, num_thresholds=50, name="rap"), "binary"),
        run("sensitivity_at_specificity", M.SensitivityAtSpecificity(0.5, class_id=1, name="sas"), "binary"),
        run("specificity_at_sensitivity", M.SpecificityAtSensitivity(0.4, name="sas2"), "binary"),
        run("specificity_at_sensitivity_1", M.SpecificityAtSensitivity(0.3, num_thresholds=1, name="sas1"), "binary"),
        run("auc_multi_label", M.AUC(multi_label=True, name="auc_ml"), "binary"),
        run("auc_multi_label_pr_weights", M.AUC(curve="PR", multi_label=True, num_labels=4, label_weights=[0.5, 1.0, 2.0, 0.0], name="auc_mlw"), "binary"),
        run("auc_label_weights", M.AUC(label_weights=[1.0, 0.0, 2.0, 0.5], name="auc_lw"), "binary"),
        run("auc_thresholds", M.AUC(thresholds=[0.7, 0.2, 0.5], name="auc_t"), "binary"),
        run("auc_thresholds_even_pr", M.AUC(thresholds=[0.25, 0.5, 0.75], curve="PR", name="auc_te"), "binary"),
        run("auc_prgain", M.AUC(curve="PRGAIN", name="auc_prgain"), "binary"),
        run("auc_prgain_minoring_50", M.AUC(curve="PRGAIN", summation_method="minoring", num_thresholds=50, name="auc_prgain_minoring_50"), "binary1"),
        run("auc_prgain_majoring", M.AUC(curve="PRGAIN", summation_method="majoring", name="auc_prgain_majoring"), "binary"),
        run("auc_prgain_multi_label", M.AUC(curve="PRGAIN", multi_label=True, name="auc_prgain_multi_label"), "binary"),
        # Every class's constructor arguments, `name` and `dtype` (float64 results compared at f32 precision).
        run("accuracy_f64", M.Accuracy(name="acc64", dtype="float64"), "segment"),
        run("binary_accuracy_t0.3", M.BinaryAccuracy(threshold=0.3, name="ba3"), "binary"),
        run("categorical_accuracy_named", M.CategoricalAccuracy(name="ca"), "onehot"),
        run("sparse_categorical_accuracy_f64", M.SparseCategoricalAccuracy(name="sca", dtype="float64"), "sparse"),
        run("sparse_top_k_sorted_ids_k2", M.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True), "sorted_ids"),
        run("cosine_similarity_axis1", M.CosineSimilarity(axis=1), "regression3"),
        run("binary_crossentropy_logits_ls", M.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), "binary_logits"),
        run("categorical_crossentropy_ls", M.CategoricalCrossentropy(label_smoothing=0.2, name="cce_ls"), "onehot"),
        run("sparse_categorical_crossentropy_ignore1", M.SparseCategoricalCrossentropy(ignore_class=1, name="scce_i1"), "sparse"),
        run("mse_f64", M.MeanSquaredError(name="m", dtype="float64"), "regression"),
        run("squared_hinge", M.SquaredHinge(), "binary"),
        run("categorical_hinge", M.CategoricalHinge(), "onehot"),
        run("mean_named", M.Mean(name="avg"), "values"),
        run("iou_0_2", M.IoU(num_classes=C, target_class_ids=[0, 2], name="iou02"), "segment"),
        run("binary_iou_t0.3", M.BinaryIoU(target_class_ids=[0, 1], threshold=0.3, name="biou"), "binary"),
        run("binary_iou_1", M.BinaryIoU(target_class_ids=[1], name="biou1"), "binary"),
        run("one_hot_iou_1_3", M.OneHotIoU(num_classes=C, target_class_ids=[1, 3], name="ohiou"), "onehot"),
        run("one_hot_mean_iou", M.OneHotMeanIoU(num_classes=C, name="ohmiou"), "onehot"),
    ]
    out = {"keras_version": keras.__version__, "cases": cases}
    path = os.path.join(os.path.dirname(__file__), "..", "crates", "engine", "tests", "fixtures", "keras_metrics_golden.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
