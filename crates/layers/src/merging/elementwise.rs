//! `ElementwiseMerge`: the one layer behind Keras's elementwise merges ([`Add`](super::Add),
//! [`Multiply`](super::Multiply), [`Subtract`](super::Subtract), [`Average`](super::Average),
//! [`Maximum`](super::Maximum), [`Minimum`](super::Minimum)). Each of those is this layer with a [`MergeOp`]
//! that names the Keras class and combines two tensors; shapes, building, configs and names are shared.
//!
//! ```
//! use rkeras_layers::merging::{ElementwiseMerge, MaximumOp};
//! use rkeras_layers::{Layer, Maximum, Subtract};
//! let layer: ElementwiseMerge<MaximumOp> = Maximum::new().with_name("widest");
//! assert_eq!((layer.class_name(), layer.name()), ("Maximum", "widest"));
//! assert_eq!(Subtract::new().output_shape(&[vec![4, 3], vec![1, 3]])?, vec![4, 3]);
//! assert!(Subtract::new().output_shape(&[vec![3], vec![3], vec![3]]).is_err());
//! # Ok::<(), rkeras_layers::LayersError>(())
//! ```

use super::{base, masked_values};
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, TensorError, Variable};
use std::fmt;
use std::marker::PhantomData;

/// The fewest inputs an elementwise merge takes.
const MIN_INPUTS: usize = 2;

/// Keeps [`MergeOp`] to the merges of this module, each of which [`crate::layer_from_config`] knows.
pub(super) mod sealed {
    /// Implemented only by the merge operations of this module.
    pub trait Sealed {}
}

/// What sets one elementwise merge apart: its Keras class, its automatic names, how many inputs it takes
/// and how it combines them. Implemented by [`AddOp`](super::AddOp), [`MultiplyOp`](super::MultiplyOp),
/// [`SubtractOp`](super::SubtractOp), [`AverageOp`](super::AverageOp), [`MaximumOp`](super::MaximumOp)
/// and [`MinimumOp`](super::MinimumOp).
pub trait MergeOp: sealed::Sealed + Send + Sync + 'static {
    /// Keras's class name (`"Add"`), written in configs.
    const CLASS_NAME: &'static str;
    /// The prefix of automatic layer names (`"add"` gives `add`, `add_1`, …).
    const NAME_PREFIX: &'static str;
    /// The most inputs the layer takes; `None` for any number from two up.
    const MAX_INPUTS: Option<usize> = None;

    /// Combines the result so far with the next input (both already brought to the same rank).
    fn combine(acc: &Tensor, next: &Tensor) -> std::result::Result<Tensor, TensorError>;

    /// The output, from the combination of all `count` inputs: the combination itself unless overridden.
    fn finish(combined: Tensor, count: usize) -> std::result::Result<Tensor, TensorError> {
        let _ = count;
        Ok(combined)
    }
}

/// An elementwise merge of 2 or more inputs, folded left to right with `Op::combine`.
///
/// Shapes follow Keras's broadcasting: aligned on the right (batch axis excluded), each axis equal or 1;
/// an input of lower rank gets size-1 axes after the batch axis.
///
/// # Shapes
/// inputs `[d1, …, dn]` (broadcastable), output the broadcast shape.
pub struct ElementwiseMerge<Op: MergeOp> {
    core: LayerCore,
    op: PhantomData<fn() -> Op>,
}

impl<Op: MergeOp> ElementwiseMerge<Op> {
    /// A new layer with an automatic name (`add`, `add_1`, … for `Add`).
    pub fn new() -> Self {
        ElementwiseMerge {
            core: LayerCore::new(Op::NAME_PREFIX),
            op: PhantomData,
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`name`).
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let reader = ConfigReader::new(Op::CLASS_NAME, config)?;
        Ok(match reader.name()? {
            Some(name) => Self::new().with_name(name),
            None => Self::new(),
        })
    }
}

impl<Op: MergeOp> Default for ElementwiseMerge<Op> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Op: MergeOp> Clone for ElementwiseMerge<Op> {
    fn clone(&self) -> Self {
        ElementwiseMerge {
            core: self.core.clone(),
            op: PhantomData,
        }
    }
}

/// Prints as the Keras class (`Add { core: … }`).
impl<Op: MergeOp> fmt::Debug for ElementwiseMerge<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(Op::CLASS_NAME)
            .field("core", &self.core)
            .finish()
    }
}

