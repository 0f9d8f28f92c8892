//! The few TensorFlow protobuf messages an event file holds (`event.proto`, `summary.proto`, `tensor.proto`,
//! `tensor_shape.proto`), with prost derives and TensorFlow's field numbers; fields rkeras never writes are left out
//! (protobuf readers skip absent fields).

/// `tensorflow.Event`: one record of an event file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step the event belongs to.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event carries.
    #[prost(oneof = "What", tags = "3, 5")]
    pub what: Option<What>,
    /// Who wrote the file (set on the first event).
    #[prost(message, optional, tag = "10")]
    pub source_metadata: Option<SourceMetadata>,
}

/// `Event.what`: the event's payload.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum What {
    /// `brain.Event:2` on the first record of a file.
    #[prost(string, tag = "3")]
    FileVersion(String),
    /// Summary values.
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `tensorflow.SourceMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SourceMetadata {
    /// The writing library.
    #[prost(string, tag = "1")]
    pub writer: String,
}

/// `tensorflow.Summary`: a list of tagged values.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value`: one tagged value; TensorFlow 2 (and Keras 3) write every value as a tensor.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryValue {
    /// The tag (`epoch_loss`).
    #[prost(string, tag = "1")]
    pub tag: String,
    /// The tensor.
    #[prost(message, optional, tag = "8")]
    pub tensor: Option<TensorProto>,
    /// Which TensorBoard plugin shows it.
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
}

/// `tensorflow.SummaryMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryMetadata {
    /// The plugin.
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
}

/// `tensorflow.SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PluginData {
    /// `scalars`, `histograms`, `graph_keras_model`.
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    /// Plugin-specific content.
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// `tensorflow.DataType` values used here.
pub mod dtype {
    /// `DT_FLOAT`.
    pub const FLOAT: i32 = 1;
    /// `DT_DOUBLE`.
    pub const DOUBLE: i32 = 2;
    /// `DT_STRING`.
    pub const STRING: i32 = 7;
}

/// `tensorflow.TensorProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// A [`dtype`] value.
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    /// The shape (empty for a scalar).
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    /// The values' little-endian bytes, row-major (numeric dtypes).
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
    /// The values of a string tensor.
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

/// `tensorflow.TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// The dimensions.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
}

/// `tensorflow.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dim {
    /// The dimension's size.
    #[prost(int64, tag = "1")]
    pub size: i64,
}
