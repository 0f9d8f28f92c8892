//! Inputs for `fit`: f32 arrays, or bytes kept as bytes and made f32 one batch at a time ([`ByteArray`]), so
//! that a dataset of 8-bit images costs a quarter of its f32 size while training.

use crate::error::{EngineError, Result};
use ndarray::{ArrayD, Axis};

/// Bytes standing for the f32 values `byte as f32 / divisor` (NumPy's `x.astype("float32") / divisor`, the
/// same bits), converted per batch. `divisor` 1 is Keras's cast of a `uint8` array to the model's `float32`
/// input.
///
/// ```
/// use rkeras_engine::inputs::ByteArray;
/// let pixels = ndarray::arr2(&[[0u8, 51], [255, 102]]).into_dyn();
/// let x = ByteArray::new(pixels, 255.0)?;
/// assert_eq!(x.to_f32().into_raw_vec_and_offset().0, vec![0.0, 0.2, 1.0, 0.4]);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ByteArray {
    values: ArrayD<u8>,
    divisor: f32,
}

impl ByteArray {
    /// `values` standing for `values as f32 / divisor`; `divisor` must be finite and non-zero.
    pub fn new(values: ArrayD<u8>, divisor: f32) -> Result<Self> {
        if !divisor.is_finite() || divisor == 0.0 {
            return Err(EngineError::invalid(
                "divisor",
                format!("expected a finite, non-zero value, received {divisor}"),
            ));
        }
        let values = if values.is_standard_layout() {
            values
        } else {
            values.as_standard_layout().into_owned()
        };
        Ok(ByteArray { values, divisor })
    }

    /// The shape (`[samples, ...]`).
    pub fn shape(&self) -> &[usize] {
        self.values.shape()
    }

    /// The bytes.
    pub fn bytes(&self) -> &ArrayD<u8> {
        &self.values
    }

    /// The values as f32, all of them.
    pub fn to_f32(&self) -> ArrayD<f32> {
        let d = self.divisor;
        self.values.mapv(|b| f32::from(b) / d)
    }

    /// The f32 values of the rows `indices`.
    pub(crate) fn take_rows(&self, indices: &[usize]) -> ArrayD<f32> {
        let d = self.divisor;
        let convert = |b: u8| f32::from(b) / d;
        crate::data::take_whole_rows(&self.values, indices, convert)
            .unwrap_or_else(|| self.values.select(Axis(0), indices).mapv(convert))
    }

    /// Rows `start..end`, still bytes.
    fn rows(&self, start: usize, end: usize) -> ByteArray {
        ByteArray {
            values: crate::data::row_range(&self.values, start, end),
            divisor: self.divisor,
        }
    }
}

/// One model input's samples: an f32 array or a [`ByteArray`].
#[derive(Debug, Clone, PartialEq)]
pub enum InputArray {
    /// f32 values.
    F32(ArrayD<f32>),
    /// Bytes made f32 per batch.
    Bytes(ByteArray),
}

impl From<ArrayD<f32>> for InputArray {
    fn from(values: ArrayD<f32>) -> Self {
        InputArray::F32(values)
    }
}

impl From<ByteArray> for InputArray {
    fn from(values: ByteArray) -> Self {
        InputArray::Bytes(values)
    }
}

impl InputArray {
    /// A borrowed view.
    pub(crate) fn view(&self) -> InputRef<'_> {
        match self {
            InputArray::F32(a) => InputRef::F32(a),
            InputArray::Bytes(b) => InputRef::Bytes(b),
        }
    }
}

