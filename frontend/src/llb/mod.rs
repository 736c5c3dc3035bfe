//! LLB: immutable states, ops, and their marshalling into a Definition.
