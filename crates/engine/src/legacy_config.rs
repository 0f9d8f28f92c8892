//! The model config as written into a legacy `.h5` file, shaped for Keras 3's legacy reader.
//!
//! That reader turns every string in a layer config that names a function of `keras.layers` into the
//! function, so `Attention`'s `score_mode: "dot"` becomes `keras.layers.dot` and the layer fails to load (Keras
//! 3.15 cannot read its own legacy file of such a layer). `"dot"` is `Attention`'s default, so it is left out,
//! and Keras and rkeras both read the missing key as `"dot"`.

use serde_json::Value;

/// `config` with every `Attention` layer's `score_mode: "dot"` removed, in nested models and wrappers too.
pub(crate) fn for_legacy_reader(mut config: Value) -> Value {
    strip_default_dot(&mut config);
    config
}

fn strip_default_dot(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("class_name").and_then(Value::as_str) == Some("Attention")
                && let Some(Value::Object(config)) = map.get_mut("config")
                && config.get("score_mode").and_then(Value::as_str) == Some("dot")
            {
                config.remove("score_mode");
            }
            map.values_mut().for_each(strip_default_dot);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_default_dot),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_attentions_default_dot_score_mode_is_left_out() {
        let config = json!({"class_name": "Functional", "config": {"layers": [
            {"class_name": "Attention", "config": {"name": "a", "score_mode": "dot", "use_scale": true}},
            {"class_name": "Attention", "config": {"name": "b", "score_mode": "concat"}},
            {"class_name": "Sequential", "config": {"layers": [
                {"class_name": "Attention", "config": {"name": "c", "score_mode": "dot"}}]}},
            {"class_name": "Dense", "config": {"name": "dot", "score_mode": "dot"}},
        ]}});
        let out = for_legacy_reader(config);
        let layers = &out["config"]["layers"];
        assert_eq!(layers[0]["config"], json!({"name": "a", "use_scale": true}));
        assert_eq!(layers[1]["config"]["score_mode"], "concat");
        assert_eq!(
            layers[2]["config"]["layers"][0]["config"],
            json!({"name": "c"})
        );
        assert_eq!(layers[3]["config"]["score_mode"], "dot");
    }
}