/// A borrowed model input: what `fit` reads its batches from.
#[derive(Debug, Clone, Copy)]
pub enum InputRef<'a> {
    /// f32 values.
    F32(&'a ArrayD<f32>),
    /// Bytes made f32 per batch.
    Bytes(&'a ByteArray),
}

/// What `fit` needs of one input's samples: their shape, a check of their values, and rows as f32.
pub(crate) trait Samples {
    /// The shape (`[samples, ...]`).
    fn sample_shape(&self) -> &[usize];
    /// The position and value of the first non-finite value, if any.
    fn first_non_finite(&self) -> Option<(usize, f32)>;
    /// The f32 values of the rows `indices`.
    fn rows_f32(&self, indices: &[usize]) -> ArrayD<f32>;
    /// The f32 values of the rows `start..end`.
    fn range_f32(&self, start: usize, end: usize) -> ArrayD<f32>;
}

impl Samples for ArrayD<f32> {
    fn sample_shape(&self) -> &[usize] {
        self.shape()
    }
    fn first_non_finite(&self) -> Option<(usize, f32)> {
        self.iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
            .map(|(i, &v)| (i, v))
    }
    fn rows_f32(&self, indices: &[usize]) -> ArrayD<f32> {
        crate::data::take_rows(self, indices)
    }
    fn range_f32(&self, start: usize, end: usize) -> ArrayD<f32> {
        crate::data::row_range(self, start, end)
    }
}

impl Samples for InputRef<'_> {
    fn sample_shape(&self) -> &[usize] {
        match self {
            InputRef::F32(a) => a.shape(),
            InputRef::Bytes(b) => b.shape(),
        }
    }
    fn first_non_finite(&self) -> Option<(usize, f32)> {
        match self {
            InputRef::F32(a) => a.first_non_finite(),
            // A byte over a finite, non-zero divisor is finite.
            InputRef::Bytes(_) => None,
        }
    }
    fn rows_f32(&self, indices: &[usize]) -> ArrayD<f32> {
        match self {
            InputRef::F32(a) => a.rows_f32(indices),
            InputRef::Bytes(b) => b.take_rows(indices),
        }
    }
    fn range_f32(&self, start: usize, end: usize) -> ArrayD<f32> {
        match self {
            InputRef::F32(a) => a.range_f32(start, end),
            InputRef::Bytes(b) => b.take_rows(&(start..end).collect::<Vec<_>>()),
        }
    }
}

impl Samples for InputArray {
    fn sample_shape(&self) -> &[usize] {
        match self {
            InputArray::F32(a) => a.shape(),
            InputArray::Bytes(b) => b.shape(),
        }
    }
    fn first_non_finite(&self) -> Option<(usize, f32)> {
        self.view().first_non_finite()
    }
    fn rows_f32(&self, indices: &[usize]) -> ArrayD<f32> {
        self.view().rows_f32(indices)
    }
    fn range_f32(&self, start: usize, end: usize) -> ArrayD<f32> {
        self.view().range_f32(start, end)
    }
}

impl InputRef<'_> {
    /// Rows `start..end` as an owned input of the same kind (`validation_split`'s cut).
    pub(crate) fn rows(&self, start: usize, end: usize) -> InputArray {
        match self {
            InputRef::F32(a) => InputArray::F32(crate::data::row_range(a, start, end)),
            InputRef::Bytes(b) => InputArray::Bytes(b.rows(start, end)),
        }
    }
}

/// `fit`'s inputs by reference: a slice, `Vec` or array of f32 arrays or of [`InputArray`]s (one per model
/// input).
///
/// ```
/// use rkeras_engine::inputs::{AsInputs, ByteArray, InputArray};
/// let x = ndarray::ArrayD::<f32>::zeros(ndarray::IxDyn(&[2, 3]));
/// let bytes = ByteArray::new(ndarray::ArrayD::zeros(ndarray::IxDyn(&[2, 4])), 255.0)?;
/// assert_eq!([x.clone()].input_list().len(), 1);
/// assert_eq!(vec![InputArray::from(x), InputArray::from(bytes)].input_list().len(), 2);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub trait AsInputs {
    /// One input per model input.
    fn input_list(&self) -> Vec<InputRef<'_>>;
}

impl AsInputs for [ArrayD<f32>] {
    fn input_list(&self) -> Vec<InputRef<'_>> {
        self.iter().map(InputRef::F32).collect()
    }
}

