//! The sharded optimizer step (ZeRO-1's idea): after the reduce-scatter each rank holds the summed gradient of
//! its block of every dense weight's elements, applies the optimizer to that block alone, and the all-gather
//! carries the updated weights instead of the summed gradients. No rank runs the optimizer over the whole model,
//! and nothing decodes and sums the gathered gradients.
//!
//! The rank's optimizer (a copy of the model's) steps the blocks as 1-D parameters, its slots holding the
//! rank's block of each slot; an embedding table's gradient (rows, summed whole on every rank) updates the whole
//! table on every rank, as before. Element-wise optimizers ([`shardable`]) compute every element from that
//! element's weight, gradient and slots alone, so a block updated apart has the bits of the whole update. The
//! model's optimizer gets the gathered slots back where a callback may save them ([`gather_slots`], at the end
//! of every epoch), so checkpoints and backups hold the state of the whole model.

use super::codec::{self, Reader, Result2};
use super::reduce::Sum;
use super::{Collective, agree, owned_shards};
use crate::compile::Compiled;
use crate::error::Result;
use ndarray::{ArrayD, IxDyn};
use rkeras_optim::{Optimizer, OptimizerState, SlotArray};
use rkeras_tensor::{Gradient, GradientRef, Variable};
use std::ops::Range;

/// How a weight is stepped: this rank's block of its elements (`Block`, of a dense weight of `shape`), or
/// whole on every rank (an embedding table with row gradients).
#[derive(Debug, Clone, PartialEq)]
enum Layout {
    Block {
        shape: Vec<usize>,
        mine: Range<usize>,
    },
    Whole,
}

/// A rank's optimizer over its blocks of the weights, with the buffers a step reuses (each block weight's
/// block, the message of the updated blocks).
#[derive(Debug)]
pub(crate) struct BlockOptimizer {
    optimizer: Box<dyn Optimizer>,
    layout: Vec<Layout>,
    blocks: Vec<Option<ArrayD<f32>>>,
    message: Vec<u8>,
}

/// Whether `optimizer` can step blocks of the weights apart with the bits of the whole step: an element-wise
/// rule (every optimizer rkeras has), without a clipping that needs a whole gradient's norm (`clipnorm`,
/// `global_clipnorm`; `clipvalue` is element-wise) and without weight-decay exclusions (which name the whole
/// weights). Otherwise every rank steps the whole model, as in one process.
pub(crate) fn shardable(optimizer: &dyn Optimizer) -> bool {
    let config = optimizer.config();
    let unset = |key: &str| config.get(key).is_none_or(serde_json::Value::is_null);
    matches!(
        optimizer.class_name(),
        "SGD"
            | "RMSprop"
            | "Adam"
            | "AdamW"
            | "Adamax"
            | "Nadam"
            | "Adagrad"
            | "Adadelta"
            | "Lion"
            | "Ftrl"
    ) && unset("clipnorm")
        && unset("global_clipnorm")
        && !optimizer.excludes_from_weight_decay()
}

/// What one sharded step needs: the rank's block optimizer (made at the first step from the model's), the
/// model's optimizer and the trainable weights.
pub(crate) struct ShardedStep<'a> {
    pub(crate) blocks: &'a mut Option<BlockOptimizer>,
    pub(crate) full: &'a dyn Optimizer,
    pub(crate) weights: &'a [Variable],
}

