//! Layers written outside the crate: a custom layer through the public `Layer` trait, rebuilt from a saved
//! model config by `register_layer` (by Keras's `registered_name` or class name); `Lambda` from a closure,
//! with inferred or given output shape, whose saving without a registration is a typed error saying why.

use rand::rngs::StdRng;
use rkeras_layers::serialization::ConfigReader;
use rkeras_layers::{
    CallContext, Dense, Input, Lambda, Layer, LayerCall, LayerCore, LayerRef, LayersError, Network,
    Shape, layer_from_config, register_layer, registered_layer_names,
};
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::{Value, json};
use std::sync::Arc;

/// `x · scale`, one learned scale per feature.
#[derive(Debug, Clone)]
struct Scale {
    core: LayerCore,
    init: f32,
}

impl Scale {
    fn from_config(config: &Value) -> rkeras_layers::Result<LayerRef> {
        let reader = ConfigReader::new("Scale", config)?;
        let init = reader.f32_or("init", 1.0)?;
        let core = match reader.name()? {
            Some(name) => LayerCore::named(name),
            None => LayerCore::new("scale"),
        };
        Ok(Arc::new(Scale { core, init }))
    }
}

impl Layer for Scale {
    fn class_name(&self) -> &'static str {
        "Scale"
    }
    fn core(&self) -> &LayerCore {
        &self.core
    }
    fn output_shape(&self, input_shapes: &[Shape]) -> rkeras_layers::Result<Shape> {
        Ok(input_shapes[0].clone())
    }
    fn build(
        &self,
        input_shapes: &[Shape],
        rng: &mut StdRng,
    ) -> rkeras_layers::Result<Vec<Variable>> {
        let shape = [*input_shapes[0].last().unwrap_or(&1)];
        let scale = Initializer::Constant(self.init)
            .sample(&shape, rng)
            .unwrap();
        Ok(vec![Variable::new("scale", scale)])
    }
    fn forward(&self, inputs: &[Tensor], _: &mut CallContext<'_>) -> rkeras_layers::Result<Tensor> {
        Ok(inputs[0].mul(&self.core.weight(0)?).unwrap())
    }
    fn config(&self) -> Value {
        json!({"name": self.name(), "trainable": true, "dtype": "float32", "init": self.init})
    }
    fn registered_name(&self) -> Option<String> {
        Some("Test>Scale".into())
    }
}

fn run(net: &Network, x: Tensor) -> Tensor {
    let mut rng = <StdRng as rand::SeedableRng>::seed_from_u64(0);
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    net.forward(&[x], &mut ctx).unwrap().remove(0)
}

#[test]
fn a_registered_custom_layer_is_rebuilt_from_a_saved_config() {
    let input = Input::new(&[3]);
    let scaled = Scale {
        core: LayerCore::named("my_scale"),
        init: 2.0,
    }
    .call(&input)
    .unwrap();
    let out = Dense::new(2).call(&scaled).unwrap();
    let net = Network::new(&[input], &[out]).unwrap();
    let config = net.to_config("custom");
    let entry = &config["config"]["layers"][1];
    assert_eq!(
        (
            &entry["class_name"],
            &entry["registered_name"],
            &entry["module"]
        ),
        (&json!("Scale"), &json!("Test>Scale"), &Value::Null)
    );
    // Unregistered: the error names the class and lists what is known.
    match Network::from_config(&config) {
        Err(LayersError::UnknownName { name, valid, .. }) => {
            assert_eq!(name, "Scale");
            assert!(valid.iter().any(|v| v == "Dense"));
        }
        Err(other) => panic!("expected UnknownName, received {other}"),
        Ok(_) => panic!("expected UnknownName, the config was read"),
    }
    register_layer("Test>Scale", Scale::from_config);
    assert!(registered_layer_names().contains(&"Test>Scale".to_string()));
    let rebuilt = Network::from_config(&config).unwrap();
    assert_eq!(rebuilt.to_config("custom"), config);
    let layer = rebuilt.layer("my_scale").unwrap();
    assert_eq!(
        (layer.class_name(), layer.config()["init"].clone()),
        ("Scale", json!(2.0))
    );
    // Same weights → same outputs: 2·x through the same Dense kernel.
    let values = net
        .weights()
        .iter()
        .map(|w| w.value().as_ref().clone())
        .collect::<Vec<_>>();
    for (w, v) in rebuilt.weights().iter().zip(values) {
        w.set_value(v).unwrap();
    }
    let x = Tensor::from_vec(&[2, 3], vec![1.0, -2.0, 0.5, 3.0, 0.0, -1.0]).unwrap();
    assert_eq!(run(&rebuilt, x.clone()).to_vec(), run(&net, x).to_vec());
    // The class name alone finds it too (Keras's custom_objects={"Scale": Scale}).
    assert_eq!(
        layer_from_config("Scale", &json!({"name": "s", "init": 0.5}))
            .unwrap()
            .name(),
        "s"
    );
}

