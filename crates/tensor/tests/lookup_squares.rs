//! Per-lookup squared gradients of gathered tables (what Keras's TensorFlow backend squares for embeddings).

use ndarray::{ArrayD, IxDyn, arr2};
use rkeras_tensor::{Tensor, Variable};

fn table() -> Variable {
    Variable::new(
        "table",
        arr2(&[[1.0f32, -1.0], [2.0, 0.5], [0.0, 3.0]]).into_dyn(),
    )
}

#[test]
fn every_lookup_contributes_its_own_square() {
    let table = table();
    // Two gathers from the same table (as two Embedding calls sharing weights would do).
    let first = Tensor::from_vec(&[2, 2], vec![0.0, 2.0, 2.0, 2.0]).unwrap();
    let second = Tensor::from_vec(&[1], vec![2.0]).unwrap();
    let w1 = Tensor::from_vec(&[2, 2, 2], vec![1.0, 2.0, 3.0, 4.0, -5.0, 6.0, 7.0, -8.0]).unwrap();
    let w2 = Tensor::from_vec(&[1, 2], vec![0.5, -0.25]).unwrap();
    let t = table.tensor();
    let loss = t
        .gather_rows(&first)
        .unwrap()
        .mul(&w1)
        .unwrap()
        .sum_all()
        .unwrap()
        .add(
            &t.gather_rows(&second)
                .unwrap()
                .mul(&w2)
                .unwrap()
                .sum_all()
                .unwrap(),
        )
        .unwrap();
    let grads = loss.backward_with_lookup_squares().unwrap();
    // Lookups of row 2 carry the gradient rows (3, 4), (−5, 6), (7, −8) and (0.5, −0.25); row 0 carries (1, 2).
    let expected_grad =
        ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![1.0, 2.0, 0.0, 0.0, 5.5, 1.75]).unwrap();
    let expected_squares = ArrayD::from_shape_vec(
        IxDyn(&[3, 2]),
        vec![
            1.0,
            4.0,
            0.0,
            0.0,
            9.0 + 25.0 + 49.0 + 0.25,
            16.0 + 36.0 + 64.0 + 0.0625,
        ],
    )
    .unwrap();
    assert_eq!(grads.get_var(&table).unwrap(), &expected_grad);
    assert_eq!(grads.lookup_squares_var(&table).unwrap(), &expected_squares);
    // A row looked up once records its gradient's square (row 0).
    assert_eq!(expected_squares[[0, 0]], expected_grad[[0, 0]].powi(2));
}

#[test]
fn plain_backward_records_no_squares_and_the_record_does_not_leak() {
    let table = table();
    let ids = Tensor::from_vec(&[2], vec![1.0, 1.0]).unwrap();
    let loss = table.tensor().gather_rows(&ids).unwrap().sum_all().unwrap();
    assert!(
        loss.backward()
            .unwrap()
            .lookup_squares_var(&table)
            .is_none()
    );
    let with = loss.backward_with_lookup_squares().unwrap();
    assert_eq!(
        with.lookup_squares_var(&table).unwrap().as_slice().unwrap(),
        &[0.0, 0.0, 2.0, 2.0, 0.0, 0.0]
    );
    // A later plain backward on this thread records nothing again.
    assert!(
        loss.backward()
            .unwrap()
            .lookup_squares_var(&table)
            .is_none()
    );
    // A failing backward (non-scalar) leaves no record behind either.
    let not_scalar = table.tensor().gather_rows(&ids).unwrap();
    assert!(not_scalar.backward_with_lookup_squares().is_err());
    assert!(
        loss.backward()
            .unwrap()
            .lookup_squares_var(&table)
            .is_none()
    );
}
