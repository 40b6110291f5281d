//! core/v1 Event of type Warning → `WarningEvent`. Events written through events.k8s.io/v1
//! show up here with `series` and `eventTime` instead of `count` and `lastTimestamp`.

use k8s_openapi::api::core::v1::Event;

use crate::core::facts::WarningEvent;
use crate::core::text::Untrusted;

/// None for anything but a Warning.
pub fn warning_event(e: &Event) -> Option<WarningEvent> {
    if e.type_.as_deref() != Some("Warning") {
        return None;
    }
    let series = e.series.as_ref();
    let count = e
        .count
        .or(series.and_then(|s| s.count))
        .and_then(|c| u32::try_from(c).ok())
        .unwrap_or(1)
        .max(1);
    let last_seen = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or(series
            .and_then(|s| s.last_observed_time.as_ref())
            .map(|t| t.0))
        .or(e.event_time.as_ref().map(|t| t.0))
        .or(e.first_timestamp.as_ref().map(|t| t.0))
        .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0));
    let involved = &e.involved_object;
    Some(WarningEvent {
        namespace: involved
            .namespace
            .clone()
            .or_else(|| e.metadata.namespace.clone())
            .unwrap_or_default(),
        object_kind: involved.kind.clone().unwrap_or_default(),
        object_name: involved.name.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        message: Untrusted::message(e.message.clone().unwrap_or_default()),
        count,
        last_seen,
    })
}