impl ShardedStep<'_> {
    /// Steps this rank's blocks with its summed gradients `sums` (embedding tables whole) and returns the
    /// message of its updated blocks, weight after weight, for the all-gather (`ok`: its first byte).
    pub(super) fn update(
        &mut self,
        sums: Vec<Sum>,
        ok: u8,
        rank: usize,
        ranks: usize,
    ) -> Result2<Vec<u8>> {
        if sums.len() > self.weights.len() {
            return Err(format!(
                "{} gradients for {} trainable weights",
                sums.len(),
                self.weights.len()
            ));
        }
        let blocks = match self.blocks.take() {
            Some(blocks) => blocks,
            None => BlockOptimizer::new(self.full, self.weights, &sums, rank, ranks)?,
        };
        let blocks = self.blocks.insert(blocks);
        let mut buffers = std::mem::take(&mut blocks.blocks);
        buffers.resize_with(self.weights.len(), || None);
        // A learning rate a callback set on the model's optimizer holds from the next step on.
        if self.full.schedule().is_none()
            && blocks.optimizer.learning_rate() != self.full.learning_rate()
        {
            blocks
                .optimizer
                .set_learning_rate(self.full.learning_rate())
                .map_err(|e| e.to_string())?;
        }
        let mut sums = sums;
        sums.resize_with(self.weights.len(), || Sum::Nothing);
        let mut parts = Vec::with_capacity(sums.len());
        let mut grads = Vec::with_capacity(sums.len());
        for (i, ((sum, layout), buffer)) in sums
            .into_iter()
            .zip(&blocks.layout)
            .zip(&mut buffers)
            .enumerate()
        {
            let weight = &self.weights[i];
            let (part, grad) = match (layout, sum) {
                (Layout::Block { mine, .. }, Sum::Block { values, .. }) => (
                    Part::Block(block_of(weight, mine, buffer.take())?),
                    vec1(values)?,
                ),
                (Layout::Block { mine, .. }, Sum::Nothing) => (
                    Part::Block(block_of(weight, mine, buffer.take())?),
                    Gradient::Dense(ArrayD::zeros(IxDyn(&[mine.len()]))),
                ),
                (Layout::Whole, Sum::Whole(g)) => (Part::Whole(weight.write()), g),
                (Layout::Whole, Sum::Nothing) => (
                    Part::Whole(weight.write()),
                    Gradient::Dense(ArrayD::zeros(IxDyn(&weight.shape()))),
                ),
                _ => {
                    return Err(format!(
                        "weight {i}'s gradient changed kind (rows against dense) during the sharded \
                         optimizer step"
                    ));
                }
            };
            parts.push(part);
            grads.push(grad);
        }
        let grad_refs: Vec<GradientRef<'_>> = grads.iter().map(Gradient::as_ref).collect();
        let mut params: Vec<&mut ArrayD<f32>> = parts.iter_mut().map(Part::array).collect();
        blocks
            .optimizer
            .apply(&mut params, &grad_refs)
            .map_err(|e| e.to_string())?;
        drop(params);
        let floats: usize = blocks
            .layout
            .iter()
            .map(|l| match l {
                Layout::Block { mine, .. } => mine.len(),
                Layout::Whole => 0,
            })
            .sum();
        let mut message = std::mem::take(&mut blocks.message);
        message.clear();
        message.reserve(1 + 4 * floats);
        message.push(ok);
        let parts = parts.into_iter().zip(&blocks.layout).zip(self.weights);
        for (((part, layout), weight), buffer) in parts.zip(&mut buffers) {
            if let (Part::Block(block), Layout::Block { mine, .. }) = (part, layout) {
                let values = block.as_slice().ok_or("a block is not contiguous")?;
                codec::put_f32s(&mut message, values);
                write_block(weight, mine.clone(), values)?;
                *buffer = Some(block);
            }
        }
        blocks.blocks = buffers;
        Ok(message)
    }

    /// Takes back the message [`ShardedStep::update`] returned, to fill it again at the next step.
    pub(super) fn recycle(&mut self, message: Vec<u8>) {
        if let Some(blocks) = self.blocks.as_mut() {
            blocks.message = message;
        }
    }

    /// Writes the other ranks' updated blocks (`messages`, in rank order, each after its first byte) into the
    /// weights.
    pub(super) fn install(&self, messages: &[Vec<u8>], rank: usize, ranks: usize) -> Result2<()> {
        let Some(blocks) = self.blocks.as_ref() else {
            return Err("no block optimizer after a sharded step".into());
        };
        for (r, bytes) in messages.iter().enumerate().filter(|(r, _)| *r != rank) {
            let unreadable =
                |e: String| format!("cannot read the updated weights of rank {r}: {e}");
            let mut reader = Reader { bytes, at: 1 };
            for (layout, weight) in blocks.layout.iter().zip(self.weights) {
                if let Layout::Block { shape, .. } = layout {
                    let theirs = owned_shards(shape.iter().product(), r, ranks);
                    let mut guard = weight.write();
                    let values = guard.as_slice_mut().ok_or("a weight is not contiguous")?;
                    let slot = values
                        .get_mut(theirs)
                        .ok_or_else(|| unreadable("a block outside the weight".into()))?;
                    reader.f32s_to(slot).map_err(unreadable)?;
                }
            }
            reader.finish().map_err(unreadable)?;
        }
        Ok(())
    }
}