impl<Op: MergeOp> Layer for ElementwiseMerge<Op> {
    fn class_name(&self) -> &'static str {
        Op::CLASS_NAME
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        base::elementwise_output_shape(self, input_shapes, MIN_INPUTS, Op::MAX_INPUTS)
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let combined = base::fold_inputs(self, inputs, MIN_INPUTS, Op::combine)?;
        Op::finish(combined, inputs.len()).in_layer(self.name())
    }

    /// Every elementwise merge passes masks on (Keras's `Merge.supports_masking`).
    fn supports_masking(&self) -> bool {
        true
    }

    /// `Multiply`, `Maximum` and `Minimum` leave masked steps out of their values, as Keras's do (see
    /// `masked_values`); `Add`, `Subtract` and `Average` ignore masks in their values.
    fn forward_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        _ctx: &mut CallContext<'_>,
    ) -> Result<Option<Vec<Tensor>>> {
        let aligned = || base::aligned_inputs(self, inputs, MIN_INPUTS);
        let output = match Op::CLASS_NAME {
            "Multiply" => masked_values::multiply(&aligned()?, masks),
            "Maximum" | "Minimum" => masked_values::extreme(&aligned()?, masks, Op::combine),
            _ => return Ok(None),
        };
        Ok(Some(vec![output.in_layer(self.name())?]))
    }

    /// Keras's `Merge.compute_mask`: the logical OR of the inputs' masks, none when an input has none.
    fn compute_mask(&self, _inputs: &[Tensor], masks: &[Option<Tensor>]) -> Result<Option<Tensor>> {
        let all = masks.iter().cloned().collect::<Option<Vec<Tensor>>>();
        let (true, Some(masks)) = (self.supports_masking(), all) else {
            return Ok(None);
        };
        let mut joined: Option<ndarray::ArrayD<f32>> = None;
        for mask in &masks {
            joined = Some(match joined {
                None => mask.data().mapv(|m| f32::from(m != 0.0)),
                Some(j) => {
                    if j.shape() != mask.shape() {
                        return Err(LayersError::Graph(format!(
                            "layer `{}`: masks of shapes {:?} and {:?} cannot be joined",
                            self.name(),
                            j.shape(),
                            mask.shape()
                        )));
                    }
                    ndarray::Zip::from(&j)
                        .and(mask.data())
                        .map_collect(|&a, &b| f32::from(a != 0.0 || b != 0.0))
                }
            });
        }
        Ok(joined.map(Tensor::new))
    }

    fn config(&self) -> serde_json::Value {
        serde_json::Value::Object(base_config(self.name(), true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{LayerRef, reset_names};
    use crate::merging::test_support::run;
    use crate::merging::{AddOp, AverageOp, MaximumOp, MinimumOp, MultiplyOp, SubtractOp};
    use crate::symbolic::{Input, LayerCall, apply};
    use std::sync::Arc;

    type Binary = fn(f32, f32) -> f32;
    type Ternary = fn(f32, f32, f32) -> f32;

    /// One merge as the tests see it: how to make it, and its definition on scalars.
    struct Case {
        class: &'static str,
        named: fn(&str) -> LayerRef,
        from_config: fn(&serde_json::Value) -> Result<LayerRef>,
        two: Binary,
        /// The result on three inputs; `None` for a merge of exactly two.
        three: Option<Ternary>,
    }

    fn case<Op: MergeOp>(two: Binary, three: Option<Ternary>) -> Case {
        Case {
            class: Op::CLASS_NAME,
            named: |name| Arc::new(ElementwiseMerge::<Op>::new().with_name(name)),
            from_config: |config| Ok(Arc::new(ElementwiseMerge::<Op>::from_config(config)?)),
            two,
            three,
        }
    }

    fn cases() -> [Case; 6] {
        [
            case::<AddOp>(|a, b| a + b, Some(|a, b, c| a + b + c)),
            case::<MultiplyOp>(|a, b| a * b, Some(|a, b, c| a * b * c)),
            case::<SubtractOp>(|a, b| a - b, None),
            case::<AverageOp>(|a, b| (a + b) / 2.0, Some(|a, b, c| (a + b + c) / 3.0)),
            case::<MaximumOp>(f32::max, Some(|a, b, c| a.max(b).max(c))),
            case::<MinimumOp>(f32::min, Some(|a, b, c| a.min(b).min(c))),
        ]
    }

    #[test]
    fn two_inputs_elementwise() {
        let a: Vec<f32> = vec![1.0, -2.0, 3.5, 0.0];
        let b: Vec<f32> = vec![4.0, 0.5, -1.0, 2.0];
        for case in cases() {
            let layer = (case.named)("merge");
            assert_eq!(layer.class_name(), case.class);
            let out = run(
                layer.as_ref(),
                &[
                    Tensor::from_vec(&[2, 2], a.clone()).unwrap(),
                    Tensor::from_vec(&[2, 2], b.clone()).unwrap(),
                ],
            )
            .unwrap()
            .to_vec();
            for ((o, &a), &b) in out.iter().zip(&a).zip(&b) {
                let expected = (case.two)(a, b);
                assert!((o - expected).abs() < 1e-6, "{}: {out:?}", case.class);
            }
        }
    }

    #[test]
    fn three_inputs_with_broadcasting() {
        // [2, 3] with [1, 3] and [3] (no axis: a size-1 axis is inserted after the batch axis).
        let a: Vec<f32> = (0..12).map(|v| v as f32 - 4.0).collect();
        let b: Vec<f32> = vec![1.5, -2.0, 0.5, 3.0, 0.25, -1.0];
        let c: Vec<f32> = vec![2.0, -0.5, 1.0, 0.0, 4.0, -3.0];
        let mut checked = 0;
        for case in cases() {
            let Some(three) = case.three else { continue };
            let layer = (case.named)("merge");
            let inputs = [Input::new(&[2, 3]), Input::new(&[1, 3]), Input::new(&[3])];
            let shape = apply(layer.clone(), &inputs).unwrap().shape().to_vec();
            assert_eq!(shape, vec![2, 3], "{}", case.class);
            let out = run(
                layer.as_ref(),
                &[
                    Tensor::from_vec(&[2, 2, 3], a.clone()).unwrap(),
                    Tensor::from_vec(&[2, 1, 3], b.clone()).unwrap(),
                    Tensor::from_vec(&[2, 3], c.clone()).unwrap(),
                ],
            )
            .unwrap();
            assert_eq!(out.shape(), &[2, 2, 3], "{}", case.class);
            let out = out.to_vec();
            for n in 0..2 {
                for i in 0..2 {
                    for j in 0..3 {
                        let (a, b, c) = (a[n * 6 + i * 3 + j], b[n * 3 + j], c[n * 3 + j]);
                        let expected = three(a, b, c);
                        assert!(
                            (out[n * 6 + i * 3 + j] - expected).abs() < 1e-6,
                            "{}",
                            case.class
                        );
                    }
                }
            }
            checked += 1;
        }
        assert_eq!(checked, 5, "every merge but Subtract takes three inputs");
    }

    #[test]
    fn subtract_takes_exactly_two_inputs_and_broadcasts_size_one_axes() {
        let layer = ElementwiseMerge::<SubtractOp>::new();
        assert_eq!(
            layer
                .call_many(&[Input::new(&[2, 3]), Input::new(&[1, 3])])
                .unwrap()
                .shape(),
            &[2, 3]
        );
        let a = Tensor::from_vec(&[1, 2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let b = Tensor::from_vec(&[1, 1, 3], vec![1.0, 1.0, 2.0]).unwrap();
        assert_eq!(
            run(&layer, &[a, b]).unwrap().to_vec(),
            vec![0.0, 1.0, 1.0, 3.0, 4.0, 4.0]
        );
        let err = layer
            .call_many(&[Input::new(&[3]), Input::new(&[3]), Input::new(&[3])])
            .unwrap_err();
        assert!(err.to_string().contains("exactly 2 inputs"), "{err}");
    }

    #[test]
    fn mismatched_shapes_name_the_layer() {
        for case in cases() {
            let layer = (case.named)("merge_here");
            let err = apply(layer.clone(), &[Input::new(&[4, 3]), Input::new(&[3, 3])])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("merge_here")
                    && err.contains("(None, 4, 3)")
                    && err.contains("(None, 3, 3)"),
                "{err}"
            );
            let err = apply(layer, &[Input::new(&[3])]).unwrap_err().to_string();
            assert!(err.contains("received 1"), "{err}");
        }
    }

    #[test]
    fn config_round_trips() {
        for case in cases() {
            let layer = (case.named)("merge_layer");
            let config = layer.config();
            assert_eq!(config["name"], serde_json::json!("merge_layer"));
            let rebuilt = (case.from_config)(&config).unwrap();
            assert_eq!(rebuilt.class_name(), case.class);
            assert_eq!(rebuilt.config(), config, "{}", case.class);
        }
    }

    #[test]
    fn automatic_names_count_per_class() {
        use crate::merging::{Add, Average, Maximum, Minimum, Multiply, Subtract};
        reset_names();
        let names = [
            Add::new().name().to_string(),
            Add::default().name().to_string(),
            Multiply::new().name().to_string(),
            Subtract::new().name().to_string(),
            Average::new().name().to_string(),
            Maximum::new().name().to_string(),
            Minimum::new().name().to_string(),
            Add::from_config(&serde_json::json!({}))
                .unwrap()
                .name()
                .to_string(),
        ];
        let expected = [
            "add", "add_1", "multiply", "subtract", "average", "maximum", "minimum", "add_2",
        ];
        assert_eq!(names, expected);
    }
}
