//! The LSTM step by step, built from the tensor crate's differentiable ops (each gradient-checked there): the
//! path for what the fused kernel does not carry — initial states `[h₀, c₀]` and the final cell state
//! `return_state` needs. It computes Keras's `LSTMCell` exactly as the fused kernel does, one step at a time.

use rkeras_tensor::kernels::lstm::GateActivation;
use rkeras_tensor::{Result, Tensor};

/// The weights and options of one run.
pub(crate) struct LstmSteps<'a> {
    /// `[input_dim, 4·units]`, gates (i, f, c, o).
    pub kernel: &'a Tensor,
    /// `[units, 4·units]`.
    pub recurrent_kernel: &'a Tensor,
    /// `[4·units]`.
    pub bias: &'a Tensor,
    /// The gates' activation.
    pub recurrent_activation: GateActivation,
    /// Every step's output instead of the last.
    pub return_sequences: bool,
}

/// What one run returns: the output (`[batch, time, units]` or `[batch, units]`) and the final states.
pub(crate) struct LstmRun {
    pub output: Tensor,
    pub h: Tensor,
    pub c: Tensor,
}

/// A gate's activation applied to its pre-activation `z`.
pub(crate) fn gate(activation: GateActivation, z: &Tensor) -> Result<Tensor> {
    match activation {
        GateActivation::Sigmoid => z.sigmoid(),
        GateActivation::HardSigmoid => z.hard_sigmoid(),
        GateActivation::HardSigmoidKeras2 => z.hard_sigmoid_keras2(),
    }
}

