//! Golden tests against Keras 3.15 itself (fixture written by `scripts/keras_optimizers_golden.py`, TensorFlow
//! backend): AdamW, Nadam, Adamax, Lion and Ftrl over several steps on fixed gradients, with and without weight
//! decay, EMA (and its periodic overwrite), gradient accumulation and learning-rate schedules; every optimizer
//! variable at the end (by Keras's path), the weights after `finalize_variable_values`, and the config read back
//! and written again; every schedule at 25 steps and its serialised form.

mod common;

use common::assert_close;
use ndarray::{ArrayD, IxDyn};
use rkeras_optim::schedules::LearningRateSchedule;
use rkeras_optim::{Optimizer, nadam_u_product, optimizer_from_config};
use serde_json::Value;

fn fixture() -> Value {
    let text = include_str!("fixtures/keras_optimizers.json");
    serde_json::from_str(text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn arrays(values: &Value, shapes: &[Vec<usize>]) -> Vec<ArrayD<f32>> {
    values
        .as_array()
        .unwrap()
        .iter()
        .zip(shapes)
        .map(|(v, shape)| {
            let data: Vec<f32> = floats(v).into_iter().map(|x| x as f32).collect();
            ArrayD::from_shape_vec(IxDyn(shape), data).unwrap()
        })
        .collect()
}

fn assert_all_close(got: &ArrayD<f32>, want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(*g, *w, &format!("{what}[{i}]"));
    }
}

/// Keras's config and ours agree key by key (numbers to f32 precision, schedules exactly).
fn assert_same_config(ours: &Value, keras: &Value, case: &str) {
    let (ours, keras) = (ours.as_object().unwrap(), keras.as_object().unwrap());
    let mut keys: Vec<&String> = keras.keys().collect();
    keys.sort();
    let mut our_keys: Vec<&String> = ours.keys().collect();
    our_keys.sort();
    assert_eq!(our_keys, keys, "{case}: config keys");
    for (key, want) in keras {
        let got = &ours[key];
        match (got.as_f64(), want.as_f64()) {
            (Some(g), Some(w)) => assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{case}: {key} {g} vs {w}"
            ),
            _ => assert_eq!(got, want, "{case}: {key}"),
        }
    }
}

#[test]
fn optimizers_match_keras_step_by_step() {
    let fx = fixture();
    let shapes: Vec<Vec<usize>> = fx["shapes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect()
        })
        .collect();
    let cases = fx["optimizers"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let class_name = case["class_name"].as_str().unwrap();
        let mut opt = optimizer_from_config(class_name, &case["config"])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_same_config(&opt.config(), &case["config"], name);
        let mut params = arrays(&fx["initial"], &shapes);
        let steps = case["steps"].as_u64().unwrap() as usize;
        for step in 0..steps {
            let grads = arrays(&fx["gradients"][step], &shapes);
            let mut refs: Vec<&mut ArrayD<f32>> = params.iter_mut().collect();
            let grad_refs: Vec<&ArrayD<f32>> = grads.iter().collect();
            opt.apply_gradients(&mut refs, &grad_refs).unwrap();
            for (p, (param, want)) in params
                .iter()
                .zip(case["history"][step].as_array().unwrap())
                .enumerate()
            {
                assert_all_close(param, &floats(want), &format!("{name} step {step} w{p}"));
            }
        }
        assert_eq!(opt.iterations(), steps as u64, "{name}");
        assert_close(
            opt.learning_rate() as f32,
            case["learning_rate"].as_f64().unwrap(),
            name,
        );
        check_variables(opt.as_ref(), case, name);
        let mut refs: Vec<&mut ArrayD<f32>> = params.iter_mut().collect();
        opt.finalize_variable_values(&mut refs).unwrap();
        for (p, (param, want)) in params
            .iter()
            .zip(case["finalized"].as_array().unwrap())
            .enumerate()
        {
            assert_all_close(param, &floats(want), &format!("{name} finalized w{p}"));
        }
    }
}

