//! Generators of hostile Kubernetes JSON: Rollout, Deployment, ReplicaSet, Canary,
//! AnalysisRun and Event objects whose every field may be an extreme or negative integer, a
//! huge or malformed timestamp or duration, the wrong JSON type, or missing; strings carry
//! ANSI/OSC/C1/bidi/zero-width characters, and [`inject_big`] plants a 1 MiB one.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

type S = BoxedStrategy<Value>;
type Field = BoxedStrategy<Option<(String, Value)>>;

/// Characters a hostile object carries (escape sequences, C1, bidi, zero-width, tags).
const HOSTILE: &[&str] = &[
    "\x1b[31m",
    "\x1b]0;pwned\x07",
    "\x1b]8;;http://x\x1b\\",
    "\u{9b}2J",
    "\u{85}",
    "\u{202e}",
    "\u{2066}",
    "\u{200b}",
    "\u{feff}",
    "\u{61c}",
    "\u{ad}",
    "\u{e0041}",
    "\r\n",
    "\t",
    "\0",
    "界",
    "👩‍👩‍👧",
    "e\u{301}",
];

/// Mostly numbers the field's type holds (so the object reaches derivation with extreme
/// values), sometimes ones it cannot (so it is shown unparseable).
pub fn int() -> S {
    prop_oneof![
        12 => (0i64..40).prop_map(Value::from),
        4 => prop::sample::select(vec![
            0,
            1,
            100,
            101,
            1000,
            i64::from(i32::MAX),
            i64::from(i32::MAX) - 1,
        ])
        .prop_map(Value::from),
        1 => prop::sample::select(vec![-1, i64::from(i32::MIN), -3]).prop_map(Value::from),
        1 => prop_oneof![
            prop::sample::select(vec![
                i64::MIN,
                i64::MAX,
                i64::from(i32::MAX) + 1,
                i64::from(u32::MAX),
                i64::from(u32::MAX) + 1,
            ])
            .prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            Just(Value::from(u64::MAX)),
            prop::sample::select(vec![1e308, -1e308, 0.5, -0.0, 3.0]).prop_map(Value::from),
        ],
    ]
    .boxed()
}

pub fn hostile_text() -> S {
    prop::collection::vec(
        prop_oneof![
            3 => "[a-z0-9.-]{0,8}".boxed(),
            2 => prop::sample::select(HOSTILE).prop_map(str::to_string).boxed(),
            1 => any::<char>().prop_map(String::from).boxed(),
        ],
        0..6,
    )
    .prop_map(|parts| Value::from(parts.concat()))
    .boxed()
}

pub fn text() -> S {
    prop_oneof![3 => "[a-z][a-z0-9-]{0,10}".prop_map(Value::from), 1 => hostile_text()].boxed()
}

/// One of a few names, so objects link (owners, services, targets) as often as not.
fn pick(names: &'static [&'static str]) -> S {
    prop_oneof![
        6 => prop::sample::select(names).prop_map(Value::from),
        1 => text(),
    ]
    .boxed()
}

pub fn timestamp() -> S {
    prop_oneof![
        3 => (-377_705_116_800i64..253_402_207_200).prop_map(|s| {
            jiff::Timestamp::from_second(s).map_or(Value::Null, |t| Value::from(t.to_string()))
        }),
        2 => prop::sample::select(vec![
            "9999-12-31T23:59:59Z",
            "-009999-01-01T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2026-11-26T08:16:42Z",
            "2026-11-26T08:16:42.999999999+14:00",
            "+292277026596-12-04T15:30:07Z",
            "2026-13-45T99:99:99Z",
            "yesterday",
            "",
        ])
        .prop_map(Value::from),
        1 => int(),
    ]
    .boxed()
}

/// A time the API server could have written (0000 to 9999), now and then a malformed one.
fn server_time() -> S {
    prop_oneof![
        9 => prop_oneof![
            3 => (-62_167_219_200i64..253_402_300_799).prop_map(|s| {
                jiff::Timestamp::from_second(s).map_or(Value::Null, |t| Value::from(t.to_string()))
            }),
            1 => prop::sample::select(vec![
                "9999-12-31T23:59:59Z",
                "0000-01-01T00:00:00Z",
                "2026-11-26T08:16:42Z",
            ])
            .prop_map(Value::from),
        ],
        1 => timestamp(),
    ]
    .boxed()
}