/// A parameter the block optimizer steps: a copy of this rank's block, or a whole weight in place.
enum Part<'a> {
    Block(ArrayD<f32>),
    Whole(rkeras_tensor::variable::ValueGuard<'a>),
}

impl Part<'_> {
    fn array(&mut self) -> &mut ArrayD<f32> {
        match self {
            Part::Block(block) => block,
            Part::Whole(guard) => guard,
        }
    }
}

/// A 1-D array of `values`.
fn vec1(values: Vec<f32>) -> Result2<Gradient> {
    let n = values.len();
    ArrayD::from_shape_vec(IxDyn(&[n]), values)
        .map(Gradient::Dense)
        .map_err(|e| e.to_string())
}

/// A copy of `weight`'s elements `mine` (row-major), as a 1-D array: in `reuse` when it has that length.
fn block_of(
    weight: &Variable,
    mine: &Range<usize>,
    reuse: Option<ArrayD<f32>>,
) -> Result2<ArrayD<f32>> {
    let value = weight.value();
    let values = value.as_slice().ok_or("a weight is not contiguous")?;
    let block = values
        .get(mine.clone())
        .ok_or("a block outside the weight")?;
    match reuse {
        Some(mut array) if array.len() == block.len() && array.is_standard_layout() => {
            array
                .as_slice_mut()
                .ok_or("a block is not contiguous")?
                .copy_from_slice(block);
            Ok(array)
        }
        _ => {
            ArrayD::from_shape_vec(IxDyn(&[block.len()]), block.to_vec()).map_err(|e| e.to_string())
        }
    }
}

/// Writes `values` into `weight`'s elements `mine`.
fn write_block(weight: &Variable, mine: Range<usize>, values: &[f32]) -> Result2<()> {
    let mut guard = weight.write();
    let all = guard.as_slice_mut().ok_or("a weight is not contiguous")?;
    all.get_mut(mine)
        .ok_or("a block outside the weight")?
        .copy_from_slice(values);
    Ok(())
}

impl BlockOptimizer {
    /// This rank's optimizer over its blocks: a copy of `full` with its slots cut to the blocks, each weight's
    /// layout set by the kind of its first summed gradient (`sums`).
    fn new(
        full: &dyn Optimizer,
        weights: &[Variable],
        sums: &[Sum],
        rank: usize,
        ranks: usize,
    ) -> Result2<Self> {
        let layout: Vec<Layout> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| match sums.get(i) {
                Some(Sum::Whole(_)) => Layout::Whole,
                _ => {
                    let shape = w.shape();
                    Layout::Block {
                        mine: owned_shards(shape.iter().product(), rank, ranks),
                        shape,
                    }
                }
            })
            .collect();
        let mut optimizer = full.clone_box();
        let state = full.state();
        let cut = state
            .slots
            .iter()
            .map(|s| {
                let value = match layout.get(s.param_index) {
                    Some(Layout::Block { mine, .. }) => {
                        let all = s.value.as_standard_layout();
                        let values = all.as_slice().ok_or("a slot is not contiguous")?;
                        let block = values
                            .get(mine.clone())
                            .ok_or("a slot outside its weight")?;
                        ArrayD::from_shape_vec(IxDyn(&[block.len()]), block.to_vec())
                            .map_err(|e| e.to_string())?
                    }
                    _ => s.value.clone(),
                };
                Ok(SlotArray {
                    param_index: s.param_index,
                    slot: s.slot.clone(),
                    value,
                })
            })
            .collect::<Result2<Vec<_>>>()?;
        let load = |slots: Vec<SlotArray>| OptimizerState {
            iterations: state.iterations,
            learning_rate: None,
            slots,
        };
        // A state without slots first makes the copy "not built", so that slots of the blocks' shapes load.
        optimizer
            .load_state(&load(Vec::new()))
            .and_then(|()| optimizer.load_state(&load(cut)))
            .map_err(|e| e.to_string())?;
        Ok(BlockOptimizer {
            optimizer,
            layout,
            blocks: Vec::new(),
            message: Vec::new(),
        })
    }
}