#[test]
fn lambda_infers_or_takes_its_output_shape_and_computes() {
    let a = Input::new(&[2, 3]);
    let b = Input::new(&[2, 3]);
    let summed = Lambda::new(|xs| xs[0].add(&xs[1])?.sum(&[2], false))
        .call_many(&[a.clone(), b.clone()])
        .unwrap();
    assert_eq!(summed.shape(), &[2]);
    let given = Lambda::unary(|x| x.mul_scalar(3.0))
        .with_output_shape(|shapes| Ok(shapes[0].clone()))
        .call(&a)
        .unwrap();
    assert_eq!(given.shape(), &[2, 3]);
    let net = Network::new(&[a, b], &[summed, given]).unwrap();
    let x = Tensor::from_vec(&[1, 2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let mut rng = <StdRng as rand::SeedableRng>::seed_from_u64(0);
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    let outs = net.forward(&[x.clone(), x], &mut ctx).unwrap();
    assert_eq!(outs[0].to_vec(), vec![12.0, 30.0]);
    assert_eq!(outs[1].to_vec(), vec![3.0, 6.0, 9.0, 12.0, 15.0, 18.0]);
    // A function that drops the batch axis is a shape error naming the layer.
    let bad = Lambda::unary(|x| x.sum_all())
        .with_name("bad")
        .call(&Input::new(&[4]));
    assert!(bad.unwrap_err().to_string().contains("`bad`"));
}

#[test]
fn saving_a_lambda_needs_a_registration_and_says_why() {
    let input = Input::new(&[4]);
    let out = Lambda::unary(|x| x.mul_scalar(2.0))
        .with_name("double")
        .call(&input)
        .unwrap();
    let net = Network::new(std::slice::from_ref(&input), &[out]).unwrap();
    match net.check_serializable() {
        Err(LayersError::NotSerializable {
            layer,
            class,
            reason,
        }) => {
            assert_eq!((layer.as_str(), class), ("double", "Lambda"));
            assert!(
                reason.contains("closure") && reason.contains("register_layer"),
                "{reason}"
            );
        }
        other => panic!("expected NotSerializable, received {other:?}"),
    }
    // Named but not registered: says which registration is missing.
    let named = Lambda::unary(|x| x.mul_scalar(2.0)).with_registered_name("times_two_unregistered");
    assert!(
        named
            .check_serializable()
            .unwrap_err()
            .to_string()
            .contains("register_layer(\"times_two_unregistered\"")
    );
    // Registered: saved, rebuilt from its config, and computing the same.
    register_layer("times_k", |config| {
        let k = config["arguments"]["k"].as_f64().unwrap_or(1.0) as f32;
        let name = config["name"].as_str().unwrap_or("lambda").to_string();
        Ok(Arc::new(
            Lambda::unary(move |x| x.mul_scalar(k))
                .with_registered_name("times_k")
                .with_arguments(json!({"k": k}))
                .with_name(&name),
        ) as LayerRef)
    });
    let out = Lambda::unary(|x| x.mul_scalar(3.0))
        .with_registered_name("times_k")
        .with_arguments(json!({"k": 3.0}))
        .with_name("triple")
        .call(&input)
        .unwrap();
    let net = Network::new(&[input], &[out]).unwrap();
    net.check_serializable().unwrap();
    let config = net.to_config("lambda");
    assert_eq!(
        config["config"]["layers"][1]["registered_name"],
        json!("times_k")
    );
    let rebuilt = Network::from_config(&config).unwrap();
    let x = Tensor::from_vec(&[1, 4], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    assert_eq!(run(&rebuilt, x).to_vec(), vec![3.0, 6.0, 9.0, 12.0]);
}
