//! BUILDKIT_FRONTEND_OPT_* → typed options.
