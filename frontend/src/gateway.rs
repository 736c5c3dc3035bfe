//! The LLBBridge client.
