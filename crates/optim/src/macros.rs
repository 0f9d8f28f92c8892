//! The code every optimizer shares, written once: `optimizer!` generates an optimizer type from its config type,
//! and `base_config_builders!` the config's `with_*` builders of the [`crate::BaseConfig`] options.
//!
//! An optimizer file defines its config (with `Default`, a `base: BaseConfig` field and its own builders),
//! implements [`crate::optimizer_config::OptimizerConfig`] for it (checks, slots, update formula, config keys),
//! and calls `optimizer!`.

/// The `with_*` builders for the [`crate::BaseConfig`] options, shared by every optimizer config (field `base`).
macro_rules! base_config_builders {
    () => {
        /// Sets the learning rate (finite, ≥ 0).
        pub fn with_learning_rate(mut self, learning_rate: f64) -> Self {
            self.base.learning_rate = learning_rate;
            self
        }

        /// Sets the optimizer's name (the prefix of its variables' paths).
        pub fn with_name(mut self, name: impl Into<String>) -> Self {
            self.base.name = Some(name.into());
            self
        }

        /// Sets decoupled weight decay (`w ← w − w · weight_decay · learning_rate` before each update).
        pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
            self.base.weight_decay = Some(weight_decay);
            self
        }

        /// Uses a learning-rate schedule instead of a fixed rate (Keras's `learning_rate=schedule`).
        pub fn with_schedule(
            mut self,
            schedule: impl Into<$crate::schedules::LearningRateSchedule>,
        ) -> Self {
            self.base.schedule = Some(schedule.into());
            self
        }

        /// Keeps an exponential moving average of the parameters (Keras's `use_ema`, `ema_momentum`).
        pub fn with_ema(mut self, ema_momentum: f64) -> Self {
            self.base.use_ema = true;
            self.base.ema_momentum = ema_momentum;
            self
        }

        /// Overwrites the parameters with their moving average every `frequency` steps.
        pub fn with_ema_overwrite_frequency(mut self, frequency: u64) -> Self {
            self.base.ema_overwrite_frequency = Some(frequency);
            self
        }

        /// Accumulates gradients over `steps` calls (≥ 2) and updates with their mean.
        pub fn with_gradient_accumulation_steps(mut self, steps: u64) -> Self {
            self.base.gradient_accumulation_steps = Some(steps);
            self
        }

        /// Clips each gradient's L2 norm to `clipnorm` (> 0).
        pub fn with_clipnorm(mut self, clipnorm: f64) -> Self {
            self.base.clipnorm = Some(clipnorm);
            self
        }

        /// Clamps every gradient element to `[-clipvalue, clipvalue]` (> 0).
        pub fn with_clipvalue(mut self, clipvalue: f64) -> Self {
            self.base.clipvalue = Some(clipvalue);
            self
        }

        /// Scales all gradients so that their global L2 norm is at most `global_clipnorm` (> 0).
        pub fn with_global_clipnorm(mut self, global_clipnorm: f64) -> Self {
            self.base.global_clipnorm = Some(global_clipnorm);
            self
        }

        /// Whether row gradients are squared per lookup (Keras's TensorFlow backend, the default) or summed
        /// first (Keras's JAX backend); see [`crate::BaseConfig::per_lookup_squares`].
        pub fn with_per_lookup_squares(mut self, per_lookup_squares: bool) -> Self {
            self.base.per_lookup_squares = per_lookup_squares;
            self
        }

        /// Whether row gradients update only their rows and those rows' slots, also where Keras updates every
        /// row (an approximation, as TensorFlow Addons' `LazyAdam`); see [`crate::BaseConfig::lazy_rows`].
        pub fn with_lazy_rows(mut self, lazy_rows: bool) -> Self {
            self.base.lazy_rows = lazy_rows;
            self
        }
    };
}
pub(crate) use base_config_builders;

