//! Training through masks carried by `Bidirectional`, `TimeDistributed`, the masked merges (`Maximum`,
//! `Multiply`) and `Concatenate` (their values are checked against Keras in `rkeras-layers`'s
//! `tests/masking.rs`): a seeded fit learns, and 1 or 2 threads give the same bits.

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{
    Bidirectional, Concatenate, Dense, Embedding, GRU, Input, LayerCall, Maximum, Multiply,
    TimeDistributed, set_random_seed,
};
use rkeras_optim::Adam;

fn model() -> Model {
    set_random_seed(7);
    let ids = Input::new(&[6]);
    let x = Embedding::new(12, 4)
        .with_mask_zero(true)
        .call(&ids)
        .unwrap();
    let a = Bidirectional::new(GRU::new(3).with_return_sequences(true))
        .unwrap()
        .call(&x)
        .unwrap();
    let b = TimeDistributed::new(Dense::new(6)).call(&x).unwrap();
    let max = Maximum::new().call_many(&[a.clone(), b.clone()]).unwrap();
    let product = Multiply::new().call_many(&[a, b]).unwrap();
    let joined = Concatenate::new().call_many(&[max, product]).unwrap();
    let h = GRU::new(4).call(&joined).unwrap();
    let y = Dense::new(3)
        .with_activation("softmax")
        .unwrap()
        .call(&h)
        .unwrap();
    let mut model = Model::new(&[ids], &y).unwrap();
    model
        .compile(
            Adam::new(0.01).unwrap(),
            "sparse_categorical_crossentropy",
            &["accuracy"],
        )
        .unwrap();
    model
}

/// 64 id sequences padded with zeros in front and inside; the class is the first kept id modulo 3.
fn data() -> (ArrayD<f32>, ArrayD<f32>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for n in 0..64usize {
        let pad = n % 4;
        let row: Vec<f32> = (0..6)
            .map(|t| {
                if t < pad || (t + n) % 5 == 0 {
                    0.0
                } else {
                    ((n * 7 + t * 3) % 11 + 1) as f32
                }
            })
            .collect();
        let first = row.iter().copied().find(|&v| v != 0.0).unwrap_or(0.0);
        y.push((first as usize % 3) as f32);
        x.extend(row);
    }
    (
        ArrayD::from_shape_vec(IxDyn(&[64, 6]), x).unwrap(),
        ArrayD::from_shape_vec(IxDyn(&[64]), y).unwrap(),
    )
}

fn fit_bits() -> (Vec<f64>, Vec<u32>) {
    let mut model = model();
    let (x, y) = data();
    let config = FitConfig::new()
        .batch_size(16)
        .epochs(8)
        .shuffle(false)
        .shards(2)
        .verbose(0);
    let history = model.fit(std::slice::from_ref(&x), &y, config).unwrap();
    let loss = history.get("loss").unwrap().to_vec();
    let bits = model
        .get_weights()
        .iter()
        .flat_map(|w| w.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        .collect();
    (loss, bits)
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn masked_wrappers_and_merges_train_and_give_the_same_bits_on_one_and_two_threads() {
    let (loss_one, one) = in_pool(1, fit_bits);
    let (loss_two, two) = in_pool(2, fit_bits);
    assert_eq!(one, two, "1 and 2 threads differ");
    assert_eq!(loss_one, loss_two);
    let (first, last) = (loss_one[0], *loss_one.last().unwrap());
    assert!(last < 0.8 * first, "the loss did not fall: {loss_one:?}");
}
