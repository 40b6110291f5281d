use super::{Effect, Msg, State};
pub fn update(_s: &mut State, _m: Msg) -> Vec<Effect> { Vec::new() }
pub fn settle(_s: &mut State) {}