/// Every Keras optimizer variable (`{name}/iteration`, `{name}/learning_rate`, `{name}/w{i}_{slot}`, Nadam's
/// `u_product`) against ours.
fn check_variables(opt: &dyn Optimizer, case: &Value, name: &str) {
    let state = opt.state();
    let prefix = format!("{}/", opt.name());
    let mut slots_seen = 0;
    for var in case["variables"].as_array().unwrap() {
        let path = var["path"].as_str().unwrap();
        let value = floats(&var["value"]);
        let local = path
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{name}: {path}"));
        match local {
            "iteration" => assert_eq!(state.iterations as f64, value[0], "{name}"),
            "learning_rate" => assert_close(state.learning_rate.unwrap() as f32, value[0], name),
            _ if local.starts_with("variable") => {
                let beta_1 = case["config"]["beta_1"].as_f64().unwrap();
                assert_close(nadam_u_product(beta_1, state.iterations), value[0], name);
            }
            _ => {
                let (param, slot) = local.split_once('_').unwrap();
                let index: usize = param.trim_start_matches('w').parse().unwrap();
                let ours = state
                    .slots
                    .iter()
                    .find(|s| s.param_index == index && s.slot == slot)
                    .unwrap_or_else(|| panic!("{name}: no slot {slot} of {index}"));
                assert_all_close(&ours.value, &value, &format!("{name} {path}"));
                slots_seen += 1;
            }
        }
    }
    assert_eq!(state.slots.len(), slots_seen, "{name}: slot count");
    // With a schedule Keras keeps no learning-rate variable, and neither does the state.
    let keras_has_rate = case["variables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["path"].as_str().unwrap().ends_with("/learning_rate"));
    assert_eq!(state.learning_rate.is_some(), keras_has_rate, "{name}");
}

#[test]
fn schedules_match_keras_at_every_step_and_serialise_as_keras() {
    let fx = fixture();
    for case in fx["schedules"].as_array().unwrap() {
        let serialized = &case["serialized"];
        let schedule = LearningRateSchedule::from_keras(serialized).unwrap();
        assert_eq!(schedule.class_name(), case["class_name"].as_str().unwrap());
        assert_eq!(&schedule.to_keras(), serialized);
        for (step, want) in case["steps"]
            .as_array()
            .unwrap()
            .iter()
            .zip(floats(&case["values"]))
        {
            let step = step.as_u64().unwrap();
            let got = schedule.value(step);
            let tol = 1e-7 + 1e-6 * want.abs();
            assert!(
                (f64::from(got) - want).abs() <= tol,
                "{} at step {step}: {got} vs Keras {want}",
                schedule.class_name()
            );
        }
    }
}

#[test]
fn default_configs_match_keras() {
    let fx = fixture();
    for (class, keras) in fx["defaults"].as_object().unwrap() {
        let mut keras = keras.clone();
        // Keras numbers its default names per process (`ftrl_2`); compare the rest.
        keras.as_object_mut().unwrap().remove("name");
        let opt = rkeras_optim::optimizer_from_name(class).unwrap();
        let mut ours = opt.config();
        ours.as_object_mut().unwrap().remove("name");
        assert_same_config(&ours, &keras, class);
    }
}

/// `exclude_from_weight_decay(var_names=...)` on a Dense layer's kernel and bias, as Keras 3.15 (TensorFlow backend)
/// matches the names: a regular expression searched in the path (`dense/bias`), so `["dense"]` excludes both.
/// Every weight after every step within 1e-6 of Keras.
#[test]
fn weight_decay_exclusions_match_keras() {
    let fx = fixture();
    let cases = fx["exclusions"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let shapes: Vec<Vec<usize>> = case["shapes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| floats(s).into_iter().map(|x| x as usize).collect())
            .collect();
        let class_name = case["class_name"].as_str().unwrap();
        let mut opt = optimizer_from_config(class_name, &case["config"]).unwrap();
        let patterns: Vec<&str> = case["var_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        opt.exclude_from_weight_decay(&patterns).unwrap();
        assert_eq!(opt.weight_decay_exclusions(), patterns.as_slice());
        let paths: Vec<&str> = case["variable_paths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        opt.name_variables(&paths);
        let mut params = arrays(&case["initial"], &shapes);
        let gradients = case["gradients"].as_array().unwrap();
        for (step, want) in case["history"].as_array().unwrap().iter().enumerate() {
            let grads = arrays(&gradients[step], &shapes);
            let mut refs: Vec<&mut ArrayD<f32>> = params.iter_mut().collect();
            let grad_refs: Vec<&ArrayD<f32>> = grads.iter().collect();
            opt.apply_gradients(&mut refs, &grad_refs).unwrap();
            for (p, (got, want)) in params.iter().zip(want.as_array().unwrap()).enumerate() {
                for (k, (g, w)) in got.iter().zip(floats(want)).enumerate() {
                    assert!(
                        (f64::from(*g) - w).abs() <= 1e-6,
                        "{name}: step {} {} element {k}: {g} vs {w}",
                        step + 1,
                        paths[p]
                    );
                }
            }
        }
        // Keras's ValueError once built.
        assert!(
            opt.exclude_from_weight_decay(&["kernel"]).is_err(),
            "{name}"
        );
    }
    // The exclusion matters: without it the bias of the first case ends elsewhere.
    let case = &cases[0];
    let shapes = vec![vec![2, 3], vec![3]];
    let class_name = case["class_name"].as_str().unwrap();
    let mut opt = optimizer_from_config(class_name, &case["config"]).unwrap();
    let mut params = arrays(&case["initial"], &shapes);
    for gradient in case["gradients"].as_array().unwrap() {
        let grads = arrays(gradient, &shapes);
        let mut refs: Vec<&mut ArrayD<f32>> = params.iter_mut().collect();
        opt.apply_gradients(&mut refs, &grads.iter().collect::<Vec<_>>())
            .unwrap();
    }
    let keras_bias = floats(&case["history"].as_array().unwrap().last().unwrap()[1]);
    let gap = params[1]
        .iter()
        .zip(&keras_bias)
        .map(|(g, w)| (f64::from(*g) - w).abs())
        .fold(0.0, f64::max);
    assert!(gap > 1e-4, "decayed bias within {gap} of the excluded one");
}
