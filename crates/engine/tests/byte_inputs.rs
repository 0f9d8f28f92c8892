//! `fit` on bytes made f32 per batch ([`ByteArray`]) trains bit for bit as on the f32 array `bytes / divisor`:
//! the weights and every logged value, with `validation_data` and `validation_split` given as bytes too, on
//! one and two threads.

use ndarray::{Array1, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_engine::{ByteArray, FitConfig, History, InputArray, Model, Sequential};
use rkeras_layers::{Conv2D, Dense, Dropout, Flatten, MaxPooling2D, set_random_seed};

mod common;
use common::{history_bits, on_threads, weight_bits};

/// Images `[n, 8, 8, 1]` of bytes and a class per image (learnable: the brighter half of the image).
fn data(n: usize, seed: u64) -> (ArrayD<u8>, ArrayD<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = ArrayD::from_shape_fn(IxDyn(&[n, 8, 8, 1]), |_| rng.random::<u8>());
    let y = Array1::from_shape_fn(n, |i| {
        let top: u32 = (0..32).map(|p| u32::from(x[[i, p / 8, p % 8, 0]])).sum();
        let bottom: u32 = (32..64).map(|p| u32::from(x[[i, p / 8, p % 8, 0]])).sum();
        f32::from(u8::from(top > bottom))
    });
    (x, y.into_dyn())
}

/// A small convnet of the MNIST model's kinds of layers (the convolution, ReLU and pooling run as one op).
fn convnet() -> Model {
    set_random_seed(3);
    let mut model = Sequential::new(&[8, 8, 1])
        .add(Conv2D::new(4, [3, 3]).with_activation("relu").unwrap())
        .unwrap()
        .add(MaxPooling2D::new([2, 2]))
        .unwrap()
        .add(Dropout::new(0.25))
        .unwrap()
        .add(Flatten::new())
        .unwrap()
        .add(Dense::new(2).with_activation("softmax").unwrap())
        .unwrap()
        .build()
        .unwrap();
    model
        .compile("adam", "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
}

/// The bits of every weight, and of every logged value key by key.
type Bits = (Vec<Vec<u32>>, Vec<(String, Vec<u64>)>);

fn bits(model: &Model, history: &History) -> Bits {
    (weight_bits(&model.get_weights()), history_bits(history))
}

/// Two shards per batch whatever the thread count, so that 1 and 2 threads run the same arithmetic.
fn config<'a>() -> FitConfig<'a> {
    FitConfig::new()
        .epochs(2)
        .batch_size(16)
        .verbose(0)
        .seed(5)
        .shards(2)
}

/// Trains on bytes or on their f32 values; `split` validates on the last quarter, else on separate data.
fn train(as_bytes: bool, split: bool) -> Bits {
    let ((x, y), (vx, vy)) = (data(56, 1), data(20, 2));
    let input = |x: ArrayD<u8>| -> InputArray {
        if as_bytes {
            ByteArray::new(x, 255.0).unwrap().into()
        } else {
            // NumPy's `x.astype("float32") / 255`.
            x.mapv(|b| f32::from(b) / 255.0).into()
        }
    };
    let mut model = convnet();
    let config = if split {
        config().validation_split(0.25)
    } else {
        config().validation_data(vec![input(vx)], vy)
    };
    let history = model.fit(&[input(x)], &y, config).unwrap();
    bits(&model, &history)
}

#[test]
fn bytes_train_as_their_f32_values_bit_for_bit() {
    for split in [false, true] {
        let floats = on_threads(1, || train(false, split));
        let bytes = on_threads(1, || train(true, split));
        assert_eq!(bytes, floats, "validation_split: {split}");
        assert_eq!(on_threads(2, || train(true, split)), floats, "2 threads");
        assert!(floats.1.iter().any(|(k, _)| k == "val_loss"));
    }
}

#[test]
fn plain_f32_arrays_still_fit_as_before() {
    let (x, y) = data(56, 1);
    let f = x.mapv(|b| f32::from(b) / 255.0);
    let (mut a, mut b) = (convnet(), convnet());
    let history_a = a.fit(std::slice::from_ref(&f), &y, config()).unwrap();
    let wrapped = vec![InputArray::from(f)];
    let history_b = b.fit(&wrapped, &y, config()).unwrap();
    assert_eq!(bits(&a, &history_a), bits(&b, &history_b));
}

#[test]
fn byte_inputs_are_checked_against_the_model() {
    let (x, y) = data(10, 1);
    let flat = x.into_shape_with_order(IxDyn(&[10, 64])).unwrap();
    let err = convnet()
        .fit(
            &[InputArray::from(ByteArray::new(flat, 255.0).unwrap())],
            &y,
            config(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("x[0]") && err.contains("[10, 64]"), "{err}");
}