/// The `with_*` builders of the Adam family's own hyper-parameters, shared by the configs that have them:
/// `moment_builders!(AdamConfig: beta_1, beta_2, epsilon)`.
macro_rules! moment_builders {
    ($config:ident: $($field:ident),* $(,)?) => {
        impl $config {
            $($crate::macros::moment_builders!(@one $field);)*
        }
    };
    (@one beta_1) => {
        /// Sets `beta_1`, the decay rate of the first moment.
        pub fn with_beta_1(mut self, beta_1: f64) -> Self {
            self.beta_1 = beta_1;
            self
        }
    };
    (@one beta_2) => {
        /// Sets `beta_2`, the decay rate of the second moment (or of Lion's momentum).
        pub fn with_beta_2(mut self, beta_2: f64) -> Self {
            self.beta_2 = beta_2;
            self
        }
    };
    (@one epsilon) => {
        /// Sets epsilon (> 0).
        pub fn with_epsilon(mut self, epsilon: f64) -> Self {
            self.epsilon = epsilon;
            self
        }
    };
}
pub(crate) use moment_builders;

/// An optimizer type `$name` over the config `$config` (which implements
/// [`crate::optimizer_config::OptimizerConfig`]): the struct (config plus [`crate::base::BaseState`]), the
/// config's base builders and `build`, the constructors `new`, `with_config` and `Default`, `settings`, and the
/// whole [`crate::Optimizer`] implementation.
macro_rules! optimizer {
    (
        $(#[$attr:meta])*
        $name:ident {
            config: $config:ident,
            class_name: $class_name:literal,
            default_name: $default_name:literal $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone)]
        pub struct $name {
            config: $config,
            state: $crate::base::BaseState,
        }

        impl $config {
            $crate::macros::base_config_builders!();

            /// Validates the config and builds the optimizer.
            pub fn build(self) -> $crate::error::Result<$name> {
                $name::with_config(self)
            }
        }

        impl $name {
            /// Keras's class name.
            pub const CLASS_NAME: &'static str = $class_name;
            /// Keras 3's default optimizer name (the class name in snake case), the prefix of its variables' paths.
            pub const DEFAULT_NAME: &'static str = $default_name;

            #[doc = concat!("`", stringify!($name), "` with the given learning rate and Keras's other defaults.")]
            pub fn new(learning_rate: f64) -> $crate::error::Result<$name> {
                <$config>::default()
                    .with_learning_rate(learning_rate)
                    .build()
            }

            #[doc = concat!("An `", stringify!($name), "` from a config, after validating every hyper-parameter.")]
            pub fn with_config(config: $config) -> $crate::error::Result<$name> {
                config.base.validate(Self::CLASS_NAME)?;
                $crate::optimizer_config::OptimizerConfig::check(&config)?;
                Ok(Self::assemble(config))
            }

            /// The optimizer of an already validated config, before its first step.
            fn assemble(config: $config) -> $name {
                let slots = $crate::optimizer_config::OptimizerConfig::slots(&config)
                    .with_leading(config.base.base_slots());
                $name {
                    config,
                    state: $crate::base::BaseState::new(slots),
                }
            }

            /// The current hyper-parameters (the learning rate included).
            pub fn settings(&self) -> &$config {
                &self.config
            }
        }

        impl Default for $name {
            #[doc = concat!("Keras 3's defaults (see [`", stringify!($config), "`]).")]
            fn default() -> Self {
                Self::assemble(<$config>::default())
            }
        }

        impl $crate::optimizer::Optimizer for $name {
            fn class_name(&self) -> &'static str {
                Self::CLASS_NAME
            }

            fn name(&self) -> &str {
                self.config.base.name_or(Self::DEFAULT_NAME)
            }

            fn learning_rate(&self) -> f64 {
                self.config.base.rate_at(self.state.iterations)
            }

            fn schedule(&self) -> Option<&$crate::schedules::LearningRateSchedule> {
                self.config.base.schedule.as_ref()
            }

            fn set_learning_rate(&mut self, learning_rate: f64) -> $crate::error::Result<()> {
                if let Some(schedule) = &self.config.base.schedule {
                    return Err($crate::error::OptimError::LearningRateNotSettable {
                        optimizer: Self::CLASS_NAME,
                        schedule: schedule.class_name(),
                        value: learning_rate,
                    });
                }
                $crate::base::check_learning_rate(Self::CLASS_NAME, learning_rate)?;
                self.config.base.learning_rate = $crate::base::float32_rate(learning_rate);
                Ok(())
            }

            fn iterations(&self) -> u64 {
                self.state.iterations
            }

            fn apply_gradients(
                &mut self,
                params: &mut [&mut ndarray::ArrayD<f32>],
                grads: &[&ndarray::ArrayD<f32>],
            ) -> $crate::error::Result<()> {
                let grads: Vec<rkeras_tensor::GradientRef<'_>> =
                    grads.iter().map(|g| rkeras_tensor::GradientRef::Dense(g)).collect();
                $crate::optimizer::Optimizer::apply(self, params, &grads)
            }

            fn apply(
                &mut self,
                params: &mut [&mut ndarray::ArrayD<f32>],
                grads: &[rkeras_tensor::GradientRef<'_>],
            ) -> $crate::error::Result<()> {
                let exact_rows =
                    $crate::optimizer_config::OptimizerConfig::zero_gradient_keeps_state(&self.config);
                if let Some(schedule) = &self.config.base.schedule {
                    // Keras evaluates the schedule on the raw iteration count before the step.
                    self.config.base.learning_rate = f64::from(schedule.value(self.state.iterations));
                }
                let update = $crate::optimizer_config::OptimizerConfig::update_step(
                    &self.config,
                    self.config.base.effective_iterations(self.state.iterations),
                );
                self.state
                    .step(Self::CLASS_NAME, &self.config.base, params, grads, exact_rows, update)
            }

            fn config(&self) -> serde_json::Value {
                let mut map = self.config.base.keras_config(Self::DEFAULT_NAME);
                for (key, value) in
                    $crate::optimizer_config::OptimizerConfig::keras_entries(&self.config)
                {
                    map.insert(key.into(), value);
                }
                serde_json::Value::Object(map)
            }

            fn slot_names(&self) -> Vec<&'static str> {
                self.state.slots.names().to_vec()
            }

            fn state(&self) -> $crate::optimizer::OptimizerState {
                // With a schedule Keras keeps no learning-rate variable.
                let rate = self.config.base.schedule.is_none().then(|| self.config.base.rate());
                self.state.state(rate)
            }

            fn load_state(
                &mut self,
                state: &$crate::optimizer::OptimizerState,
            ) -> $crate::error::Result<()> {
                if let Some(learning_rate) = self.state.load_state(Self::CLASS_NAME, state)? {
                    if self.config.base.schedule.is_none() {
                        self.config.base.learning_rate = learning_rate;
                    }
                }
                Ok(())
            }

            fn finalize_variable_values(
                &mut self,
                params: &mut [&mut ndarray::ArrayD<f32>],
            ) -> $crate::error::Result<()> {
                self.state.finalize(Self::CLASS_NAME, &self.config.base, params)
            }

            fn exclude_from_weight_decay(&mut self, var_names: &[&str]) -> $crate::error::Result<()> {
                let built = self.state.slots.built().is_some();
                self.state.decay_exclusions.set(Self::CLASS_NAME, var_names, built)
            }

            fn weight_decay_exclusions(&self) -> &[String] {
                self.state.decay_exclusions.patterns()
            }

            fn name_variables(&mut self, names: &[&str]) {
                self.state.decay_exclusions.name_variables(names);
            }

            fn exclude_from_weight_decay_with(
                &mut self,
                var_list: &[rkeras_tensor::Variable],
                var_names: &[&str],
            ) -> $crate::error::Result<()> {
                let built = self.state.slots.built().is_some();
                let ids: Vec<rkeras_tensor::TensorId> = var_list.iter().map(|v| v.id()).collect();
                self.state.decay_exclusions.set_with(Self::CLASS_NAME, &ids, var_names, built)
            }

            fn excludes_from_weight_decay(&self) -> bool {
                self.state.decay_exclusions.any()
            }

            fn identify_variables(&mut self, names: &[&str], ids: &[rkeras_tensor::TensorId]) {
                self.state.decay_exclusions.identify_variables(names, ids);
            }

            fn clone_box(&self) -> Box<dyn $crate::optimizer::Optimizer> {
                Box::new(self.clone())
            }
        }
    };
}
pub(crate) use optimizer;
