//! `temporis-aivm`: tools for AIVM models.

fn main() {}