/// Gives the model's optimizer the slots of the whole model after sharded steps (every rank's blocks,
/// all-gathered) and their iteration count, so that a checkpoint or backup saved now holds the whole state.
/// Every rank calls it at the same point (the end of an epoch); nothing happens when no sharded step ran. A
/// failure one rank alone finds reaches the others in their next all-to-all.
pub(crate) fn gather_slots(compiled: &mut Compiled) -> Result<()> {
    let (Some(blocks), Some(collective)) =
        (compiled.block_optimizer.as_ref(), &compiled.collective)
    else {
        return Ok(());
    };
    let collective: &dyn Collective = collective.as_ref();
    let ranks = collective.ranks();
    let state = blocks.optimizer.state();
    let shape_of = |s: &SlotArray| match blocks.layout.get(s.param_index) {
        Some(Layout::Block { shape, .. }) => Some(shape.clone()),
        _ => None,
    };
    let mut message = Vec::new();
    for s in &state.slots {
        if shape_of(s).is_some() {
            match s.value.as_slice() {
                Some(values) => codec::put_f32s(&mut message, values),
                None => codec::put_f32s(&mut message, &s.value.iter().copied().collect::<Vec<_>>()),
            }
        }
    }
    let messages = collective.all_gather(&message)?;
    let step = compiled.collective_steps;
    let slots = whole_slots(&state.slots, &messages, ranks, shape_of)
        .map_err(|reason| agree::share_failure(collective, step, reason))?;
    compiled
        .optimizer
        .load_state(&OptimizerState {
            iterations: state.iterations,
            learning_rate: None,
            slots,
        })
        .map_err(|e| {
            let reason = format!("the gathered optimizer slots do not load: {e}");
            agree::share_failure(collective, step, reason)
        })?;
    Ok(())
}

/// Every slot of the whole model: a block slot (`shape_of` gives its weight's shape) joined from every rank's
/// `messages` in rank order, a whole one as it is.
fn whole_slots(
    slots: &[SlotArray],
    messages: &[Vec<u8>],
    ranks: usize,
    shape_of: impl Fn(&SlotArray) -> Option<Vec<usize>>,
) -> Result2<Vec<SlotArray>> {
    let mut readers: Vec<Reader<'_>> = messages
        .iter()
        .map(|bytes| Reader { bytes, at: 0 })
        .collect();
    let mut out = Vec::with_capacity(slots.len());
    for s in slots {
        let value = match shape_of(s) {
            Some(shape) => {
                let len: usize = shape.iter().product();
                let mut values = Vec::with_capacity(len);
                for (r, reader) in readers.iter_mut().enumerate() {
                    reader
                        .f32s_into(owned_shards(len, r, ranks).len(), &mut values)
                        .map_err(|e| format!("cannot read the optimizer slots of rank {r}: {e}"))?;
                }
                ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| e.to_string())?
            }
            None => s.value.clone(),
        };
        out.push(SlotArray {
            param_index: s.param_index,
            slot: s.slot.clone(),
            value,
        });
    }
    for (r, reader) in readers.iter().enumerate() {
        reader
            .finish()
            .map_err(|e| format!("cannot read the optimizer slots of rank {r}: {e}"))?;
    }
    Ok(out)
}