impl AsInputs for Vec<ArrayD<f32>> {
    fn input_list(&self) -> Vec<InputRef<'_>> {
        self.as_slice().input_list()
    }
}

impl<const N: usize> AsInputs for [ArrayD<f32>; N] {
    fn input_list(&self) -> Vec<InputRef<'_>> {
        self.as_slice().input_list()
    }
}

impl AsInputs for [InputArray] {
    fn input_list(&self) -> Vec<InputRef<'_>> {
        self.iter().map(InputArray::view).collect()
    }
}

impl AsInputs for Vec<InputArray> {
    fn input_list(&self) -> Vec<InputRef<'_>> {
        self.as_slice().input_list()
    }
}

impl<const N: usize> AsInputs for [InputArray; N] {
    fn input_list(&self) -> Vec<InputRef<'_>> {
        self.as_slice().input_list()
    }
}

/// Owned inputs (for `validation_data`): a `Vec` or array of f32 arrays or of [`InputArray`]s.
pub trait IntoInputs {
    /// One input per model input.
    fn into_inputs(self) -> Vec<InputArray>;
}

impl IntoInputs for Vec<ArrayD<f32>> {
    fn into_inputs(self) -> Vec<InputArray> {
        self.into_iter().map(InputArray::F32).collect()
    }
}

impl<const N: usize> IntoInputs for [ArrayD<f32>; N] {
    fn into_inputs(self) -> Vec<InputArray> {
        self.into_iter().map(InputArray::F32).collect()
    }
}

impl IntoInputs for Vec<InputArray> {
    fn into_inputs(self) -> Vec<InputArray> {
        self
    }
}

impl<const N: usize> IntoInputs for [InputArray; N] {
    fn into_inputs(self) -> Vec<InputArray> {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes() -> ByteArray {
        let values: Vec<u8> = (0..24).map(|v| (v * 11 % 256) as u8).collect();
        ByteArray::new(
            ArrayD::from_shape_vec(ndarray::IxDyn(&[4, 3, 2]), values).unwrap(),
            255.0,
        )
        .unwrap()
    }

    #[test]
    fn rows_of_bytes_are_the_rows_of_the_f32_array_bit_for_bit() {
        let b = bytes();
        // NumPy's `x.astype("float32") / 255`.
        let f = b.bytes().mapv(|v| v as f32 / 255.0);
        assert_eq!(b.to_f32(), f);
        let r = InputRef::Bytes(&b);
        for indices in [vec![3, 0, 0, 2], vec![], vec![1]] {
            assert_eq!(r.rows_f32(&indices), crate::data::take_rows(&f, &indices));
        }
        assert_eq!(r.range_f32(1, 3), crate::data::row_range(&f, 1, 3));
        assert_eq!(
            r.rows(1, 3),
            InputArray::Bytes(
                ByteArray::new(
                    b.bytes().slice_axis(Axis(0), (1..3).into()).to_owned(),
                    255.0
                )
                .unwrap()
            )
        );
        assert_eq!(r.sample_shape(), &[4, 3, 2]);
        assert_eq!(r.first_non_finite(), None);
    }

    #[test]
    fn a_transposed_byte_array_is_read_in_logical_order() {
        let b = bytes();
        let t = ByteArray::new(b.bytes().t().to_owned(), 2.0).unwrap();
        let f = b.bytes().t().mapv(|v| v as f32 / 2.0);
        assert_eq!(
            InputRef::Bytes(&t).rows_f32(&[1, 0]),
            f.select(Axis(0), &[1, 0])
        );
    }

    #[test]
    fn a_divisor_must_be_finite_and_non_zero() {
        let values = ArrayD::zeros(ndarray::IxDyn(&[1, 1]));
        for d in [0.0, f32::NAN, f32::INFINITY] {
            assert!(ByteArray::new(values.clone(), d).is_err());
        }
    }
}