pub fn duration() -> S {
    prop_oneof![
        2 => prop::sample::select(vec![
            "-9223372036854775808",
            "9223372036854775807",
            "2147483647",
            "2147483648",
            "-1",
            "30s",
            "1h30m",
            "1.5h",
            "1e308h",
            "9999999999999h",
            "2562048h",
            ".s",
            "-5m",
            "10d",
            "",
        ])
        .prop_map(Value::from),
        1 => int(),
        1 => "[0-9]{1,25}(ns|us|ms|s|m|h)?".prop_map(Value::from),
    ]
    .boxed()
}

/// Any JSON at all, for fields given the wrong type.
pub fn wrong() -> S {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        int(),
        text(),
        Just(json!([1, "x", null])),
        Just(json!({"a": {"b": []}})),
    ]
    .boxed()
}

/// A field that is usually `s`, sometimes of the wrong type, sometimes missing.
pub fn field(name: &str, s: S) -> Field {
    let name = name.to_string();
    prop_oneof![
        160 => s.prop_map(Some),
        1 => wrong().prop_map(Some),
        40 => Just(None),
    ]
    .prop_map(move |v| v.map(|v| (name.clone(), v)))
    .boxed()
}

pub fn obj(fields: Vec<Field>) -> S {
    fields
        .prop_map(|fs| Value::Object(fs.into_iter().flatten().collect::<Map<_, _>>()))
        .boxed()
}

fn list(s: S, max: usize) -> S {
    prop::collection::vec(s, 0..max)
        .prop_map(Value::from)
        .boxed()
}

fn boolean() -> S {
    any::<bool>().prop_map(Value::from).boxed()
}

/// Annotations are strings: a number generated for one is written as its digits.
fn as_text(s: S) -> S {
    s.prop_map(|v| match v {
        Value::String(_) => v,
        other => Value::from(other.to_string()),
    })
    .boxed()
}

fn metadata() -> S {
    let always = |name: &str, s: S| {
        let name = name.to_string();
        s.prop_map(move |v| Some((name.clone(), v))).boxed()
    };
    let owner = obj(vec![
        always(
            "apiVersion",
            Just(Value::from("argoproj.io/v1alpha1")).boxed(),
        ),
        always("kind", pick(&["Rollout", "Deployment", "ReplicaSet"])),
        always("name", pick(&["checkout", "cart"])),
        always("uid", pick(&["u1", "u2", "u3"])),
        field("controller", boolean()),
    ]);
    let labels = obj(vec![
        field("app.kubernetes.io/name", pick(&["checkout", "cart"])),
        field("pod-template-hash", pick(&["h1", "h2"])),
        field("rollouts-pod-template-hash", pick(&["h1", "h2"])),
        field("app.kubernetes.io/instance", text()),
        field("argocd.argoproj.io/instance", text()),
    ]);
    let annotations = obj(vec![
        field("deployment.kubernetes.io/revision", as_text(duration())),
        field("rollout.argoproj.io/revision", as_text(duration())),
        field("argocd.argoproj.io/tracking-id", text()),
    ]);
    obj(vec![
        field(
            "name",
            pick(&["checkout", "cart", "checkout-h1", "checkout-h2"]),
        ),
        field("namespace", pick(&["shop", "web"])),
        field("uid", pick(&["u1", "u2", "u3"])),
        field("resourceVersion", as_text(int())),
        field("generation", int()),
        field("creationTimestamp", server_time()),
        field("labels", labels),
        field("annotations", annotations),
        field("ownerReferences", list(owner, 3)),
    ])
}

fn condition() -> S {
    obj(vec![
        field(
            "type",
            pick(&["Progressing", "Available", "Paused", "Promoted"]),
        ),
        field("status", pick(&["True", "False", "Unknown"])),
        field(
            "reason",
            pick(&["ProgressDeadlineExceeded", "RolloutAborted"]),
        ),
        field("message", text()),
        field("lastTransitionTime", server_time()),
        field("lastUpdateTime", server_time()),
    ])
}

fn template() -> S {
    let container = obj(vec![field("name", text()), field("image", text())]);
    obj(vec![
        field(
            "metadata",
            obj(vec![field(
                "annotations",
                obj(vec![field(
                    "kubectl.kubernetes.io/restartedAt",
                    timestamp(),
                )]),
            )]),
        ),
        field("spec", obj(vec![field("containers", list(container, 3))])),
    ])
}

fn kind(api_version: &'static str, kind: &'static str, spec: S, status: S) -> S {
    obj(vec![
        Just(Some(("apiVersion".into(), Value::from(api_version)))).boxed(),
        Just(Some(("kind".into(), Value::from(kind)))).boxed(),
        field("metadata", metadata()),
        field("spec", spec),
        field("status", status),
    ])
}

