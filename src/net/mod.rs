//! Networking (TCP).
