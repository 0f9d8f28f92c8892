//! The backward of a row lookup gives the table a row gradient (TensorFlow's IndexedSlices): the ids read, their
//! summed gradient rows and each lookup's squared row summed per id. Checked against values computed by hand and
//! against the dense gradient.

use ndarray::{ArrayD, IxDyn, arr2};
use rkeras_tensor::{Gradient, Tensor, Variable};

fn table() -> Variable {
    Variable::new(
        "table",
        arr2(&[[1.0f32, -1.0], [2.0, 0.5], [0.0, 3.0]]).into_dyn(),
    )
}

fn ids(shape: &[usize], v: &[f32]) -> Tensor {
    Tensor::from_vec(shape, v.to_vec()).unwrap()
}

#[test]
fn two_lookups_of_one_table_give_rows_with_per_lookup_squares() {
    let table = table();
    // Two gathers from the same table (as two Embedding calls sharing weights would do).
    let w1 = ids(&[2, 2, 2], &[1.0, 2.0, 3.0, 4.0, -5.0, 6.0, 7.0, -8.0]);
    let w2 = ids(&[1, 2], &[0.5, -0.25]);
    let t = table.tensor();
    let first = t.gather_rows(&ids(&[2, 2], &[0.0, 2.0, 2.0, 2.0])).unwrap();
    let second = t.gather_rows(&ids(&[1], &[2.0])).unwrap();
    let loss = first
        .mul(&w1)
        .unwrap()
        .sum_all()
        .unwrap()
        .add(&second.mul(&w2).unwrap().sum_all().unwrap())
        .unwrap();
    let grads = loss.backward().unwrap();
    // Lookups of row 2 carry (3, 4), (−5, 6), (7, −8) and (0.5, −0.25); row 0 carries (1, 2); row 1 nothing.
    let Some(Gradient::Rows(rows)) = grads.gradient_var(&table) else {
        panic!("a table read only by lookups gets a row gradient");
    };
    assert_eq!(rows.dense_shape(), [3, 2]);
    assert_eq!(rows.indices(), &[0, 2]);
    assert_eq!(
        rows.values(),
        &[1.0, 2.0, 3.0 - 5.0 + 7.0 + 0.5, 4.0 + 6.0 - 8.0 - 0.25]
    );
    assert_eq!(
        rows.squares(),
        &[
            1.0,
            4.0,
            9.0 + 25.0 + 49.0 + 0.25,
            16.0 + 36.0 + 64.0 + 0.0625
        ]
    );
    // The dense form is the scatter-add of the lookups.
    let dense = grads.dense_var(&table).unwrap().unwrap();
    assert_eq!(
        dense,
        ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![1.0, 2.0, 0.0, 0.0, 5.5, 1.75]).unwrap()
    );
    assert!(
        grads.get_var(&table).is_none(),
        "get_var gives dense gradients only"
    );
}

#[test]
fn a_table_also_used_densely_gets_a_dense_gradient() {
    // As TensorFlow adds an IndexedSlices and a dense tensor: the sum is dense.
    let table = table();
    let t = table.tensor();
    let looked_up = t
        .gather_rows(&ids(&[2], &[1.0, 1.0]))
        .unwrap()
        .sum_all()
        .unwrap();
    let loss = looked_up
        .add(&t.mul_scalar(2.0).unwrap().sum_all().unwrap())
        .unwrap();
    let grads = loss.backward().unwrap();
    let dense = grads.get_var(&table).expect("a dense gradient");
    assert_eq!(dense.as_slice().unwrap(), &[2.0, 2.0, 4.0, 4.0, 2.0, 2.0]);
}

#[test]
fn rows_reaching_an_intermediate_tensor_flow_on_densely() {
    // The looked-up table is computed (2·w), so its row gradient becomes dense before `mul_scalar`'s rule.
    let table = table();
    let doubled = table.tensor().mul_scalar(2.0).unwrap();
    let loss = doubled
        .gather_rows(&ids(&[3], &[2.0, 0.0, 2.0]))
        .unwrap()
        .mul(&ids(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
        .unwrap()
        .sum_all()
        .unwrap();
    let grads = loss.backward().unwrap();
    let dense = grads.get_var(&table).expect("a dense gradient");
    assert_eq!(dense.as_slice().unwrap(), &[6.0, 8.0, 0.0, 0.0, 12.0, 16.0]);
}