pub fn step() -> S {
    let pause = obj(vec![field("duration", duration())]);
    let analysis = obj(vec![field(
        "templates",
        list(obj(vec![field("templateName", text())]), 3),
    )]);
    prop_oneof![
        obj(vec![field("setWeight", int())]),
        obj(vec![field("pause", pause)]),
        obj(vec![field("analysis", analysis)]),
        Just(json!({"experiment": {}})),
        Just(json!({"setCanaryScale": {"weight": 5}})),
        Just(json!({"setHeaderRoute": {}})),
        Just(json!({})),
    ]
    .boxed()
}

/// Thousands of steps, cheaply: each is one of a few shapes with an extreme number in it.
pub fn many_steps(min: usize, max: usize) -> BoxedStrategy<Vec<Value>> {
    const NUMBERS: &[i64] = &[i64::MIN, -1, 0, 20, 100, 101, i32::MAX as i64, i64::MAX];
    const DURATIONS: &[&str] = &["-9223372036854775808", "2147483648", "30s", "1e308h", "x"];
    prop::collection::vec(any::<(u8, u8)>(), min..max)
        .prop_map(|picks| {
            picks
                .into_iter()
                .map(|(shape, n)| {
                    let number = NUMBERS[usize::from(n) % NUMBERS.len()];
                    let text = DURATIONS[usize::from(n) % DURATIONS.len()];
                    match shape % 6 {
                        0 => json!({"setWeight": number}),
                        1 => json!({"pause": {"duration": text}}),
                        2 => json!({"pause": {"duration": number}}),
                        3 => json!({"pause": {}}),
                        4 => json!({"analysis": {"templates": [{"templateName": text}]}}),
                        _ => json!({"setMirrorRoute": {"name": text}}),
                    }
                })
                .collect()
        })
        .boxed()
}

/// A Rollout with up to `max_steps` steps.
pub fn rollout(max_steps: usize) -> S {
    let strategy = obj(vec![
        field(
            "canary",
            obj(vec![
                field("steps", list(step(), max_steps)),
                field("trafficRouting", wrong()),
            ]),
        ),
        field("blueGreen", Just(json!({"activeService": "a"})).boxed()),
    ]);
    let spec = obj(vec![
        field("replicas", int()),
        field("paused", boolean()),
        field("strategy", strategy),
        field("template", template()),
        field("restartAt", timestamp()),
    ]);
    let run = obj(vec![
        field("name", text()),
        field(
            "status",
            pick(&["Running", "Successful", "Failed", "Error"]),
        ),
        field("message", text()),
    ]);
    let canary = obj(vec![
        field("currentStepAnalysisRunStatus", run.clone()),
        field("currentBackgroundAnalysisRunStatus", run),
        field(
            "weights",
            obj(vec![field("canary", obj(vec![field("weight", int())]))]),
        ),
    ]);
    let pause = obj(vec![
        field(
            "reason",
            pick(&[
                "CanaryPauseStep",
                "BlueGreenPause",
                "InconclusiveAnalysisRun",
            ]),
        ),
        field("startTime", timestamp()),
    ]);
    let status = obj(vec![
        field("abort", boolean()),
        field("pauseConditions", list(pause, 3)),
        field("controllerPause", boolean()),
        field("currentPodHash", pick(&["h1", "h2"])),
        field("stableRS", pick(&["h1", "h2"])),
        field("replicas", int()),
        field("updatedReplicas", int()),
        field("readyReplicas", int()),
        field("availableReplicas", int()),
        field("currentStepIndex", int()),
        field("observedGeneration", int()),
        field("conditions", list(condition(), 3)),
        field("canary", canary),
        field(
            "phase",
            pick(&["Healthy", "Paused", "Degraded", "Progressing"]),
        ),
        field("message", text()),
    ]);
    kind("argoproj.io/v1alpha1", "Rollout", spec, status)
}

fn replica_counts(extra: Vec<Field>) -> S {
    let mut fields = vec![
        field("replicas", int()),
        field("updatedReplicas", int()),
        field("readyReplicas", int()),
        field("availableReplicas", int()),
        field("observedGeneration", int()),
        field("conditions", list(condition(), 3)),
    ];
    fields.extend(extra);
    obj(fields)
}

