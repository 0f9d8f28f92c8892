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
                let slots = $crate::optimizer_config::OptimizerConfig::slots(&config);
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
                self.config.base.rate()
            }

            fn set_learning_rate(&mut self, learning_rate: f64) -> $crate::error::Result<()> {
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
                let update = $crate::optimizer_config::OptimizerConfig::update_step(
                    &self.config,
                    self.state.iterations,
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
                self.state.state(self.config.base.rate())
            }

            fn load_state(
                &mut self,
                state: &$crate::optimizer::OptimizerState,
            ) -> $crate::error::Result<()> {
                if let Some(learning_rate) = self.state.load_state(Self::CLASS_NAME, state)? {
                    self.config.base.learning_rate = learning_rate;
                }
                Ok(())
            }

            fn clone_box(&self) -> Box<dyn $crate::optimizer::Optimizer> {
                Box::new(self.clone())
            }
        }
    };
}
pub(crate) use optimizer;