impl LstmSteps<'_> {
    /// Runs over `x` (`[batch, time, input_dim]`, already in processing order) from `h0`, `c0` (`[batch, units]`,
    /// zeros when `None`).
    pub fn run(&self, x: &Tensor, h0: Option<&Tensor>, c0: Option<&Tensor>) -> Result<LstmRun> {
        let (batch, time, features) = match x.shape() {
            &[b, t, f] => (b, t, f),
            other => {
                return Err(rkeras_tensor::TensorError::invalid_shape(
                    "lstm",
                    other,
                    "expected an input of rank 3 [batch, time, features]",
                ));
            }
        };
        let units = self.recurrent_kernel.shape().first().copied().unwrap_or(0);
        let mut h = h0
            .cloned()
            .unwrap_or_else(|| Tensor::zeros(&[batch, units]));
        let mut c = c0
            .cloned()
            .unwrap_or_else(|| Tensor::zeros(&[batch, units]));
        // One input projection for every step, as the fused kernel does.
        let projected = x
            .reshape(&[batch * time, features])?
            .matmul(self.kernel)?
            .add(self.bias)?
            .reshape(&[batch, time, 4 * units])?;
        let mut outputs = Vec::with_capacity(if self.return_sequences { time } else { 0 });
        for t in 0..time {
            let z = projected
                .narrow(1, t, 1)?
                .reshape(&[batch, 4 * units])?
                .add(&h.matmul(self.recurrent_kernel)?)?;
            let i = gate(self.recurrent_activation, &z.narrow(-1, 0, units)?)?;
            let f = gate(self.recurrent_activation, &z.narrow(-1, units, units)?)?;
            let candidate = z.narrow(-1, 2 * units, units)?.tanh()?;
            let o = gate(self.recurrent_activation, &z.narrow(-1, 3 * units, units)?)?;
            c = f.mul(&c)?.add(&i.mul(&candidate)?)?;
            h = o.mul(&c.tanh()?)?;
            if self.return_sequences {
                outputs.push(h.clone());
            }
        }
        let output = if !self.return_sequences {
            h.clone()
        } else if outputs.is_empty() {
            Tensor::zeros(&[batch, 0, units])
        } else {
            Tensor::stack(&outputs, 1)?
        };
        Ok(LstmRun { output, h, c })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
    use rkeras_tensor::ops::LstmConfig;

    fn array(shape: &[usize], seed: u32) -> ndarray::ArrayD<f32> {
        let n: usize = shape.iter().product();
        let values = (0..n)
            .map(|k| {
                ((k as u32 * 2_654_435_761u32).wrapping_add(seed) % 1000) as f32 / 1000.0 - 0.5
            })
            .collect();
        ndarray::ArrayD::from_shape_vec(shape.to_vec(), values).expect("shape")
    }

    fn steps<'a>(
        kernel: &'a Tensor,
        recurrent_kernel: &'a Tensor,
        bias: &'a Tensor,
        return_sequences: bool,
    ) -> LstmSteps<'a> {
        LstmSteps {
            kernel,
            recurrent_kernel,
            bias,
            recurrent_activation: GateActivation::Sigmoid,
            return_sequences,
        }
    }

    #[test]
    fn equals_the_fused_kernel_from_zero_states() {
        let x = Tensor::new(array(&[2, 4, 3], 7));
        let kernel = Tensor::new(array(&[3, 8], 11));
        let recurrent = Tensor::new(array(&[2, 8], 13));
        let bias = Tensor::new(array(&[8], 17));
        for return_sequences in [false, true] {
            let fused = x
                .lstm(
                    &kernel,
                    &recurrent,
                    &bias,
                    LstmConfig {
                        return_sequences,
                        recurrent_activation: GateActivation::Sigmoid,
                    },
                )
                .expect("fused");
            let run = steps(&kernel, &recurrent, &bias, return_sequences)
                .run(&x, None, None)
                .expect("steps");
            assert_eq!(fused.shape(), run.output.shape());
            for (a, b) in fused.to_vec().iter().zip(run.output.to_vec()) {
                assert!((a - b).abs() < 1e-6, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn final_states_follow_the_cell_equations_from_given_states() {
        // One unit, one step: z = x·k + h0·r + b per gate; c = f·c0 + i·tanh(z_c); h = o·tanh(c).
        let x = Tensor::from_vec(&[1, 1, 1], vec![0.5]).expect("x");
        let kernel = Tensor::from_vec(&[1, 4], vec![0.1, 0.2, 0.3, 0.4]).expect("k");
        let recurrent = Tensor::from_vec(&[1, 4], vec![-0.2, 0.1, 0.5, -0.3]).expect("r");
        let bias = Tensor::from_vec(&[4], vec![0.0, 1.0, 0.0, 0.2]).expect("b");
        let h0 = Tensor::from_vec(&[1, 1], vec![0.7]).expect("h0");
        let c0 = Tensor::from_vec(&[1, 1], vec![-0.4]).expect("c0");
        let run = steps(&kernel, &recurrent, &bias, false)
            .run(&x, Some(&h0), Some(&c0))
            .expect("run");
        let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
        let z = |g: usize, k: [f32; 4], r: [f32; 4], b: [f32; 4]| 0.5 * k[g] + 0.7 * r[g] + b[g];
        let (k, r, b) = (
            [0.1, 0.2, 0.3, 0.4],
            [-0.2, 0.1, 0.5, -0.3],
            [0.0, 1.0, 0.0, 0.2],
        );
        let c = sigmoid(z(1, k, r, b)) * -0.4 + sigmoid(z(0, k, r, b)) * z(2, k, r, b).tanh();
        let h = sigmoid(z(3, k, r, b)) * c.tanh();
        assert!((run.c.to_vec()[0] - c).abs() < 1e-6);
        assert!((run.h.to_vec()[0] - h).abs() < 1e-6);
        assert_eq!(run.output.to_vec(), run.h.to_vec());
    }

    #[test]
    fn gradients_match_finite_differences_through_the_states() {
        let inputs = [
            array(&[2, 3, 2], 3),
            array(&[2, 8], 5),
            array(&[2, 8], 9),
            array(&[8], 21),
            array(&[2, 2], 23),
            array(&[2, 2], 29),
        ];
        for output in 0..3 {
            let report = check_gradients(
                &inputs,
                |t| {
                    let run =
                        steps(&t[1], &t[2], &t[3], true).run(&t[0], Some(&t[4]), Some(&t[5]))?;
                    Ok([run.output, run.h, run.c][output].clone())
                },
                GradCheck::default(),
            )
            .expect("check");
            assert!(report.passed(), "output {output}: {report:?}");
        }
    }
}
