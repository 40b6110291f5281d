//! Decoding `/api/v1/query` answers (pure): the JSON envelope, vector samples whose values are
//! strings ("0.001", "NaN", "+Inf"), and error bodies.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::PromError;
use super::query::WINDOW_LABEL;

#[derive(Debug, Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Vector(Vec<VectorSample>),
    Scalar(serde::de::IgnoredAny),
    Matrix(serde::de::IgnoredAny),
    String(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
struct VectorSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    /// `[unix seconds, "value"]`.
    value: (f64, String),
}

/// A Prometheus sample value: "NaN", "+Inf", "-Inf" or a decimal.
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// The value of every sample by its `window` label. Several samples for one window (should
/// not happen: the query aggregates) keep the largest, the conservative reading for alerts.
/// Values are returned as sent (NaN included); see [`ratio`].
pub fn decode(status: u16, body: &[u8]) -> Result<BTreeMap<String, f64>, PromError> {
    let env: Envelope = match serde_json::from_slice(body) {
        Ok(env) => env,
        Err(e) if (200..300).contains(&status) => {
            return Err(PromError::Decode(format!(
                "not a Prometheus API answer: {e}"
            )));
        }
        Err(_) => {
            return Err(PromError::Http {
                status,
                body: snippet(body),
            });
        }
    };
    if env.status != "success" {
        return Err(PromError::Query {
            status,
            error_type: env.error_type.unwrap_or_default(),
            message: env.error.unwrap_or_default(),
        });
    }
    let samples = match env.data {
        Some(Data::Vector(samples)) => samples,
        Some(_) => return Err(PromError::Decode("result is not an instant vector".into())),
        None => return Err(PromError::Decode("no data in a successful answer".into())),
    };
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for s in samples {
        let Some(window) = s.metric.get(WINDOW_LABEL) else {
            continue;
        };
        let v = parse_value(&s.value.1).ok_or_else(|| {
            PromError::Decode(format!(
                "bad sample value {:?}",
                snippet(s.value.1.as_bytes())
            ))
        })?;
        out.entry(window.clone())
            .and_modify(|old| {
                if v > *old || old.is_nan() {
                    *old = v;
                }
            })
            .or_insert(v);
    }
    Ok(out)
}

/// An error ratio as the core takes it: a finite number, or None (NaN from 0/0, ±Inf, or
/// no sample). Missing data is never turned into 0.
pub fn ratio(v: Option<f64>) -> Option<f64> {
    v.filter(|r| r.is_finite())
}

/// At most 200 characters of a body, for error messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(200).collect();
    if text.chars().nth(200).is_some() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_samples_by_window() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"window":"5m"},"value":[1764145200.5,"0.0144"]},
            {"metric":{"window":"1h"},"value":[1764145200.5,"NaN"]},
            {"metric":{"window":"3d"},"value":[1764145200.5,"+Inf"]},
            {"metric":{"__name__":"x","window":"30m"},"value":[1764145200.5,"1e-3"]},
            {"metric":{},"value":[1764145200.5,"7"]}
        ]}}"#;
        let m = decode(200, body).unwrap();
        assert_eq!(m.get("5m"), Some(&0.0144));
        assert!(m["1h"].is_nan());
        assert_eq!(m.get("3d"), Some(&f64::INFINITY));
        assert_eq!(m.get("30m"), Some(&0.001));
        assert_eq!(m.len(), 4);
        assert_eq!(ratio(m.get("5m").copied()), Some(0.0144));
        assert_eq!(ratio(m.get("1h").copied()), None);
        assert_eq!(ratio(m.get("3d").copied()), None);
        assert_eq!(ratio(m.get("6h").copied()), None);
    }

    #[test]
    fn empty_vector_is_no_data_not_zero() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(decode(200, body).unwrap().is_empty());
    }

    #[test]
    fn duplicate_windows_keep_the_largest() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"window":"5m","a":"1"},"value":[1,"0.1"]},
            {"metric":{"window":"5m","a":"2"},"value":[1,"0.3"]}]}}"#;
        assert_eq!(decode(200, body).unwrap()["5m"], 0.3);
    }

    #[test]
    fn error_answers_are_typed() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#;
        let e = decode(400, body).unwrap_err();
        assert!(matches!(e, PromError::Query { status: 400, .. }), "{e:?}");
        assert!(e.to_string().contains("parse error at char 3"), "{e}");

        let e = decode(502, b"<html>Bad Gateway</html>").unwrap_err();
        assert!(matches!(e, PromError::Http { status: 502, .. }), "{e:?}");

        let e = decode(
            200,
            b"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"1\"]}}",
        )
        .unwrap_err();
        assert!(matches!(e, PromError::Decode(_)), "{e:?}");

        let e = decode(200, b"garbage").unwrap_err();
        assert!(matches!(e, PromError::Decode(_)), "{e:?}");

        let body = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"window":"5m"},"value":[1,"zero"]}]}}"#;
        assert!(matches!(
            decode(200, body).unwrap_err(),
            PromError::Decode(_)
        ));
    }

    #[test]
    fn values() {
        assert!(parse_value("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("0.25"), Some(0.25));
        assert_eq!(parse_value(""), None);
    }
}
