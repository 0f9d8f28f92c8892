//! The end-to-end memory network of Keras's bAbI example (Sukhbaatar et al., 2015, as Keras writes it).

use crate::{Model, Result};
use rkeras_layers::{
    Activation, Dense, Dropout, Embedding, Input, LSTM, LayerCall, Permute, SymbolicTensor, add,
    concatenate, dot,
};

/// Keras's `babi_memnn.py` (Keras 3 form): inputs `[story (story_maxlen), question (query_maxlen)]`, output
/// the answer's softmax over the vocabulary (24,750 parameters for qa1's vocabulary of 22).
///
/// ```
/// let model = rkeras_engine::models::memory_network(22, 68, 4)?;
/// assert_eq!(model.count_params(), 24_750);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub fn memory_network(
    vocab_size: usize,
    story_maxlen: usize,
    query_maxlen: usize,
) -> Result<Model> {
    memory_network_with_dropout(vocab_size, story_maxlen, query_maxlen, 0.3)
}

/// [`memory_network`] with another dropout rate for its four `Dropout` layers (the example's is 0.3; 0 makes
/// training deterministic, as when comparing step by step with another framework). A rate outside `[0, 1)` is
/// an error naming the layer.
///
/// ```
/// let model = rkeras_engine::models::memory_network_with_dropout(22, 68, 4, 0.0)?;
/// assert_eq!(model.count_params(), 24_750);
/// assert!(rkeras_engine::models::memory_network_with_dropout(22, 68, 4, 1.0).is_err());
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub fn memory_network_with_dropout(
    vocab_size: usize,
    story_maxlen: usize,
    query_maxlen: usize,
    dropout: f32,
) -> Result<Model> {
    let story = Input::new(&[story_maxlen]);
    let question = Input::new(&[query_maxlen]);
    // Encoders: m (memory), c (output memory) and u (question).
    let m = Dropout::new(dropout).call(&Embedding::new(vocab_size, 64).call(&story)?)?;
    let c = Dropout::new(dropout).call(&Embedding::new(vocab_size, query_maxlen).call(&story)?)?;
    let u = Dropout::new(dropout).call(&Embedding::new(vocab_size, 64).call(&question)?)?;
    let matched = Activation::new("softmax")?.call(&dot(&[m, u.clone()], (2, 2))?)?;
    let answer = answer_head(matched, c, u, vocab_size, dropout)?;
    Ok(Model::new(&[story, question], &answer)?.with_name("memory_network"))
}

/// What both forms do once they have the attention `matched`, the output memory `c` and the question `u`:
/// `softmax(Dense(vocab)(Dropout(LSTM(32)(concatenate([Permute(add([matched, c])), u])))))`, its layers created
/// in Keras's order (so that they get Keras's automatic names).
fn answer_head(
    matched: SymbolicTensor,
    c: SymbolicTensor,
    u: SymbolicTensor,
    vocab_size: usize,
    dropout: f32,
) -> Result<SymbolicTensor> {
    let response = Permute::new(&[2, 1]).call(&add(&[matched, c])?)?;
    let answer = concatenate(&[response, u], -1)?;
    let answer = Dropout::new(dropout).call(&LSTM::new(32).call(&answer)?)?;
    Ok(Activation::new("softmax")?.call(&Dense::new(vocab_size).call(&answer)?)?)
}

/// The Keras 1 form of the same network, as older scripts wrote it: three inputs `[stories, queries,
/// stories]` (the second story input feeds the output-memory encoder `c`), trained on one-hot answers.
///
/// ```
/// let model = rkeras_engine::models::memory_network_keras1(22, 68, 4)?;
/// assert_eq!(model.network().inputs().len(), 3);
/// assert_eq!(model.count_params(), 24_750);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub fn memory_network_keras1(
    vocab_size: usize,
    story_maxlen: usize,
    query_maxlen: usize,
) -> Result<Model> {
    let story_m = Input::new(&[story_maxlen]);
    let question = Input::new(&[query_maxlen]);
    let story_c = Input::new(&[story_maxlen]);
    let m = Dropout::new(0.3).call(
        &Embedding::new(vocab_size, 64)
            .with_input_length(story_maxlen)
            .call(&story_m)?,
    )?;
    let u = Dropout::new(0.3).call(
        &Embedding::new(vocab_size, 64)
            .with_input_length(query_maxlen)
            .call(&question)?,
    )?;
    let matched = Activation::new("softmax")?.call(&dot(&[m, u.clone()], (2, 2))?)?;
    let c = Dropout::new(0.3).call(
        &Embedding::new(vocab_size, query_maxlen)
            .with_input_length(story_maxlen)
            .call(&story_c)?,
    )?;
    let answer = answer_head(matched, c, u, vocab_size, 0.3)?;
    Ok(Model::new(&[story_m, question, story_c], &answer)?.with_name("memory_network_keras1"))
}
