//! How things look: colour, durations, shortened text, and JSON for machines.
//!
//! # Architecture
//! - [`terminal`]: colour (only when asked, or on a terminal without NO_COLOR), durations,
//!   offsets and text shortening shared by every text view.
//! - [`escape`]: keeping control characters a session recorded away from the terminal.
//! - [`html`]: the self-contained HTML page of the replay and share pages.
//! - [`json`]: writing a report as JSON.
//! - [`replay`]: a replay line on a terminal.
//! - [`dashboard`]: the dashboard and its trend on a terminal, with sparklines.
//! - [`dashboard_html`]: the dashboard and its trend as a self-contained HTML page with SVG charts.

pub mod dashboard;
pub mod dashboard_html;
pub mod escape;
pub mod html;
pub mod json;
pub mod replay;
pub mod terminal;