pub fn deployment() -> S {
    let spec = obj(vec![
        field("replicas", int()),
        field("paused", boolean()),
        field(
            "strategy",
            obj(vec![field("type", pick(&["RollingUpdate", "Recreate"]))]),
        ),
        field("template", template()),
        field("progressDeadlineSeconds", int()),
    ]);
    kind("apps/v1", "Deployment", spec, replica_counts(Vec::new()))
}

pub fn replica_set() -> S {
    let spec = obj(vec![
        field("replicas", int()),
        field("template", template()),
    ]);
    kind("apps/v1", "ReplicaSet", spec, replica_counts(Vec::new()))
}

pub fn canary() -> S {
    let webhook = obj(vec![
        field("name", text()),
        field(
            "type",
            pick(&["rollback", "pre-rollout", "confirm-promotion"]),
        ),
        field("url", text()),
    ]);
    let analysis = obj(vec![
        field("maxWeight", int()),
        field("stepWeight", int()),
        field("threshold", int()),
        field("iterations", int()),
        field("webhooks", list(webhook, 3)),
    ]);
    let spec = obj(vec![
        field(
            "targetRef",
            obj(vec![
                field("kind", pick(&["Deployment"])),
                field("name", pick(&["checkout"])),
            ]),
        ),
        field("suspend", boolean()),
        field("skipAnalysis", boolean()),
        field("analysis", analysis),
    ]);
    let status = obj(vec![
        field(
            "phase",
            pick(&["Progressing", "Succeeded", "Failed", "Waiting"]),
        ),
        field("canaryWeight", int()),
        field("failedChecks", int()),
        field("iterations", int()),
        field("lastTransitionTime", timestamp()),
        field("conditions", list(condition(), 2)),
    ]);
    kind("flagger.app/v1beta1", "Canary", spec, status)
}

pub fn analysis_run() -> S {
    let measurement = obj(vec![
        field("value", text()),
        field("phase", text()),
        field("startedAt", timestamp()),
    ]);
    let metric = obj(vec![
        field("name", text()),
        field(
            "phase",
            pick(&["Running", "Successful", "Failed", "Inconclusive"]),
        ),
        field("successful", int()),
        field("failed", int()),
        field("inconclusive", int()),
        field("count", int()),
        field("measurements", list(measurement, 4)),
    ]);
    let status = obj(vec![
        field("phase", pick(&["Running", "Successful", "Failed", "Error"])),
        field("message", text()),
        field("metricResults", list(metric, 3)),
    ]);
    kind(
        "argoproj.io/v1alpha1",
        "AnalysisRun",
        Just(json!({})).boxed(),
        status,
    )
}

pub fn event() -> S {
    let involved = obj(vec![
        field("kind", pick(&["Rollout", "Deployment", "Pod"])),
        field("name", pick(&["checkout", "cart"])),
        field("namespace", pick(&["shop", "web"])),
    ]);
    let series = obj(vec![
        field("count", int()),
        field("lastObservedTime", server_time()),
    ]);
    obj(vec![
        Just(Some(("apiVersion".into(), Value::from("v1")))).boxed(),
        Just(Some(("kind".into(), Value::from("Event")))).boxed(),
        field("metadata", metadata()),
        field("type", pick(&["Warning", "Normal"])),
        field("reason", text()),
        field("message", text()),
        field("count", int()),
        field("firstTimestamp", server_time()),
        field("lastTimestamp", server_time()),
        field("eventTime", server_time()),
        field("series", series),
        field("involvedObject", involved),
    ])
}

/// Any of the six kinds.
pub fn any_object() -> S {
    prop_oneof![
        3 => rollout(12),
        2 => deployment(),
        2 => replica_set(),
        2 => canary(),
        1 => analysis_run(),
        2 => event(),
    ]
    .boxed()
}

/// A 1 MiB hostile string: every character class above, repeated.
pub fn big_string() -> String {
    let chunk: String = HOSTILE.concat();
    let mut s = String::with_capacity(1 << 20);
    while s.len() < (1 << 20) {
        s.push_str(&chunk);
    }
    s
}

/// Replace the `n`th string leaf (modulo their number) of `v` with `big`.
pub fn inject_big(v: &mut Value, n: usize, big: &str) {
    fn leaves<'a>(v: &'a mut Value, out: &mut Vec<&'a mut String>) {
        match v {
            Value::String(s) => out.push(s),
            Value::Array(a) => a.iter_mut().for_each(|x| leaves(x, out)),
            Value::Object(o) => o.values_mut().for_each(|x| leaves(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    leaves(v, &mut all);
    let len = all.len();
    if let Some(s) = all.into_iter().nth(n % len.max(1)) {
        *s = big.to_string();
    }
}
